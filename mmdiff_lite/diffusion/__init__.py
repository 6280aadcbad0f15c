"""Diffusion core: schedules, the forward process, samplers (any ``model_fn``; no network inside)."""
from .api import METHODS, initial_noise, sample
from .forward import eps_from_v, epsilon_loss, predict_x0, q_posterior, q_sample, q_step, sample_timesteps, v_target
from .grids import discrete_timesteps, solver_time_grid
from .schedules import Schedule, cosine_schedule, get_schedule, linear_schedule
from .toy import GaussianMixture, gaussian_eps_model, gaussian_ode_map, sliced_wasserstein, two_moons_mixture

__all__ = [
    "Schedule", "linear_schedule", "cosine_schedule", "get_schedule",
    "q_step", "q_sample", "q_posterior", "predict_x0", "v_target", "eps_from_v", "epsilon_loss", "sample_timesteps",
    "discrete_timesteps", "solver_time_grid",
    "sample", "METHODS", "initial_noise",
    "GaussianMixture", "gaussian_eps_model", "gaussian_ode_map", "two_moons_mixture", "sliced_wasserstein",
]
