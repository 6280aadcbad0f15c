"""Benchmarks (``mmdiff-lite bench``): RS-MMA dense vs windowed and model training steps, each in a
fresh Python process so its peak resident memory (``ru_maxrss``) is its own; the trainer's throughput;
the samplers side by side on a trained checkpoint.  Times are medians over repetitions after a warm-up.
"""
from .measure import measure, rsmma_report, step_report
from .sampling import sampling_benchmark, sampling_markdown
from .throughput import train_throughput

__all__ = ["measure", "rsmma_report", "step_report", "train_throughput", "sampling_benchmark", "sampling_markdown"]
