"""The exact rows behind figures/conditioning/results-audio.json and results-video.json (run from the repository root)."""
import torch
torch.set_num_threads(2)
from mmdiff_lite.bench.conditioning import conditioning_benchmark, default_rows
from mmdiff_lite.viz.conditioning import plot_f1_vs_scale
out = "outputs/bench-conditioning"
conditioning_benchmark("tiny", out, 64, (0, 1, 2), ("audio",), default_rows(), progress=True)
rows_v = default_rows(recon_grid=(300,), samplers=("DDIM-50",))
r = conditioning_benchmark("tiny", out + "-video", 64, (0, 1, 2), ("video",), rows_v, progress=True)
print("done")
