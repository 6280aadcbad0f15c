"""One measurement in this process: ``python -m mmdiff_lite.bench.worker '<json spec>'`` prints a JSON result.

Specs: ``{"kind": "rsmma", "level": l, "impl": "dense"|"windowed", "preset": p, "batch": b, "reps": n,
"backward": bool}`` (one RS-MMA block at the preset's feature shapes of level l, or ``level: "middle"``)
and ``{"kind": "step", "preset": p, "batch": b, "reps": n, "overrides": {...}}`` (a training step; with
``"authors_code": DIR`` the step of the authors' network at that configuration, :mod:`mmdiff_lite.bench.reference`).
"""
from __future__ import annotations

import json
import resource
import statistics
import sys
import time


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _timed(fn, reps: int, sync=lambda: None) -> float:
    fn()  # warm-up (allocations, kernel selection)
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        sync()  # on a GPU: wait for the queued kernels
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rsmma_case(spec: dict) -> dict:
    import torch
    from mmdiff_lite.model import RSMMA, model_config
    from mmdiff_lite.model.rsmma import segment_attention

    cfg = model_config(spec["preset"])
    level = cfg.num_levels - 1 if spec["level"] == "middle" else spec["level"]
    window = cfg.num_frames if spec["level"] == "middle" else cfg.windows[level]
    (f, h, w), t = cfg.level_shapes(level)
    c, b = cfg.level_channels(level), spec["batch"]
    block = RSMMA(c, f, window, shift=(f - window) // 2, impl=spec["impl"], head_dim=cfg.head_dim)
    g = torch.Generator().manual_seed(0)
    video = torch.randn(b, c, f, h, w, generator=g, requires_grad=spec["backward"])
    audio = torch.randn(b, c, t, generator=g, requires_grad=spec["backward"])
    base = _rss_mb()

    def run():
        with torch.set_grad_enabled(spec["backward"]):
            v, a = block(video, audio)
            if spec["backward"]:
                (v.sum() + a.sum()).backward()

    seconds = _timed(run, spec["reps"])
    peak = _rss_mb()
    # the attention itself (both directions), on q, k, v computed once: what the window saves
    with torch.no_grad():
        (qv, kv, vv), (qa, ka, va) = block.qkv(video, audio)
    qkv = [z.detach().requires_grad_(spec["backward"]) for z in (qv, kv, vv, qa, ka, va)]
    r = block.shift if isinstance(block.shift, int) else 0

    def core():
        with torch.set_grad_enabled(spec["backward"]):
            hv = segment_attention(qkv[0], qkv[4], qkv[5], f, window, r, spec["impl"])  # video -> audio
            ha = segment_attention(qkv[3], qkv[1], qkv[2], f, window, r, spec["impl"])  # audio -> video
            if spec["backward"]:
                (hv.sum() + ha.sum()).backward()

    return {"seconds": seconds, "core_seconds": _timed(core, spec["reps"]), "peak_mb": peak, "extra_mb": peak - base,
            "shape": f"C={c} F={f} {h}x{w} T={t}", "window": window}


def step_case(spec: dict) -> dict:
    import torch
    from mmdiff_lite.model import build_model, model_config

    if spec.get("authors_code"):  # the authors' MultimodalUNet at the same configuration (bench/reference.py)
        from mmdiff_lite.bench.reference import load_authors_unet

        model = load_authors_unet(spec["authors_code"], model_config(spec["preset"], **spec.get("overrides", {})))
    else:
        model = build_model(spec["preset"], **spec.get("overrides", {}))
    device = torch.device(spec.get("device", "cpu"))
    model.to(device).train()
    cfg, b = model.config, spec["batch"]
    g = torch.Generator().manual_seed(0)
    x = {"video": torch.randn(b, *cfg.video_shape, generator=g), "audio": torch.randn(b, *cfg.audio_shape, generator=g)}
    noise = {k: torch.randn(v.shape, generator=g).to(device) for k, v in x.items()}
    x, t = {k: v.to(device) for k, v in x.items()}, (torch.rand(b, generator=g) * 999).to(device)
    cuda = device.type == "cuda"
    sync = (lambda: torch.cuda.synchronize(device)) if cuda else (lambda: None)
    # memory: the process's peak RSS on the CPU, the allocator's peak on a GPU
    peak_mb = (lambda: torch.cuda.max_memory_allocated(device) / 2**20) if cuda else _rss_mb
    base = torch.cuda.memory_allocated(device) / 2**20 if cuda else _rss_mb()

    def forward():
        return model(x, t)

    def step():
        out = forward()
        loss = sum(torch.nn.functional.mse_loss(out[k], noise[k]) for k in out)  # MSE(eps_v) + MSE(eps_a)
        model.zero_grad(set_to_none=True)
        loss.backward()

    step_s = _timed(step, spec["reps"], sync)
    forward_s = _timed(forward, spec["reps"], sync)
    result = {"step_seconds": step_s, "forward_seconds": forward_s, "peak_mb": peak_mb(), "extra_mb": peak_mb() - base,
              "params": sum(p.numel() for p in model.parameters()), "device": str(device)}
    if spec.get("profile"):
        result["kernels"] = kernel_seconds(step, spec["reps"])
    return result


#: The kernel families of a training step whose cost no code around them can remove (CPU op names).
KERNEL_FAMILIES = {
    "convolution": ("aten::mkldnn_convolution", "aten::convolution_backward"),
    "attention": ("aten::_scaled_dot_product_flash_attention_for_cpu",
                  "aten::_scaled_dot_product_flash_attention_for_cpu_backward"),
    "matmul": ("aten::mm", "aten::addmm", "aten::bmm"),
}


def kernel_seconds(fn, reps: int) -> dict:
    """Median over ``reps`` profiled calls of ``fn``: seconds of own CPU time per kernel family, of all
    operators together, and the profiled wall time (the profiler adds some overhead to both)."""
    from torch.profiler import profile

    rows = []
    for _ in range(max(1, reps)):
        with profile() as prof:
            t0 = time.perf_counter()
            fn()
            wall = time.perf_counter() - t0
        events = prof.key_averages()
        row = {name: sum(e.self_cpu_time_total for e in events if e.key in keys) / 1e6
               for name, keys in KERNEL_FAMILIES.items()}
        row["all operators"] = sum(e.self_cpu_time_total for e in events) / 1e6
        row["wall (profiled)"] = wall
        rows.append(row)
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    if "threads" in spec:
        import torch

        torch.set_num_threads(int(spec["threads"]))
    result = {"rsmma": rsmma_case, "step": step_case}[spec["kind"]](spec)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
