"""mmdiff-lite: a notebook kit that teaches and reproduces MM-Diffusion (Ruan et al., CVPR 2023).

Layers, each knowing only those below it:
``diffusion`` (schedules, forward process, samplers) · ``model`` (coupled U-Net, RS-MMA) ·
``data`` (clips, I/O) · ``metrics`` (scores of clips) · ``train`` and ``pipeline`` (training,
checkpoints, generation) · CLI and notebooks.

``import mmdiff_lite as mm`` gives the nouns a student needs at the top (``mm.q_sample``, ``mm.build_model``,
``mm.generate``, ...).  Everything else lives in the layer that owns it and is reached through it: probes and
closed-form costs in ``mm.model`` (``mm.model.rsmma_cost``), the exactly solvable toys in ``mm.diffusion``
(``mm.diffusion.two_moons_mixture``), statistics in ``mm.metrics``, evaluation helpers in ``mm.pipeline``,
figures and players in ``mm.viz`` (``mm.viz.model.table_text``), the widget helpers in ``mm.notebook`` and the
checkers in ``mm.exercises``.  ``mm.train`` is the training layer (``mm.train.train(cfg, out)`` runs one).
"""
import importlib as _importlib

from . import data, diffusion, metrics, model, pipeline, train  # noqa: F401  (the layers, as mm.<layer>)
from .data import ClipConfig, ClipDataset, SyntheticClips, clip_preset, prepare_clips, read_mp4, synthetic_clip, write_mp4
from .diffusion import (METHODS, Conditioning, GradientGuidance, Replacement, Schedule, cosine_schedule, eps_from_v,
                        epsilon_loss, get_schedule, initial_noise, linear_schedule, make_sampler, predict_x0, q_posterior,
                        q_sample, q_step, sample, sample_timesteps, v_target)
from .metrics import format_scores, reference_pairs, shuffled_scores, sync_scores
from .model import (MODEL_PRESETS, RSMMA, CoupledUNet, UNetConfig, build_model, model_config, rsmma_modules, shift_mode,
                    window_indices, window_mask)
from .pipeline import (SAMPLER_TABLE, compare_samplers, generate, load_model, load_or_train, load_snapshot,
                       sampling_setup, score_generated, shipped_checkpoints, write_pairs)
from .train.config import TrainConfig, train_config

__version__ = "0.1.0"
__all__ = [
    # diffusion: the schedule, the forward process, the losses, the samplers, conditioning
    "Schedule", "linear_schedule", "cosine_schedule", "get_schedule", "q_step", "q_sample", "q_posterior",
    "predict_x0", "v_target", "eps_from_v", "epsilon_loss", "sample_timesteps", "initial_noise", "sample", "METHODS",
    "make_sampler", "Conditioning", "Replacement", "GradientGuidance",
    # data: clips
    "ClipConfig", "clip_preset", "synthetic_clip", "SyntheticClips", "ClipDataset", "prepare_clips", "read_mp4",
    "write_mp4",
    # metrics: do sound and picture agree?
    "sync_scores", "format_scores", "shuffled_scores", "reference_pairs",
    # model: the coupled U-Net and RS-MMA
    "UNetConfig", "MODEL_PRESETS", "model_config", "build_model", "CoupledUNet", "RSMMA", "window_mask",
    "window_indices", "shift_mode", "rsmma_modules",
    # training and the pipeline
    "TrainConfig", "train_config", "load_model", "load_or_train", "load_snapshot", "shipped_checkpoints",
    "sampling_setup", "generate", "score_generated", "compare_samplers", "SAMPLER_TABLE", "write_pairs",
]

#: Layers above the core, imported on first use (matplotlib and the widgets load only when a notebook asks).
_LAZY = ("viz", "notebook", "exercises", "bench")


def __getattr__(name: str):
    if name in _LAZY:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'mmdiff_lite' has no attribute {name!r}: the top level holds the core nouns; "
                         "probes, toys and helpers live in their layer (mm.model, mm.diffusion, mm.metrics, "
                         "mm.pipeline, mm.viz)")
