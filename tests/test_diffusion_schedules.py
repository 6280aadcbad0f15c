"""Schedules: closed forms, the continuous extension, and agreement with diffusers."""
import math

import pytest
import torch

import mmdiff_lite as mm


def test_linear_schedule_is_the_papers():
    s = mm.linear_schedule()
    assert s.T == 1000 and s.betas.dtype == torch.float64
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    # alpha_bar_t = prod (1 - beta_s), computed independently in log space
    ref = torch.exp(torch.cumsum(torch.log1p(-s.betas), 0))
    torch.testing.assert_close(s.alphas_cumprod, ref, rtol=1e-10, atol=0)
    # known value: alpha_bar at the last step of the paper's schedule is about 4.04e-5
    assert s.alphas_cumprod[-1].item() == pytest.approx(4.0358e-5, rel=1e-3)


def test_cosine_schedule_matches_diffusers_squaredcos():
    from diffusers import DDPMScheduler

    ref = DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2").betas.double()
    torch.testing.assert_close(mm.cosine_schedule().betas, ref, rtol=1e-5, atol=1e-7)


def test_snr_and_lambda_relations():
    s = mm.cosine_schedule(200)
    ab = s.alphas_cumprod
    torch.testing.assert_close(s.snr, ab / (1 - ab))
    torch.testing.assert_close(s.lambdas, 0.5 * torch.log(ab / (1 - ab)))
    assert bool((s.lambdas[1:] < s.lambdas[:-1]).all()), "lambda must decrease with t"


@pytest.mark.parametrize("make", [mm.linear_schedule, mm.cosine_schedule])
def test_alpha_bar_continuous_exact_at_integers_and_monotone(make):
    s = make(1000)
    ints = torch.arange(1000, dtype=torch.float64)
    torch.testing.assert_close(s.alpha_bar(ints), s.alphas_cumprod, rtol=1e-12, atol=0)
    fine = torch.linspace(0, 999, 20001, dtype=torch.float64)
    ab = s.alpha_bar(fine)
    assert bool((ab[1:] < ab[:-1]).all())
    # geometric interpolation: at a half step, alpha_bar is the geometric mean of its neighbours
    mid = s.alpha_bar(torch.tensor([10.5], dtype=torch.float64))
    assert mid.item() == pytest.approx(math.sqrt(s.alphas_cumprod[10] * s.alphas_cumprod[11]), rel=1e-12)


def test_lambda_inverse_round_trip():
    s = mm.linear_schedule()
    t = torch.tensor([0.0, 0.25, 17.5, 400.0, 998.9, 999.0], dtype=torch.float64)
    torch.testing.assert_close(s.t_of_lambda(s.lambda_(t)), t, atol=1e-8, rtol=0)


def test_bad_schedule_inputs_raise():
    with pytest.raises(ValueError, match="use one of"):
        mm.get_schedule("quadratic")
    with pytest.raises(ValueError, match=r"\[0, 999\]"):
        mm.linear_schedule().alpha_bar(1000.0)
    with pytest.raises(ValueError):
        mm.Schedule("bad", torch.tensor([0.5, 1.5], dtype=torch.float64))
