"""model layer: the coupled U-Net of MM-Diffusion and its RS-MMA (knows no noise schedule, no data).

Modules, one idea each: ``config`` (dataclass and presets), ``embedding`` (timestep code), ``layers``
(GroupNorm, the residual branch), ``video`` (2D+1D convolution), ``audio`` (dilated convolution),
``attention`` (self-attention), ``sr_config`` and ``sr`` (the super-resolution stage's per-frame upsampler), ``rsmma`` (random-shift multi-modal attention), ``resblock`` (the
coupled residual block), ``unet`` (the network and ``build_model``), ``cost`` (closed-form costs and
receptive fields), ``inspect`` (shape traces and parameter tables for the notebooks).
"""
from .attention import AudioSelfAttention, SelfAttention, VideoSelfAttention
from .audio import dilation_schedule
from .cost import (RSMMACost, audio_encoder_layers, audio_receptive_fields, conv_cost, model_rsmma_costs,
                   receptive_field, rsmma_cost)
from .config import CONFIG_KINDS, MODEL_PRESETS, SRConfig, UNetConfig, config_from_dict, model_config, model_preset_names
from .embedding import TimestepEmbedding, timestep_embedding
from .inspect import (audio_encoder_chain, example_pair, measured_receptive_field, parameter_table,
                      rsmma_frame_attention, trace_shapes)
from .resblock import MMResBlock, MMSequence
from .rsmma import (RSMMA, draw_shift, offset_readout, segment_attention, token_mask, window_indices, window_mask,
                    with_frame_onehot)
from .unet import CoupledUNet, build_model, perturb_zero_layers, rsmma_modules, shift_generator, shift_mode
from .sr import SuperResUNet, downsample_frames, sr_condition
from .video import VideoConv, conv3d_equivalent

__all__ = [
    "AudioSelfAttention", "SelfAttention", "VideoSelfAttention", "dilation_schedule",
    "MODEL_PRESETS", "CONFIG_KINDS", "UNetConfig", "SRConfig", "config_from_dict", "model_config", "model_preset_names",
    "SuperResUNet", "downsample_frames", "sr_condition",
    "TimestepEmbedding", "timestep_embedding", "MMResBlock", "MMSequence",
    "RSMMA", "draw_shift", "offset_readout", "with_frame_onehot", "segment_attention", "token_mask", "window_indices", "window_mask",
    "CoupledUNet", "build_model", "perturb_zero_layers", "rsmma_modules", "shift_generator", "shift_mode", "VideoConv",
    "conv3d_equivalent", "RSMMACost", "audio_encoder_layers", "audio_receptive_fields", "conv_cost",
    "model_rsmma_costs", "receptive_field", "rsmma_cost", "audio_encoder_chain", "example_pair",
    "measured_receptive_field", "parameter_table", "rsmma_frame_attention", "trace_shapes",
]
