"""Samplers with the exact noise predictor of known data: they must reproduce the data."""
import pytest
import torch

import mmdiff_lite as mm

S = mm.linear_schedule()
MU, SD = 0.5, 0.3
GAUSS = mm.diffusion.gaussian_eps_model(S, MU, SD)


def _noise(n, d=1, seed=0, key="a"):
    return {key: torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)}


@pytest.mark.parametrize(
    "method,steps,opts,tol_std",
    [
        ("ddpm", 1000, {"variance": "fixed_large"}, 0.02),
        ("ddpm", 1000, {"variance": "fixed_small"}, 0.02),
        ("ddim", 1000, {"eta": 0.0}, 0.01),
        ("ddim", 1000, {"eta": 1.0}, 0.02),
        ("dpm_solver", 20, {"order": 3, "solver": "singlestep"}, 0.01),
        ("dpm_solver", 20, {"order": 2, "solver": "multistep"}, 0.025),
        ("dpm_solver", 20, {"order": 3, "solver": "multistep", "spacing": "time_quadratic"}, 0.03),
        ("dpm_solver++", 20, {"order": 2}, 0.025),
        ("dpm_solver++", 20, {"order": 2, "stochastic": True}, 0.04),  # 20 steps: 0.310; 50: 0.300
    ],
)
def test_samplers_map_noise_to_the_gaussian(method, steps, opts, tol_std):
    n = 20_000
    x = mm.sample(GAUSS, {"a": (n, 1)}, schedule=S, method=method, steps=steps, generator=1, dtype=torch.float64, **opts)["a"]
    # se of the mean: 0.3/sqrt(2e4) = 2e-3
    assert x.mean().item() == pytest.approx(MU, abs=0.01)
    assert x.std().item() == pytest.approx(SD, rel=tol_std)


def test_dpm_solver_20_steps_is_as_good_as_ddpm_1000():
    """The lesson of notebook 02: 20 network calls of DPM-Solver match DDPM's 1000 in distribution."""
    n = 20_000
    kw = dict(schedule=S, generator=3, dtype=torch.float64)
    ddpm = mm.sample(GAUSS, {"a": (n, 1)}, method="ddpm", steps=1000, **kw)["a"]
    dpm = mm.sample(GAUSS, {"a": (n, 1)}, method="dpm_solver", steps=20, **kw)["a"]
    assert abs(dpm.std().item() - SD) <= abs(ddpm.std().item() - SD) + 0.01


def test_higher_order_beats_lower_order_against_the_exact_ode_solution():
    """For Gaussian data the probability-flow ODE has a closed-form solution; compare endpoints."""
    xT = _noise(4096)
    exact = mm.diffusion.gaussian_ode_map(xT["a"], 999.0, 0.0, S, MU, SD)
    for steps in (24, 48):
        errs = []
        for order in (1, 2, 3):
            x = mm.sample(GAUSS, {"a": (4096, 1)}, schedule=S, method="dpm_solver", steps=steps, x_T=xT, order=order)["a"]
            errs.append((x - exact).abs().max().item())
        assert errs[0] > errs[1] > errs[2], (steps, errs)
    # and on a 2-D mixture (no closed form): against a 1000-step third-order reference
    gmm = mm.diffusion.two_moons_mixture()
    mf = gmm.model_fn(S)
    xT = _noise(1000, 2, seed=1, key="x")
    ref = mm.sample(mf, {"x": (1000, 2)}, schedule=S, method="dpm_solver", steps=1000, x_T=xT, order=3, solver="multistep")["x"]
    errs = [(mm.sample(mf, {"x": (1000, 2)}, schedule=S, method="dpm_solver", steps=20, x_T=xT, order=k)["x"] - ref).norm(dim=1).mean().item() for k in (1, 2, 3)]
    assert errs[0] > errs[1] > errs[2], errs


def test_dpm_solver_convergence_rates():
    """Halving the step size divides the error by about 2^order (orders 1-3, fixed order per step)."""
    from mmdiff_lite.diffusion.samplers.dpm_solver import dpm_solver_sample

    xT = _noise(2048)
    exact = mm.diffusion.gaussian_ode_map(xT["a"], 999.0, 0.0, S, MU, SD)
    for order, steps in ((1, (16, 32)), (2, (16, 32)), (3, (24, 48))):
        e = [(dpm_solver_sample(GAUSS, dict(xT), S, n, order=order, spacing="logSNR")["a"] - exact).abs().max().item() for n in steps]
        assert e[0] / e[1] > 2 ** order * 0.6, (order, e)


def _diffusers_loop(sched, xT, model, ts):
    x = xT.clone()
    for t in ts:
        eps = model({"x": x}, torch.full((len(x),), float(t)))["x"]
        x = sched.step(eps, t, x).prev_sample
    return x


@pytest.mark.parametrize("spacing", ["leading", "trailing"])
def test_ddim_matches_diffusers(spacing):
    from diffusers import DDIMScheduler

    mf = mm.diffusion.two_moons_mixture().model_fn(S)
    xT = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    sched = DDIMScheduler(num_train_timesteps=1000, beta_schedule="linear", beta_start=1e-4, beta_end=0.02,
                          clip_sample=False, set_alpha_to_one=True, timestep_spacing=spacing)
    sched.set_timesteps(50)
    ref = _diffusers_loop(sched, xT, mf, sched.timesteps)
    ours = mm.sample(mf, {"x": xT.shape}, schedule=S, method="ddim", steps=50, x_T={"x": xT}, spacing=spacing)["x"]
    torch.testing.assert_close(ours, ref, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("algo,order,steps", [("dpmsolver++", 2, 20), ("dpmsolver", 2, 20), ("dpmsolver", 3, 20),
                                              ("dpmsolver++", 3, 10), ("dpmsolver++", 2, 8)])
def test_dpm_solver_multistep_matches_diffusers(algo, order, steps):
    from diffusers import DPMSolverMultistepScheduler

    mf = mm.diffusion.two_moons_mixture().model_fn(S)
    xT = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    sched = DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_schedule="linear", beta_start=1e-4,
                                        beta_end=0.02, algorithm_type=algo, solver_order=order,
                                        solver_type="midpoint", final_sigmas_type="sigma_min",
                                        lower_order_final=True, timestep_spacing="linspace")
    sched.set_timesteps(steps)
    ref = _diffusers_loop(sched, xT, mf, sched.timesteps)
    grid = [float(t) for t in sched.timesteps] + [0.0]  # diffusers' sigma_min ends at t = 0
    method = "dpm_solver++" if algo == "dpmsolver++" else "dpm_solver"
    extra = {} if method == "dpm_solver++" else {"solver": "multistep"}
    ours = mm.sample(mf, {"x": xT.shape}, schedule=S, method=method, steps=steps, x_T={"x": xT},
                     order=order, timesteps=grid, **extra)["x"]
    torch.testing.assert_close(ours, ref, atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("order,steps", [(2, 20), (1, 12)])
def test_sde_dpm_solver_pp_matches_diffusers_with_the_same_noise(order, steps):
    """SDE-DPM-Solver++ against diffusers' sde-dpmsolver++ step, both drawing noise from one seed."""
    from diffusers import DPMSolverMultistepScheduler

    mf = mm.diffusion.two_moons_mixture().model_fn(S)
    xT = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    sched = DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_schedule="linear", beta_start=1e-4,
                                        beta_end=0.02, algorithm_type="sde-dpmsolver++", solver_order=order,
                                        solver_type="midpoint", final_sigmas_type="sigma_min",
                                        lower_order_final=True, timestep_spacing="linspace")
    sched.set_timesteps(steps)
    gen, x = torch.Generator().manual_seed(7), xT.clone()
    for t in sched.timesteps:
        eps = mf({"x": x}, torch.full((len(x),), float(t)))["x"]
        x = sched.step(eps, t, x, generator=gen).prev_sample
    grid = [float(t) for t in sched.timesteps] + [0.0]
    ours = mm.sample(mf, {"x": xT.shape}, schedule=S, method="dpm_solver++", steps=steps, x_T={"x": xT},
                     order=order, timesteps=grid, stochastic=True, generator=7)["x"]
    torch.testing.assert_close(ours, x, atol=2e-4, rtol=1e-4)


def test_sde_dpm_solver_pp_order_1_is_ddim_with_eta_1():
    """One SDE-DPM-Solver++(1) step from s to t is DDIM's Eq. 12 with eta = 1 and the same z."""
    from mmdiff_lite.diffusion.samplers.dpm_solver_pp import dpm_solver_pp_sample

    ab = S.alphas_cumprod.double()
    x = _noise(64)
    s, t = 700, 300
    eps = GAUSS(dict(x), torch.full((64,), float(s)))["a"]
    x0 = (x["a"] - (1 - ab[s]).sqrt() * eps) / ab[s].sqrt()
    sig = ((1 - ab[t]) / (1 - ab[s]) * (1 - ab[s] / ab[t])).sqrt()  # DDIM's sigma with eta = 1
    z = torch.randn(64, 1, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    ddim = ab[t].sqrt() * x0 + (1 - ab[t] - sig**2).sqrt() * eps + sig * z
    ours = dpm_solver_pp_sample(GAUSS, dict(x), S, 1, order=1, timesteps=[float(s), float(t)], stochastic=True,
                                generator=torch.Generator().manual_seed(5))["a"]
    torch.testing.assert_close(ours, ddim, atol=1e-9, rtol=1e-9)
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        dpm_solver_pp_sample(GAUSS, dict(x), S, 5, order=3, stochastic=True)


def test_sample_contract_and_errors():
    shapes = {"video": (2, 4, 3, 8, 8), "audio": (2, 1, 64)}
    zero = lambda x, t: {k: torch.zeros_like(v) for k, v in x.items()}
    a = mm.sample(zero, shapes, schedule=S, method="dpm_solver", steps=5, generator=7)
    b = mm.sample(zero, shapes, schedule=S, method="dpm_solver", steps=5, generator=7)
    assert {k: v.shape for k, v in a.items()} == {k: torch.Size(v) for k, v in shapes.items()}
    assert all(torch.equal(a[k], b[k]) for k in a)
    seen = []
    mm.sample(lambda x, t: seen.append(t.clone()) or zero(x, t), shapes, schedule=S, method="ddim", steps=4, generator=0)
    assert all(t.shape == (2,) and t.dtype == torch.float32 for t in seen) and len(seen) == 4
    with pytest.raises(ValueError, match="unknown method"):
        mm.sample(zero, shapes, schedule=S, method="euler", steps=5)
    with pytest.raises(ValueError, match="batch size"):
        mm.sample(zero, {"video": (2, 3), "audio": (3, 3)}, schedule=S, method="ddim", steps=5)
    bad = lambda x, t: {"video": x["video"]}
    with pytest.raises(ValueError, match="'audio'"):
        mm.sample(bad, shapes, schedule=S, method="ddim", steps=5)


@pytest.mark.parametrize("method", ["ddpm", "ddim", "dpm_solver", "dpm_solver++"])
def test_callback_replacement_pins_a_modality(method):
    """Replacement conditioning hook: overwriting 'video' every step leaves it exactly as given."""
    target = torch.full((3, 2), 0.25)
    out = mm.sample(mm.diffusion.gaussian_eps_model(S, 0.0, 1.0), {"video": (3, 2), "audio": (3, 4)}, schedule=S,
                    method=method, steps=10, generator=0, callback=lambda i, t, x, x0: {"video": target})
    assert torch.equal(out["video"], target)
    assert out["audio"].abs().sum() > 0


def test_sliced_wasserstein_known_answers():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 2, generator=g)
    assert mm.diffusion.sliced_wasserstein(a, a, generator=g) == 0.0
    # a pure shift by d moves every projection by |<d, u>|; mean over directions = |d| * 2/pi in 2-D
    shifted = a + torch.tensor([1.0, 0.0])
    w = mm.diffusion.sliced_wasserstein(a, shifted, n_projections=2000, generator=g)
    assert w == pytest.approx(2 / torch.pi, rel=0.05)
