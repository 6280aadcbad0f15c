"""The forward process of a pair: closed form = iteration, posterior = Bayes, the loss."""
import pytest
import torch

import mmdiff_lite as mm

N = 200_000  # samples for the regression check; standard error of a mean ~ 2e-3
N_ITER = 20_000  # samples for the 1000-step iteration (se of the mean ~ 7e-3, of the variance ~ 1%)


def _pair(n, gen):
    return {"video": torch.full((n, 1), 0.7, dtype=torch.float64), "audio": torch.full((n, 1), -0.4, dtype=torch.float64)}


@pytest.mark.parametrize("t", [0, 10, 250, 999])
def test_closed_form_equals_iterating_one_step_process(t):
    s = mm.linear_schedule()
    g = torch.Generator().manual_seed(t)
    x0 = _pair(N_ITER, g)
    x = dict(x0)
    for k in range(t + 1):  # apply q(x_k | x_{k-1}) for k = 0..t
        x = mm.q_step(x, k, s, generator=g)
    xt, _ = mm.q_sample(x0, torch.full((N_ITER,), float(t)), s, generator=g)
    ab = s.alphas_cumprod[t].item()
    for key in x0:
        m0 = x0[key][0, 0].item()
        for sample in (x[key], xt[key]):
            assert sample.mean().item() == pytest.approx(ab**0.5 * m0, abs=0.03)
            assert sample.var().item() == pytest.approx(1 - ab, rel=0.05, abs=2e-5)


def test_q_sample_shares_t_but_not_noise():
    s = mm.linear_schedule()
    g = torch.Generator().manual_seed(0)
    x0 = {"video": torch.zeros(4, 2, 3, 5, 5), "audio": torch.zeros(4, 1, 64)}
    t = torch.tensor([0.0, 100.0, 500.0, 999.0])
    xt, eps = mm.q_sample(x0, t, s, generator=g)
    for k in x0:  # x_t = sqrt(1 - ab_t) eps when x0 = 0, per sample with its own t
        sig = (1 - s.alpha_bar(t)).sqrt().float().reshape(-1, *[1] * (x0[k].ndim - 1))
        torch.testing.assert_close(xt[k], sig * eps[k])
    assert not torch.allclose(eps["video"].flatten()[:64], eps["audio"].flatten()[:64])


def test_posterior_is_the_conditional_of_the_joint():
    """Draw (x_{t-1}, x_t) from the forward process given x0 and regress x_{t-1} on x_t:
    slope, intercept and residual variance must equal q_posterior's coefficients."""
    s = mm.linear_schedule()
    t = 300
    g = torch.Generator().manual_seed(1)
    x0 = {"a": torch.full((N, 1), 0.8, dtype=torch.float64)}
    prev, _ = mm.q_sample(x0, float(t - 1), s, generator=g)
    xt = mm.q_step(prev, t, s, generator=g)
    X, Y = xt["a"][:, 0], prev["a"][:, 0]
    slope = ((X - X.mean()) * (Y - Y.mean())).mean() / X.var()
    intercept = Y.mean() - slope * X.mean()
    resid = (Y - intercept - slope * X).var()
    # posterior mean at x_t = 0 gives the intercept; at x_t = 1 the intercept plus the slope
    m0, var = mm.q_posterior(x0, {"a": torch.zeros(N, 1, dtype=torch.float64)}, t, s)
    m1, _ = mm.q_posterior(x0, {"a": torch.ones(N, 1, dtype=torch.float64)}, t, s)
    assert intercept.item() == pytest.approx(m0["a"][0, 0].item(), abs=5e-3)
    assert slope.item() == pytest.approx((m1["a"] - m0["a"])[0, 0].item(), abs=5e-3)
    assert resid.item() == pytest.approx(var[0].item(), rel=0.02)
    with pytest.raises(ValueError, match="t >= 1"):
        mm.q_posterior(x0, x0, 0, s)


def test_predict_x0_inverts_q_sample():
    s = mm.cosine_schedule()
    x0 = {"video": torch.rand(3, 2, 3, 4, 4) * 2 - 1, "audio": torch.rand(3, 1, 32) * 2 - 1}
    t = torch.tensor([3.0, 400.5, 990.0])
    xt, eps = mm.q_sample(x0, t, s, generator=torch.Generator().manual_seed(0))
    back = mm.predict_x0(xt, eps, t, s)
    for k in x0:
        torch.testing.assert_close(back[k], x0[k], atol=1e-3, rtol=1e-3)


def test_epsilon_loss_sums_modalities_with_weights():
    g = torch.Generator().manual_seed(0)
    eps = {"video": torch.randn(4, 2, 3, 4, 4, generator=g), "audio": torch.randn(4, 1, 16, generator=g)}
    pred = {"video": eps["video"] + 1.0, "audio": eps["audio"] + 2.0}  # MSEs exactly 1 and 4
    assert mm.epsilon_loss(eps, eps).item() == 0.0
    assert mm.epsilon_loss(pred, eps).item() == pytest.approx(5.0)
    assert mm.epsilon_loss(pred, eps, weights={"audio": 0.5}).item() == pytest.approx(3.0)
    t = torch.tensor([0, 1, 2, 3])
    lam = lambda tt: (tt + 1).float()  # mean of lambda = 2.5
    assert mm.epsilon_loss(pred, eps, t, lambda_t=lam).item() == pytest.approx(12.5)
    per = mm.epsilon_loss(pred, eps, reduce=False)
    assert per["audio"].shape == (4,) and torch.allclose(per["audio"], torch.full((4,), 4.0))


def test_v_target_and_eps_from_v_invert_each_other_and_recover_x0():
    """v = sqrt(ab) eps - sqrt(1-ab) x0; eps_from_v(x_t, v) gives eps back and sqrt(ab) x_t - sqrt(1-ab) v = x0."""
    s = mm.linear_schedule()
    g = torch.Generator().manual_seed(3)
    x0 = {"video": torch.rand(4, 2, 3, 4, 4, generator=g) * 2 - 1, "audio": torch.rand(4, 1, 32, generator=g) * 2 - 1}
    t = torch.tensor([0.0, 10.5, 500.0, 999.0], dtype=torch.float64)
    xt, eps = mm.q_sample(x0, t, s, generator=g)
    v = mm.v_target(x0, eps, t, s)
    back = mm.eps_from_v(xt, v, t, s)
    ab = s.alpha_bar(t)
    for k in x0:
        assert torch.allclose(back[k], eps[k], atol=1e-5)
        a = ab.sqrt().float().view(-1, *[1] * (x0[k].ndim - 1))
        assert torch.allclose(a * xt[k] - (1 - a**2).sqrt() * v[k], x0[k], atol=1e-4)
    # at t = T-1 almost all signal is gone: v is -x0 up to sqrt(ab) ~ 6e-3
    assert torch.allclose(v["audio"][3], -x0["audio"][3], atol=0.03)
    # at t = 0 (ab = 1 - 1e-4) v is eps up to 1e-2
    assert torch.allclose(v["video"][0], eps["video"][0], atol=0.03)
