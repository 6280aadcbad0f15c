"""The rows behind figures/conditioning/results-extra.json: order vs time grid, and the finer lambda grid (run from the repository root)."""
import torch
torch.set_num_threads(2)
from mmdiff_lite import Conditioning
from mmdiff_lite.bench.conditioning import conditioning_benchmark
G = lambda lam: Conditioning("guide", lam, form="reconstruction", t_min=150.0)
R = Conditioning("replace")
rows = [
    {"row": "DPM-Solver-1 (20): replace", "sampler": "DPM-Solver-1-20", "spec": ("dpm_solver", 20, {"order": 1}), "conditioning": R},
    {"row": "DPM-Solver-1 (20): guide reconstruction λ=300", "sampler": "DPM-Solver-1-20", "spec": ("dpm_solver", 20, {"order": 1}), "conditioning": G(300)},
    {"row": "DDIM-20: replace", "sampler": "DDIM-20", "spec": ("ddim", 20, {}), "conditioning": R},
    {"row": "DDIM-20: guide reconstruction λ=300", "sampler": "DDIM-20", "spec": ("ddim", 20, {}), "conditioning": G(300)},
    {"row": "DDIM-50: replace", "sampler": "DDIM-50", "conditioning": R},
    {"row": "DDIM-50: guide reconstruction λ=100", "sampler": "DDIM-50", "conditioning": G(100)},
    {"row": "DDIM-50: guide reconstruction λ=1000", "sampler": "DDIM-50", "conditioning": G(1000)},
    {"row": "DDIM-50: guide paper λ=300", "sampler": "DDIM-50", "conditioning": Conditioning("guide", 300.0)},
]
conditioning_benchmark("tiny", "outputs/bench-conditioning-extra", 64, (0,), ("audio",), rows, progress=True)
print("done")
