"""The sampler seam and zero-shot conditioning: replacement and gradient guidance (paper section 3.4)."""
import math

import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.diffusion.guidance import guidance_gradient, paper_guidance_weight

S = mm.linear_schedule()
TOY = mm.diffusion.CorrelatedGaussian(0.9)
SHAPES = {"audio": (512, 1), "video": (512, 1)}
RUNS = [("ddpm", 100, {}), ("ddim", 20, {"eta": 0.5}), ("dpm_solver", 20, {"order": 3}),
        ("dpm_solver", 12, {"order": 2, "solver": "multistep"}), ("dpm_solver++", 20, {"order": 2}),
        ("dpm_solver++", 20, {"order": 2, "stochastic": True})]


def _run(method, steps, opts, transforms_of, n=512, seed=0):
    gen = torch.Generator().manual_seed(seed)
    shapes = {k: (n, 1) for k in SHAPES}
    x_T = mm.initial_noise(shapes, gen)
    return mm.sample(TOY.model_fn(S), shapes, schedule=S, method=method, steps=steps, x_T=x_T, generator=gen,
                     transforms=transforms_of(x_T), **opts)


def _given(n=512, value=1.5):
    return {"video": torch.full((n, 1), value)}


@pytest.mark.parametrize("method,steps,opts", RUNS)
def test_guidance_with_zero_strength_changes_nothing_bit_for_bit(method, steps, opts):
    plain = _run(method, steps, opts, lambda x_T: [])
    zero_alone = _run(method, steps, opts, lambda x_T: [mm.GradientGuidance(mm.Replacement(_given()), "audio", 0.0)])
    assert all(torch.equal(plain[k], zero_alone[k]) for k in plain)
    rep = lambda x_T: mm.diffusion.zero_shot_transforms(_given(), "audio", mm.Conditioning("replace"),
                                              fixed_noise={"video": x_T["video"].clone()})
    rep_zero = lambda x_T: mm.diffusion.zero_shot_transforms(_given(), "audio", mm.Conditioning("guide", 0.0),
                                                   fixed_noise={"video": x_T["video"].clone()})
    a, b = _run(method, steps, opts, rep), _run(method, steps, opts, rep_zero)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("method,steps,opts", RUNS)
@pytest.mark.parametrize("noise", ["fixed", "fresh"])
def test_replacement_returns_the_given_modality_exactly(method, steps, opts, noise):
    given = {"video": torch.linspace(-1, 1, 512)[:, None]}
    out = _run(method, steps, opts, lambda x_T: [mm.Replacement(given, noise=noise, generator=torch.Generator())])
    assert torch.equal(out["video"], given["video"])
    assert out["audio"].std() > 0.1


class _Counter(mm.diffusion.Transform):
    def __init__(self):
        self.times = []

    def model_input(self, x, info):
        self.times.append(info.t)
        return x


@pytest.mark.parametrize("method,steps,opts", RUNS)
def test_transforms_run_at_every_model_call(method, steps, opts):
    """DPM-Solver-3 single-step calls the network 3 times per outer step; a transform must see all of them."""
    counter, calls = _Counter(), []
    fn = TOY.model_fn(S)
    mm.sample(lambda x, t: calls.append(float(t[0])) or fn(x, t), {"audio": (4, 1), "video": (4, 1)}, schedule=S,
              method=method, steps=steps, generator=0, transforms=[counter], **opts)
    sampler = mm.make_sampler(method, S, steps, **opts)
    assert len(calls) == sampler.nfe == len(counter.times) == steps
    assert counter.times == pytest.approx(sampler.timesteps)
    assert calls == pytest.approx(sampler.timesteps, abs=1e-3)  # the model sees t in float32


def test_one_registry_feeds_the_benchmark_and_the_cli():
    from mmdiff_lite.commands.sample import register
    import argparse

    assert mm.SAMPLER_TABLE == mm.diffusion.benchmark_table()
    assert [row[1] for row in mm.SAMPLER_TABLE][0] == "ddpm"  # the benchmark's reference comes first
    sub = argparse.ArgumentParser().add_subparsers()
    register(sub)
    choices = next(a.choices for a in sub.choices["sample"]._actions if a.dest == "method")
    assert list(choices) == list(mm.METHODS)
    with pytest.raises(ValueError, match="has no option 'order'"):
        mm.make_sampler("ddpm", S, 10, order=2)
    with pytest.raises(ValueError, match="positive integer"):
        mm.make_sampler("ddim", S, 0)


def _tiny_net():
    torch.manual_seed(0)
    model = mm.build_model("tiny").double().eval()
    cfg = model.config
    gen = torch.Generator().manual_seed(1)
    x = {"video": torch.randn(2, *cfg.video_shape, generator=gen, dtype=torch.float64),
         "audio": torch.randn(2, *cfg.audio_shape, generator=gen, dtype=torch.float64)}
    fn = lambda x, t: model(x, t, shift_generator=torch.Generator().manual_seed(3))
    return fn, x


@pytest.mark.parametrize("form", ["paper", "reconstruction"])
def test_guidance_gradient_matches_finite_differences(form):
    fn, x = _tiny_net()
    given = {"audio": torch.rand_like(x["audio"]) * 2 - 1}
    rep = mm.Replacement(given)
    guide = mm.GradientGuidance(rep, "video", 1.0, form=form)
    info = mm.diffusion.CallInfo(0, 400.0, 380.0, S)
    x = rep.model_input(x, info)
    x = {k: v.detach().requires_grad_(k == "video") for k, v in x.items()}

    def loss_at(video):
        xx = {**x, "video": video}
        return guide.loss(xx, fn(xx, torch.full((2,), 400.0)), info)[0]

    loss = loss_at(x["video"])
    grad = guidance_gradient(loss, x["video"])
    d = torch.randn_like(x["video"])
    h = 1e-4
    with torch.no_grad():
        fd = (loss_at(x["video"] + h * d).sum() - loss_at(x["video"] - h * d).sum()) / (2 * h)
    assert float((grad.double() * d).sum()) == pytest.approx(float(fd), rel=1e-3)
    # the loss scale is divided back out (the authors' fp16 code leaves 2^20 in)
    assert torch.allclose(guidance_gradient(loss, x["video"], 2.0**20), grad, rtol=1e-5)
    # each pair's gradient is its own: the second pair's loss does not move the first pair's video
    (g0,) = torch.autograd.grad(loss[1], x["video"], retain_graph=True)
    assert float(g0[0].abs().max()) == 0.0


def test_paper_form_is_the_ddpm_state_update_as_a_noise_prediction():
    """Eq. (1) of GradientGuidance: moving eps by w g moves DDPM's mean by exactly -sigma_t g (integer t)."""
    t = 600
    w, c0, ct, ab_prev = paper_guidance_weight(S, float(t))
    ab, beta = S.alphas_cumprod, S.betas
    assert ab_prev == pytest.approx(float(ab[t - 1]), rel=1e-12)
    d_mean_d_eps = -float(beta[t]) / ((1 - float(ab[t])) ** 0.5 * (1 - float(beta[t])) ** 0.5)
    assert w * d_mean_d_eps == pytest.approx(-(1 - float(ab[t])) ** 0.5, rel=1e-9)
    # and the continuous extension is 1 at t = -1 (the clean data) with the right beta at t = 0
    w0, _, _, ab_prev0 = paper_guidance_weight(S, 0.0)
    assert ab_prev0 == 1.0 and w0 == pytest.approx((1 - float(beta[0])) ** 0.5 * float(beta[0]) / float(beta[0]))


def _toy_conditional(method, steps, opts, conditioning, given_value=1.5, n=4096):
    given = {"video": torch.full((n, 1), given_value)}
    out = _run(method, steps, opts, lambda x_T: mm.diffusion.zero_shot_transforms(
        given, "audio", conditioning, fixed_noise={"video": x_T["video"].clone()},
        generator=torch.Generator().manual_seed(1)), n=n)
    return float(out["audio"].mean()), float(out["audio"].var())


def test_toy_guidance_lands_near_the_true_conditional_and_replacement_is_biased():
    """rho = 0.9, v = 1.5: p(a | v) = N(1.35, 0.19).  Measured (4,096 draws): replacement 0.66 / 0.52 with
    DPM-Solver-20 and 0.94 / 0.41 with DDPM; reconstruction guidance at lambda = 4-5 within 0.1 / 0.05."""
    mean, var = TOY.conditional(1.5)
    rep_mean, rep_var = _toy_conditional("dpm_solver", 20, {"order": 3}, mm.Conditioning("replace"))
    assert rep_mean < mean - 0.5 and rep_var > var + 0.2  # replacement's known bias: too little, too wide
    g_mean, g_var = _toy_conditional("dpm_solver", 20, {"order": 3}, mm.Conditioning("guide", 5.0, form="reconstruction"))
    assert abs(g_mean - mean) < 0.1 and abs(g_var - var) < 0.05, (g_mean, g_var)
    p_mean, p_var = _toy_conditional("dpm_solver", 20, {"order": 3}, mm.Conditioning("guide", 300.0, form="paper"))
    assert abs(p_mean - mean) < 0.1 and abs(p_var - var) < 0.05, (p_mean, p_var)


def test_conditioning_refuses_bad_options():
    for bad in (float("nan"), -1.0, "3", True, math.inf):
        with pytest.raises(ValueError, match="guidance scale"):
            mm.Conditioning("guide", bad)
    with pytest.raises(ValueError, match="replace or guide"):
        mm.Conditioning("inpaint")
    with pytest.raises(ValueError, match="guidance form"):
        mm.Conditioning("guide", 1.0, form="classifier")
    with pytest.raises(ValueError, match="the given modality"):
        mm.GradientGuidance(mm.Replacement(_given(2)), "video", 1.0)
