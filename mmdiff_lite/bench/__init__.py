"""Benchmarks of the model layer (``mmdiff-lite bench``): RS-MMA dense vs windowed, training steps.

Every measurement runs in a fresh Python process, so its peak resident memory (``ru_maxrss``) is its
own; times are medians over repetitions after a warm-up.
"""
from .measure import measure, rsmma_report, step_report

__all__ = ["measure", "rsmma_report", "step_report"]
