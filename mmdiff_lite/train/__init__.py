"""Training: configuration, the loop (EMA, accumulation, AMP, DDP, exact resume), safetensors checkpoints."""
from .checkpoint import (load_training_state, load_weights, preview_path, read_header, save_training_state, save_weights,
                         snapshot_path, snapshot_steps)
from .config import RESUMABLE_CHANGES, TRAIN_PRESETS, TrainConfig, recipe_changes, train_config
from .ema import EMA
from .loop import Trainer, TrainingDiverged, min_snr_weight, train
from .randomness import derive_seed, draw_t_and_noise, step_generator
from .run_folder import RunFolder, RunFolderError

__all__ = [
    "TrainConfig", "TRAIN_PRESETS", "train_config", "RESUMABLE_CHANGES", "recipe_changes", "Trainer", "TrainingDiverged", "RunFolder", "RunFolderError", "train", "min_snr_weight", "EMA",
    "save_training_state", "load_training_state", "save_weights", "load_weights", "read_header", "snapshot_path",
    "snapshot_steps", "preview_path",
    "derive_seed", "draw_t_and_noise", "step_generator",
]
