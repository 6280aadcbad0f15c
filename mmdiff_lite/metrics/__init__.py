"""metrics layer: scores of clips. Sync and semantic scores of the synthetic benchmark; distribution distances
(Fréchet, kernel MMD², their bootstrap intervals) and the feature networks they are computed on.

Knows no diffusion model. Taught in: notebooks/03_audio_video_data.ipynb, notebooks/09_evaluation.ipynb
"""
from .audio import analyze_audio
from .bootstrap import bootstrap_interval, frechet_interval, kernel_interval
from .frechet import frechet_distance, frechet_extrapolated, frechet_gaussians, gaussian_stats
from .intervals import t_interval, wilson_interval
from .kernel import kernel_distance, mmd2_unbiased, polynomial_kernel
from .reference import PAIRING_KEYS, reference_pairs, reference_table, shuffled_scores
from .sync import (SCORE_KEYS, format_scores, match_events, paired_difference, score_pairs, standard_error,
                   sync_scores)
from .video import analyze_video

__all__ = ["sync_scores", "score_pairs", "format_scores", "match_events", "SCORE_KEYS", "analyze_video", "analyze_audio",
           "reference_pairs", "reference_table", "shuffled_scores", "PAIRING_KEYS",
           "standard_error", "paired_difference",
           "frechet_distance", "frechet_gaussians", "frechet_extrapolated", "gaussian_stats",
           "mmd2_unbiased", "kernel_distance", "polynomial_kernel",
           "bootstrap_interval", "frechet_interval", "kernel_interval", "t_interval", "wilson_interval"]
