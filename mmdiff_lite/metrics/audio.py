"""What a soundtrack of the synthetic benchmark holds: tone onsets, their pitch and purity.

Onsets come from short-time energy: blocks of a quarter frame, an onset where the energy rises above
a floor and to several times the energy just before it. The pitch of each onset is the peak of the
spectrum of one tone length from the onset (plus a quarter before it; Hann window, zero-padded FFT); its *purity* is the share
of that spectrum's energy near the peak (a clean tone is close to 1, noise close to 0). Kept in plain
numpy so that scoring a batch costs milliseconds.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import numpy as np

from ..data.presets import ClipConfig, clip_preset

__all__ = ["analyze_audio", "onset_blocks", "tone_pitch"]

_ENERGY_FLOOR = 2e-3  # mean square below this is silence (a tone starts near 0.2)
_RISE = 4.0  # an onset block holds this many times the energy of the blocks before it
_OCTAVE_TOL = 0.25  # a pitch within a quarter octave of a palette pitch is that pitch


def onset_blocks(x: np.ndarray, cfg: ClipConfig) -> tuple[np.ndarray, int]:
    """Onset block indices of a mono signal ``x`` (T,) and the block length (a quarter frame).

    After an onset no other onset is taken for one tone length (the tone's own decay).
    """
    hop = max(1, cfg.samples_per_frame // 4)
    n = len(x) // hop
    energy = (x[: n * hop].reshape(n, hop).astype(np.float64) ** 2).mean(axis=1)
    before = np.maximum(np.concatenate([[0.0], energy[:-1]]), np.concatenate([[0.0, 0.0], energy[:-2]]))
    candidate = (energy > _ENERGY_FLOOR) & (energy > _RISE * np.maximum(before, _ENERGY_FLOOR / _RISE))
    candidate[:1] = False  # sound already there at the start has no visible beginning
    refractory = int(np.ceil(cfg.tone_seconds * cfg.sample_rate / hop))
    onsets, last = [], -refractory
    for j in np.nonzero(candidate)[0]:
        if j - last >= refractory:
            onsets.append(int(j))
            last = j
    return np.asarray(onsets, dtype=int), hop


def tone_pitch(segment: np.ndarray, cfg: ClipConfig) -> tuple[float, float]:
    """Peak frequency (Hz) and purity (share of spectral energy near the peak) of one tone segment."""
    seg = segment.astype(np.float64) - segment.mean()
    if len(seg) < 8 or not np.any(seg):
        return 0.0, 0.0
    nfft = 1 << int(np.ceil(np.log2(4 * len(seg))))
    power = np.abs(np.fft.rfft(seg * np.hanning(len(seg)), nfft)) ** 2
    peak = int(np.argmax(power))
    width = int(np.ceil(3 * nfft / len(seg)))  # three bins of the unpadded window either side
    near = power[max(0, peak - width): peak + width + 1].sum()
    return peak * cfg.sample_rate / nfft, float(near / power.sum())


def _pitch_class(freq: float, cfg: ClipConfig) -> int:
    """Index of the palette pitch within a quarter octave of ``freq``, else -1."""
    if freq <= 0:
        return -1
    dist = np.abs(np.log2(freq / np.asarray(cfg.pitches)))
    k = int(np.argmin(dist))
    return k if dist[k] < _OCTAVE_TOL else -1


def analyze_audio(audio: np.ndarray, cfg: str | ClipConfig = "tiny") -> list[dict]:
    """Analyse a batch (B, C, T) of benchmark soundtracks; one dict per clip.

    Keys: ``onsets`` (list of (frame, pitch class or -1)), ``onset_times`` (s), ``pitches`` (Hz),
    ``purity`` (per onset), ``tone_purity`` (mean purity, 0 without onsets), ``tone_energy`` (share
    of the clip's energy inside the detected tones) and ``audio_plausibility`` (their product).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    cfg = clip_preset(cfg)
    a = np.nan_to_num(np.asarray(audio, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    mono = np.clip(a, -1.0, 1.0).mean(axis=1)
    n_tone = int(round(cfg.tone_seconds * cfg.sample_rate))
    spf = cfg.samples_per_frame
    out = []
    for x in mono:
        blocks, hop = onset_blocks(x, cfg)
        onsets, times, freqs, purity = [], [], [], []
        inside = 0.0
        for j in blocks:
            start = j * hop
            seg = x[max(0, start - n_tone // 4):start + n_tone]  # a Hann window would hide the onset itself
            freq, pure = tone_pitch(seg, cfg)
            frame = int(np.floor(start / spf + 0.5))
            onsets.append((frame, _pitch_class(freq, cfg)))
            times.append(start / cfg.sample_rate)
            freqs.append(freq)
            purity.append(pure)
            inside += float((seg.astype(np.float64) ** 2).sum())
        total = float((x.astype(np.float64) ** 2).sum())
        tone_purity = float(np.mean(purity)) if purity else 0.0
        tone_energy = inside / total if total > 0 else 0.0
        out.append({
            "onsets": onsets,
            "onset_times": times,
            "pitches": freqs,
            "purity": purity,
            "tone_purity": tone_purity,
            "tone_energy": tone_energy,
            "audio_plausibility": tone_purity * tone_energy,
        })
    return out
