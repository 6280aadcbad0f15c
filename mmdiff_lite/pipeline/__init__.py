"""Pipelines on top of diffusion + model + data + metrics: checkpoints, generation, evaluation, export."""
from .checkpoints import (load_model, load_or_train, load_snapshot, model_from_config, resolve_checkpoint, sampling_setup,
                          ship, shipped_checkpoints, shipped_log)
from .evaluate import (SAMPLER_TABLE, compare_samplers, noise_prediction, paired_differences, per_frame_error,
                       score_generated, timed_generate, timing_reliance)
from .conditional import cross_dependence, score_conditional
from .export import sample_to_folder, scores_line, write_pairs, write_preview
from .generate import generate, model_fn_of
from .upscale import read_low_pairs, upscale, upscale_pairs

__all__ = [
    "load_model", "load_or_train", "load_snapshot", "model_from_config", "resolve_checkpoint", "sampling_setup",
    "shipped_checkpoints", "shipped_log", "generate", "model_fn_of", "SAMPLER_TABLE", "compare_samplers",
    "paired_differences", "score_generated", "timed_generate", "noise_prediction", "per_frame_error", "timing_reliance",
    "sample_to_folder", "scores_line", "score_conditional", "cross_dependence",
    "write_pairs", "write_preview", "upscale", "upscale_pairs", "read_low_pairs",
]
