"""DPM-Solver++ (Lu et al. 2022b): multistep, data prediction (order 2 = '2M'), optionally its SDE form.

``stochastic=True`` gives SDE-DPM-Solver++ (Sec. 5 / App.; orders 1-2; order 1 is DDIM with eta = 1): the same
data-prediction expansion of the reverse SDE, with fresh noise from the run's generator at every step, in the
same number of network calls.

Taught in: notebooks/02_samplers.ipynb.
"""
from __future__ import annotations

from ..loop import run_sampler
from ..schedules import Schedule
from .base import SamplerSpec, register
from .dpm_solver import MultistepSolver

__all__ = ["DPMSolverPP", "dpm_solver_pp_sample"]


class DPMSolverPP(MultistepSolver):
    """x_t = s_t/s_s x - a_t (e^{-h} - 1) D0 - a_t ... (x0_hat history), optionally clipping x0_hat."""

    name = "dpm_solver++"

    def __init__(self, schedule: Schedule, steps: int, *, order: int = 2, spacing: str = "logSNR",
                 t_start: float | None = None, t_end: float = 0.0, timesteps=None, lower_order_final: bool = True,
                 clip_x0: float | None = None, stochastic: bool = False):
        if order not in ((1, 2) if stochastic else (1, 2, 3)):
            raise ValueError(f"order must be 1 or 2 for the stochastic solver, 1-3 otherwise, got {order}")
        super().__init__(schedule, steps, order=order, spacing=spacing, t_start=t_start, t_end=t_end,
                         timesteps=timesteps, lower_order_final=lower_order_final, data_pred=True,
                         clip_x0=clip_x0, stochastic=stochastic)


def dpm_solver_pp_sample(model_fn, x: dict, schedule: Schedule, steps: int, *, generator=None, **options) -> dict:
    """DPM-Solver++ through the kit's loop (:func:`mmdiff_lite.sample` with ``x_T = x``)."""
    return run_sampler(model_fn, x, DPMSolverPP(schedule, steps, **options), generator=generator)


register(SamplerSpec("dpm_solver++", DPMSolverPP, "DPM-Solver++ (data prediction; stochastic=True: its SDE form)",
                     options=("order", "spacing", "t_start", "t_end", "timesteps", "lower_order_final", "clip_x0",
                              "stochastic"),
                     benchmark=(("DPM-Solver++-20", 20, {"order": 2}),
                                ("SDE-DPM-Solver++-20", 20, {"order": 2, "stochastic": True})), position=3))
