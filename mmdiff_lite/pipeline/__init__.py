"""Pipelines on top of diffusion + model + data + metrics: checkpoints, generation, evaluation."""
from .checkpoints import load_model, load_or_train, model_from_config, resolve_checkpoint, ship, shipped_checkpoints
from .evaluate import SAMPLER_TABLE, compare_samplers, score_generated
from .generate import generate, model_fn_of

__all__ = [
    "load_model", "load_or_train", "model_from_config", "resolve_checkpoint", "ship", "shipped_checkpoints",
    "generate", "model_fn_of", "SAMPLER_TABLE", "compare_samplers", "score_generated",
]
