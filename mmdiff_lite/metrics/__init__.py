"""metrics layer: scores of clips. Sync and semantic scores of the synthetic benchmark.

Knows no model. Taught in: notebooks/03_audio_video_data.ipynb
"""
from .audio import analyze_audio
from .reference import PAIRING_KEYS, reference_pairs, reference_table, shuffled_scores
from .sync import (SCORE_KEYS, format_scores, match_events, paired_difference, score_pairs, standard_error,
                   sync_scores)
from .video import analyze_video

__all__ = ["sync_scores", "score_pairs", "format_scores", "match_events", "SCORE_KEYS", "analyze_video", "analyze_audio",
           "reference_pairs", "reference_table", "shuffled_scores", "PAIRING_KEYS",
           "standard_error", "paired_difference"]
