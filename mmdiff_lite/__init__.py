"""mmdiff-lite: a notebook kit that teaches and reproduces MM-Diffusion (Ruan et al., CVPR 2023).

Layers, each knowing only those below it:
``diffusion`` (schedules, forward process, samplers) · ``model`` (coupled U-Net, RS-MMA) ·
``data`` (clips, I/O) · ``metrics`` (scores of clips) · ``train`` and ``pipeline`` (training,
checkpoints, generation) · CLI and notebooks.
"""
from .diffusion import *  # noqa: F401,F403
from .diffusion import __all__ as _diffusion_all
from .data import *  # noqa: F401,F403
from .data import __all__ as _data_all
from .metrics import *  # noqa: F401,F403
from .metrics import __all__ as _metrics_all
from .model import *  # noqa: F401,F403
from .model import __all__ as _model_all
from .pipeline import *  # noqa: F401,F403
from .pipeline import __all__ as _pipeline_all
from .train.config import TrainConfig, train_config

__version__ = "0.1.0"
__all__ = [*_diffusion_all, *_data_all, *_metrics_all, *_model_all, *_pipeline_all, "TrainConfig", "train_config"]
