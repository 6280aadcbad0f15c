"""Feature networks for the distribution distances: the benchmark's own encoders (shipped, CPU-fast) and the
paper's networks from local weight files. Taught in: notebooks/09_evaluation.ipynb
"""
from .bench import BenchFeatures, sync_lags
from .registry import FEATURE_NETWORKS, feature_network
from .store import load_bench_features, shipped_feature_networks

__all__ = ["FEATURE_NETWORKS", "feature_network", "BenchFeatures", "sync_lags", "load_bench_features", "shipped_feature_networks"]
