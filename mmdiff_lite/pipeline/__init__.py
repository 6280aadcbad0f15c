"""Pipelines on top of diffusion + model + data + metrics: loading checkpoints and generating pairs."""
from .checkpoints import load_model, model_from_config, resolve_checkpoint, shipped_checkpoints
from .generate import generate, model_fn_of

__all__ = ["load_model", "model_from_config", "resolve_checkpoint", "shipped_checkpoints", "generate", "model_fn_of"]
