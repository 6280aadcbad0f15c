"""Diffusion core: schedules, the forward process, samplers and guidance (any ``model_fn``; no network inside)."""
from .api import METHODS, benchmark_table, initial_noise, make_sampler, sample
from .forward import eps_from_v, epsilon_loss, predict_x0, q_posterior, q_sample, q_step, sample_timesteps, v_target
from .grids import discrete_timesteps, solver_time_grid
from .guidance import Conditioning, GradientGuidance, Replacement, zero_shot_transforms
from .loop import CallInfo, Transform, run_sampler
from .schedules import Schedule, cosine_schedule, get_schedule, linear_schedule
from .toy import (CorrelatedGaussian, GaussianMixture, gaussian_eps_model, gaussian_ode_map, sliced_wasserstein,
                  two_moons_mixture)

__all__ = [
    "Schedule", "linear_schedule", "cosine_schedule", "get_schedule",
    "q_step", "q_sample", "q_posterior", "predict_x0", "v_target", "eps_from_v", "epsilon_loss", "sample_timesteps",
    "discrete_timesteps", "solver_time_grid",
    "sample", "METHODS", "initial_noise", "make_sampler", "benchmark_table", "run_sampler", "CallInfo", "Transform",
    "Replacement", "GradientGuidance", "Conditioning", "zero_shot_transforms",
    "GaussianMixture", "gaussian_eps_model", "gaussian_ode_map", "two_moons_mixture", "sliced_wasserstein",
    "CorrelatedGaussian",
]
