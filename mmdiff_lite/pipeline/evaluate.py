"""Score generated pairs: samplers side by side, coupled vs uncoupled models, shift on vs off.

Every score comes with its chance level: the same generated clips with each video given the next
pair's audio (:func:`mmdiff_lite.metrics.shuffled_scores`).

Taught in: notebooks/07_joint_sampling.ipynb.
"""
from __future__ import annotations

import math
import time
from typing import Iterable, Sequence

import torch

from ..diffusion import Schedule, benchmark_table, linear_schedule, q_sample
from ..metrics.reference import PAIRING_KEYS, shuffled_scores
from ..metrics.sync import HEADLINE_KEYS, paired_difference, standard_error, sync_scores
from ..model import shift_mode
from ..utils import derive_seed, make_generator, tqdm
from .generate import generate, model_fn_of

__all__ = ["SAMPLER_TABLE", "timed_generate", "score_generated", "score_pairs_with_chance", "paired_differences", "compare_samplers",
           "noise_prediction", "per_frame_error", "timing_reliance"]

#: The sampler comparison, (label, method, steps, options): read from the samplers' registry.
SAMPLER_TABLE = benchmark_table()


def timed_generate(model: torch.nn.Module, n: int, *, shift: str | int = "trained", batch_size: int = 16,
                   **kwargs) -> tuple[dict, float, int]:
    """(pairs, seconds, NFE) of :func:`generate` with the RS-MMA shift mode ``shift`` (``"trained"``, the
    model's own; ``"random"``; ``"none"``, R = 0; or a fixed integer).  NFE counts the network's calls per batch.
    """
    calls = []
    handle = model.register_forward_hook(lambda *_: calls.append(1))
    start = time.perf_counter()
    try:
        with shift_mode(model, shift):
            pairs = generate(model, n, batch_size=batch_size, **kwargs)
    finally:
        handle.remove()
    return pairs, time.perf_counter() - start, len(calls) // math.ceil(n / batch_size)


def score_generated(model: torch.nn.Module, n: int, preset: str, *, method: str = "dpm_solver", steps: int = 20,
                    seed: int = 0, batch_size: int = 16, progress: bool = False, schedule: Schedule | None = None,
                    shift: str | int = "trained", **options) -> dict:
    """Generate ``n`` pairs and return the seconds taken, the NFE, their headline scores with the
    standard errors of the sync ones (``se_f1``, ...), the chance level of the scores that depend on
    the pairing (``chance_f1``, ...; both ``None`` for a single pair), ``per_clip`` (those scores pair by
    pair, lists of floats: two samplers on the same seeds compare with :func:`paired_differences`) and the pairs."""
    pairs, seconds, nfe = timed_generate(model, n, method=method, steps=steps, seed=seed, batch_size=batch_size,
                                         progress=progress, schedule=schedule, shift=shift, **options)
    return {"seconds": seconds, "nfe": nfe, **score_pairs_with_chance(pairs, preset), "pairs": pairs}


def score_pairs_with_chance(pairs: dict, preset) -> dict:
    """The headline scores of ``pairs``, the standard errors and chance levels (each video with the next pair's
    audio; ``None`` for one pair) of the pairing scores, and those scores pair by pair (``per_clip``)."""
    scores = sync_scores(pairs["video"], pairs["audio"], preset=preset)
    chance = shuffled_scores(pairs["video"], pairs["audio"], preset) if len(pairs["video"]) > 1 else {}
    return {**{k: scores[k] for k in HEADLINE_KEYS},
            **{f"se_{k}": standard_error(scores["per_clip"][k]) for k in PAIRING_KEYS},
            **{f"chance_{k}": chance.get(k) for k in PAIRING_KEYS},
            "per_clip": {k: scores["per_clip"][k].tolist() for k in PAIRING_KEYS}}


def paired_differences(rows: Sequence[dict], reference: str, key: str = "f1",
                       group_by: str | None = "shift") -> list[dict]:
    """Each row's ``key`` minus the ``reference`` row's, pair by pair on the same seeds, with its standard error.

    ``rows`` are results of :func:`score_generated` / :func:`compare_samplers` with ``"sampler"`` labels
    and ``per_clip`` scores.  A row is compared with the first row labelled ``reference`` that has the
    same ``rows[i][group_by]`` (e.g. the same RS-MMA shift, or the same number of pairs); with
    ``group_by=None`` every row with the first row labelled ``reference``.  Adds ``d_{key}`` and
    ``se_d_{key}`` (:func:`mmdiff_lite.metrics.paired_difference`; 0 and 0 for the reference itself) and
    ``d_reference``, what was subtracted, then returns the rows.
    Taught in: notebooks/07_joint_sampling.ipynb.
    """
    group = (lambda r: r.get(group_by)) if group_by else (lambda r: None)
    refs = {}
    for r in rows:
        if r["sampler"] == reference:
            refs.setdefault(group(r), r)
    if not refs:
        labels = ", ".join(dict.fromkeys(r["sampler"] for r in rows))
        raise ValueError(f"no row is labelled {reference!r}: choose one of {labels}")
    for r in rows:
        ref = refs.get(group(r))
        if ref is not None:
            r[f"d_{key}"], r[f"se_d_{key}"] = paired_difference(r["per_clip"][key], ref["per_clip"][key])
            r["d_reference"] = ref["sampler"] if group_by or "shift" not in ref else \
                f"{ref['sampler']} with shift {ref['shift']}"
    return rows


def compare_samplers(model: torch.nn.Module, n: int, preset: str, table: Iterable = SAMPLER_TABLE, *,
                     seed: int = 0, progress: bool = False, schedule: Schedule | None = None,
                     shifts: Sequence[str | int] = ("trained",), labels: Sequence[str] | None = None,
                     batch_size: int = 16, reference: str | None = None) -> list[dict]:
    """One row per sampler of ``table`` (only those in ``labels`` when given) and RS-MMA shift mode of
    ``shifts``, all on the same seeds: label, shift, NFE, seconds, scores, chance levels, per-pair scores,
    and ``d_f1`` ± ``se_d_f1``: f1 minus the ``reference`` sampler's (default: the first row's) at the same
    shift, pair by pair on the same seeds (:func:`paired_differences`); with one sampler and several shift
    modes, f1 minus the first mode's."""
    table = list(table)
    known = [row[0] for row in table]
    unknown = [lab for lab in labels or () if lab not in known]
    if unknown:
        raise ValueError(f"unknown sampler(s) {', '.join(unknown)}: choose from {', '.join(known)}")
    cases = [(shift, row) for shift in shifts for row in table if labels is None or row[0] in labels]
    rows = []
    for shift, (label, method, steps, options) in tqdm(cases, desc="samplers", disable=not progress):
        r = score_generated(model, n, preset, method=method, steps=steps, seed=seed, batch_size=batch_size,
                            progress=progress, schedule=schedule, shift=shift, **options)
        r.pop("pairs")
        shown = f"trained ({model.config.shift})" if shift == "trained" and hasattr(model, "config") else shift
        rows.append({"sampler": label, "shift": shown, **r})
    if not rows:
        return rows
    shifts_compared = len({r["sampler"] for r in rows}) == 1 < len(rows)  # one sampler, several shift modes
    return paired_differences(rows, reference or rows[0]["sampler"], group_by=None if shifts_compared else "shift")


@torch.no_grad()
def noise_prediction(model: torch.nn.Module, clips: dict, t: float, *, noise_seed: int = 0, shift_seed: int = 0,
                     schedule: Schedule | None = None) -> dict:
    """Noise ``clips`` to time ``t`` with fixed noise and let ``model`` predict that noise.

    Returns ``{"xt", "eps", "eps_hat"}`` (dicts of modalities, on the CPU): the noisy clips
    x_t = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps (noise drawn with ``noise_seed``), the true noise and the
    predicted noise; a v-predicting model is converted with :func:`mmdiff_lite.eps_from_v`.  RS-MMA shifts
    come from ``shift_seed``.  ``predict_x0(xt, eps_hat, t, schedule)`` then gives the model's clean clips.
    Taught in: notebooks/06_training.ipynb.
    """
    schedule = schedule or linear_schedule()
    device = next(model.parameters()).device
    n = clips["video"].shape[0]
    tt = torch.full((n,), float(t), dtype=torch.float64)
    xt, eps = q_sample(clips, tt, schedule, generator=make_generator(derive_seed(noise_seed, "noise")))
    shift_gen = make_generator(derive_seed(shift_seed, "shift"), device)  # unrelated to the noise even when the seeds agree
    fn = model_fn_of(model, shift_generator=shift_gen, schedule=schedule)
    was_training = model.training
    model.eval()
    try:
        eps_hat = fn({k: v.to(device) for k, v in xt.items()}, tt.float().to(device))
    finally:
        model.train(was_training)
    return {"xt": xt, "eps": eps, "eps_hat": {k: v.float().cpu() for k, v in eps_hat.items()}}


def per_frame_error(model: torch.nn.Module, clips: dict, t: float, noise_seed: int = 0, *, shift_seed: int = 0,
                    schedule: Schedule | None = None) -> dict:
    """Mean squared error of the model's *noise* prediction per video frame and per audio segment.

    ``clips`` is a batch ``{"video": (B, F, C, H, W), "audio": (B, C, T)}``, noised to time ``t`` as in
    :func:`noise_prediction`.  Returns ``{"video": (F,), "audio": (F,)}``: frame f averages
    (eps_hat - eps)^2 over the batch, channels and pixels of frame f; audio segment f over the T / F
    samples that play during frame f.  An outlier frame shows what the network cannot predict there.
    Taught in: notebooks/06_training.ipynb.
    """
    f = clips["video"].shape[1]
    if clips["audio"].shape[-1] % f:
        raise ValueError(f"audio length {clips['audio'].shape[-1]} does not cut into {f} segments (one per frame)")
    out = noise_prediction(model, clips, t, noise_seed=noise_seed, shift_seed=shift_seed, schedule=schedule)
    err = {k: (out["eps_hat"][k] - out["eps"][k].float()) ** 2 for k in ("video", "audio")}  # (eps_hat - eps)^2
    video = err["video"].transpose(0, 1).reshape(f, -1).mean(1)
    audio = err["audio"].reshape(*err["audio"].shape[:-1], f, -1).transpose(0, -2).reshape(f, -1).mean(1)
    return {"video": video, "audio": audio}


def timing_reliance(model: torch.nn.Module, clips: dict, t: float, *, roll: int = 4, seeds: Sequence[int] = (0, 1, 2),
                    schedule: Schedule | None = None) -> float:
    """How much the model's *audio* prediction relies on *when* things happen in the video.

    The clips are noised to ``t`` twice with the same noise: once as they are and once with the video
    rolled by ``roll`` frames (the same motion, the impacts at other frames; the audio unchanged). The
    result is  MSE(audio noise | rolled video) / MSE(audio noise | true video), averaged over ``seeds``
    (noise and RS-MMA shifts). 1 means the audio ignores the video's timing (exactly 1 without cross
    attention); a model that places each tone on its impact's frame does clearly worse with the rolled video.
    Taught in: notebooks/07_joint_sampling.ipynb.
    """
    if not 0 < roll % clips["video"].shape[1]:
        raise ValueError(f"roll={roll} leaves the {clips['video'].shape[1]} frames where they are: use 1 ... F-1")
    errors = {}
    for name, video in (("true", clips["video"]), ("rolled", clips["video"].roll(roll, dims=1))):
        total = 0.0
        for s in seeds:
            out = noise_prediction(model, {"video": video, "audio": clips["audio"]}, t, noise_seed=s, shift_seed=s,
                                   schedule=schedule)
            total += (out["eps_hat"]["audio"] - out["eps"]["audio"].float()).square().mean().item()  # |eps_a - eps_a_hat|^2
        errors[name] = total
    return errors["rolled"] / errors["true"]
