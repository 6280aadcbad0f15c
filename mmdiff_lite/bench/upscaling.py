"""``mmdiff-lite bench upscale``: does the super-resolution stage keep sync, stay faithful to its input, and does
shared initial noise flicker less than independent noise?

Two sets of low-resolution pairs are upscaled with DDIM-25, once with the authors' shared initial noise and once
with independent noise per frame:

* **real**: benchmark clips drawn at the upsampler's resolution (``tiny-x2``), area-downsampled to its input; the
  upscale can be compared with the true high-resolution frames (PSNR, SSIM);
* **generated**: the coupled model's own pairs (``tiny``, DPM-Solver-20): the real cascade.

For each it reports, per noise mode: the sync scores of the upscaled pairs (scored at the high-resolution clip
preset) against those of the low-resolution pairs (scored at theirs), clip by clip (:func:`paired_difference`);
the flicker the upsampler added beyond a bicubic upscale (:func:`flicker_excess`), shared against independent,
paired by clip; and PSNR/SSIM of the output downsampled back against the input. The issue's goals: upscaling costs
at most 0.02 f1, and shared noise flickers less than independent noise.

Taught in: notebooks/11_super_resolution.ipynb
"""
from __future__ import annotations

import time

import torch

from ..data import SyntheticClips, clip_preset
from ..metrics import paired_difference, score_pairs
from ..metrics.upscaling import bicubic_upscale, flicker_excess, input_fidelity, psnr, ssim, temporal_flicker
from ..model.sr import downsample_frames
from ..pipeline import generate, load_model, sampling_setup, upscale
from ..utils import derive_seed

__all__ = ["measure_upscaling", "upscaling_markdown", "GOAL_F1_COST"]

#: The issue's goal: upscaling may cost at most this much f1.
GOAL_F1_COST = 0.02


def _low_sets(sr, n: int, seed: int, low_model: str, progress: bool) -> tuple[dict, str]:
    """(the real and generated low-resolution sets, the clip preset they are scored at: the low model's)."""
    model, meta = load_model(low_model)
    schedule, low_preset = sampling_setup(meta)
    if tuple(model.config.video_shape[2:]) != tuple(sr.config.low_size):
        raise ValueError(f"{low_model} makes {model.config.video_shape[2:]} frames, not the upsampler's input "
                         f"{sr.config.low_size}")
    real = SyntheticClips(clip_preset(sr.config.clip), seed=derive_seed(seed, "sr-real")).batch(range(n))
    sets = {"real": {"video": downsample_frames(real["video"], sr.config.low_size), "audio": real["audio"],
                     "truth": real["video"]},
            "generated": generate(model, n, method="dpm_solver", steps=20, order=3, seed=derive_seed(seed, "sr-gen"),
                                  schedule=schedule, progress=progress)}
    return sets, low_preset


def measure_upscaling(checkpoint: str = "sr-tiny", n: int = 32, seed: int = 0, steps: int = 25,
                      low_model: str = "tiny", progress: bool = False) -> dict:
    """The measurements of the module's doc, as a dict (``goals`` says whether each goal holds)."""
    sr, meta = load_model(checkpoint)
    schedule, hr_preset = sampling_setup(meta)
    sets, low_preset = _low_sets(sr, n, seed, low_model, progress)
    out = {"checkpoint": str(checkpoint), "step": meta.get("step"), "n": n, "seed": seed, "steps": steps,
           "low_model": low_model, "hr_preset": hr_preset, "low_preset": low_preset, "sets": {}}
    for name, low in sets.items():
        before = score_pairs(low["video"], low["audio"], low_preset)
        bic = bicubic_upscale(low["video"], sr.config.frame_shape[1:])
        row = {"low": {k: float(before[k].mean()) for k in ("f1", "f1_exact", "semantic")},
               "bicubic_flicker": float(temporal_flicker(bic).mean())}
        excess = {}
        for mode, shared in (("shared", True), ("independent", False)):
            t0 = time.perf_counter()
            up = upscale(sr, low["video"], steps=steps, seed=seed, shared_noise=shared, schedule=schedule,
                         progress=progress)
            seconds = time.perf_counter() - t0
            after = score_pairs(up, low["audio"], hr_preset)
            fid = input_fidelity(up, low["video"])
            excess[mode] = flicker_excess(up, low["video"])
            r = {"seconds": seconds, "flicker": float(temporal_flicker(up).mean()),
                 "flicker_excess": float(excess[mode].mean()),
                 "input_psnr": float(fid["psnr"].mean()), "input_ssim": float(fid["ssim"].mean())}
            for k in ("f1", "f1_exact", "semantic"):
                d, se = paired_difference(after[k], before[k])
                r[k], r[f"d_{k}"], r[f"se_d_{k}"] = float(after[k].mean()), d, se
            if "truth" in low:
                r["truth_psnr"] = float(psnr(up, low["truth"]).mean())
                r["truth_ssim"] = float(ssim(up, low["truth"]).mean())
                r["bicubic_truth_psnr"] = float(psnr(bic, low["truth"]).mean())
                r["bicubic_truth_ssim"] = float(ssim(bic, low["truth"]).mean())
            row[mode] = r
        d, se = paired_difference(excess["shared"], excess["independent"])
        row["flicker_shared_minus_independent"] = {"mean": d, "se": se}
        out["sets"][name] = row
    gen = out["sets"]["generated"]
    out["goals"] = {
        "f1_cost_at_most_0.02": gen["shared"]["d_f1"] >= -GOAL_F1_COST,
        "shared_flickers_less": all(s["flicker_shared_minus_independent"]["mean"] < 0 for s in out["sets"].values()),
    }
    return out


def upscaling_markdown(r: dict) -> str:
    """The measurement as markdown tables (one per set)."""
    lines = [f"Upscaling with `{r['checkpoint']}` (step {r['step']}), DDIM-{r['steps']}, {r['n']} pairs per set, "
             f"seed {r['seed']}; sync scored at `{r['low_preset']}` before and `{r['hr_preset']}` after; Δ paired by clip.", ""]
    for name, row in r["sets"].items():
        lines += [f"**{name}** pairs: low-resolution f1 {row['low']['f1']:.3f}, semantic {row['low']['semantic']:.3f}; "
                  f"bicubic flicker {row['bicubic_flicker']:.4f}", "",
                  "| noise | f1 | Δf1 ± se | semantic | Δsemantic | flicker | added flicker | input PSNR | input SSIM |"
                  + (" PSNR vs truth | SSIM vs truth |" if "truth_psnr" in row["shared"] else ""),
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if "truth_psnr" in row["shared"] else "")]
        for mode in ("shared", "independent"):
            m = row[mode]
            se = f" ± {m['se_d_f1']:.3f}" if m["se_d_f1"] is not None else ""
            cells = [mode, f"{m['f1']:.3f}", f"{m['d_f1']:+.3f}{se}", f"{m['semantic']:.3f}", f"{m['d_semantic']:+.3f}",
                     f"{m['flicker']:.4f}", f"{m['flicker_excess']:+.4f}", f"{m['input_psnr']:.1f} dB",
                     f"{m['input_ssim']:.3f}"]
            if "truth_psnr" in m:
                cells += [f"{m['truth_psnr']:.1f} dB (bicubic {m['bicubic_truth_psnr']:.1f})",
                          f"{m['truth_ssim']:.3f} (bicubic {m['bicubic_truth_ssim']:.3f})"]
            lines.append("| " + " | ".join(cells) + " |")
        f = row["flicker_shared_minus_independent"]
        lines += ["", f"added flicker, shared minus independent noise: {f['mean']:+.4f} ± {f['se']:.4f} (paired se)", ""]
    g = r["goals"]
    lines.append(f"Goals: upscaling costs ≤ {GOAL_F1_COST} f1 on generated pairs: "
                 f"{'PASS' if g['f1_cost_at_most_0.02'] else 'MISSED'}; shared noise flickers less: "
                 f"{'PASS' if g['shared_flickers_less'] else 'MISSED'}.")
    return "\n".join(lines) + "\n"
