"""Seeing and hearing a pair in a notebook: an HTML5 video with its sound beside a time-aligned figure.

:func:`show_pair` displays a small mp4 (H.264 + AAC, embedded as base64 so the saved notebook plays it
anywhere) next to a figure whose three panels share one time axis: the frames as a strip, the
waveform and a spectrogram, with the ground-truth impacts marked when the pair carries them. Tiny
16x16 frames are enlarged (nearest) so they can be seen. A pair costs a few tens of KB in the notebook.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import base64
import io
import math

import numpy as np
import torch

from ..data.io import encode_mp4
from ..data.presets import ClipConfig, clip_preset

__all__ = ["show_pair", "pair_figure", "pair_html", "draw_spectrogram", "slowed", "audio_row", "video_row"]

_DISPLAY_SIDE = 128  # frames are enlarged (nearest) to at least this many pixels on their short side


def _unpack(pair_or_video, audio, fps, sample_rate, preset):
    """-> (video (F, C, H, W), audio (C, T), fps, rate, impact times or None)."""
    truth = None
    if isinstance(pair_or_video, dict):
        pair = pair_or_video
        video, audio = pair["video"], pair["audio"] if audio is None else audio
        preset = preset or pair.get("preset")
        truth = pair.get("impact_times")
    else:
        video = pair_or_video
    if audio is None:
        raise ValueError("no audio: pass a pair dict or audio=...")
    if preset is not None:
        cfg = clip_preset(preset)
        fps, sample_rate = fps or cfg.fps, sample_rate or cfg.sample_rate
    if not fps or not sample_rate:
        raise ValueError("pass fps= and sample_rate= (or preset='tiny'/'paper') to place frames and sound in time")
    video = torch.as_tensor(video).detach().cpu().float()
    audio = torch.as_tensor(audio).detach().cpu().float()
    if video.ndim != 4 or audio.ndim != 2:
        raise ValueError(f"one pair please: video (F, C, H, W) and audio (C, T), got {tuple(video.shape)} and {tuple(audio.shape)}")
    return video, audio, float(fps), int(sample_rate), truth


def draw_spectrogram(ax, wav, rate: int, nfft: int = 256, range_db: float = 50.0, clim_db=None):
    """Log-power spectrogram of a mono waveform on ``ax`` (time in s, frequency in Hz): ``range_db`` below its
    peak, or the fixed colour range ``clim_db`` (dB) so that several rows can be compared.

    Taught in: notebooks/01_forward_diffusion.ipynb, notebooks/03_audio_video_data.ipynb
    """
    import matplotlib.pyplot as plt

    wav = np.asarray(wav, dtype=np.float64)
    cmap = plt.get_cmap("magma").with_extremes(bad="black", under="black")
    with np.errstate(divide="ignore"):  # silent stretches have log(0) power: drawn black
        power, _, _, image = ax.specgram(wav, NFFT=nfft, Fs=rate, noverlap=nfft * 3 // 4, cmap=cmap)
    top = 10 * np.log10(max(float(power.max()), 1e-12))
    image.set_clim(*(clim_db or (top - range_db, top)))  # below the peak: tones stand out from clicks
    return image


def pair_figure(pair_or_video, audio=None, fps=None, sample_rate=None, preset: str | ClipConfig | None = None,
                title: str | None = None, width: float = 7.0):
    """Frame strip, waveform and spectrogram of one pair on a shared time axis (a matplotlib Figure).

    Taught in: notebooks/03_audio_video_data.ipynb
    """
    import matplotlib.pyplot as plt

    video, audio, fps, rate, truth = _unpack(pair_or_video, audio, fps, sample_rate, preset)
    f, c, h, w = video.shape
    duration = f / fps
    strip = ((video.clamp(-1, 1) + 1) / 2).permute(2, 0, 3, 1).reshape(h, f * w, c).numpy()
    strip_h = width * 0.85 / f * h / w  # keeps frames square
    fig, axes = plt.subplots(3, 1, figsize=(width, strip_h + 2.6), sharex=True,
                             gridspec_kw={"height_ratios": [strip_h, 1.2, 1.4]})
    axes[0].imshow(strip.squeeze(-1) if c == 1 else strip, extent=(0, duration, 0, 1), aspect="auto",
                   interpolation="nearest", cmap="gray" if c == 1 else None)
    axes[0].set_yticks([])
    axes[0].set_title(title or f"{f} frames at {fps:g} fps, {audio.shape[-1]} samples at {rate} Hz", fontsize=9)
    mono = audio.mean(0).numpy()
    t = np.arange(len(mono)) / rate
    axes[1].plot(t, mono, lw=0.6, color="k")
    axes[1].set_ylim(-1.05, 1.05)
    axes[1].set_ylabel("wave", fontsize=8)
    draw_spectrogram(axes[2], mono, rate, nfft=1 << max(6, int(math.log2(rate / fps))))  # ~one frame per window
    axes[2].set_ylabel("Hz", fontsize=8)
    axes[2].set_xlabel("time (s)")
    axes[2].set_xlim(0, duration)
    for when in truth or []:
        for ax in axes:
            ax.axvline(when, color="cyan", lw=0.8, ls="--")
    for ax in axes:
        ax.tick_params(labelsize=7)
    fig.tight_layout(h_pad=0.3)
    plt.close(fig)  # shown through show_pair's HTML, not twice
    return fig


def slowed(video: torch.Tensor, audio: torch.Tensor, fps: float, rate: int, factor: int = 4):
    """A clip played ``factor`` times slower: every frame held ``factor`` times as long (the frame rate divided) and
    the sound time-stretched by a phase vocoder (``librosa.effects.time_stretch``), so it keeps its pitch.  One
    second of the benchmark is too short to judge sync by ear; at 1/4 speed each impact and its tone are 250 ms
    apart from a one-frame error instead of 62 ms."""
    import librosa

    stretched = np.stack([librosa.effects.time_stretch(ch.numpy().astype(np.float32), rate=1.0 / factor)
                          for ch in audio.float()])
    want = audio.shape[-1] * factor
    stretched = np.pad(stretched, ((0, 0), (0, max(0, want - stretched.shape[-1]))))[:, :want]
    return video, torch.from_numpy(stretched).clamp(-1, 1), fps / factor, rate


def _video_tag(video, audio, fps, rate, scale: int, label: str | None = None) -> str:
    mp4 = base64.b64encode(encode_mp4(video, audio, fps, rate, scale=scale, crf=30)).decode()
    side = max(video.shape[-1] * scale, 160)
    tag = f'<video controls loop width="{side}" src="data:video/mp4;base64,{mp4}"></video>'
    return f'<figure style="margin:0">{tag}<figcaption style="font-size:11px">{label}</figcaption></figure>' if label else tag


def pair_html(pair_or_video, audio=None, fps=None, sample_rate=None, preset: str | ClipConfig | None = None,
              title: str | None = None, fig=None, slow: int | None = None) -> str:
    """HTML of one pair: a looping ``<video controls>`` (base64 mp4 with sound) beside the figure (base64 png);
    ``slow=4`` adds a copy at 1/4 speed with its sound stretched, pitch kept (:func:`slowed`)."""
    video, audio_t, fps, rate, _ = _unpack(pair_or_video, audio, fps, sample_rate, preset)
    short = min(video.shape[-2:])
    scale = max(1, math.ceil(_DISPLAY_SIDE / short))
    scale += scale % 2 if (video.shape[-1] * scale) % 2 or (video.shape[-2] * scale) % 2 else 0
    players = _video_tag(video, audio_t, fps, rate, scale, "real time" if slow else None)
    if slow:
        players += _video_tag(*slowed(video, audio_t, fps, rate, slow), scale, f"1/{slow} speed, pitch kept")
    fig = fig or pair_figure(pair_or_video, audio, fps, sample_rate, preset, title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72, bbox_inches="tight")
    p64 = base64.b64encode(buf.getvalue()).decode()
    return (
        '<div style="display:flex;align-items:center;gap:12px">'
        f'{players}<img style="max-width:560px" src="data:image/png;base64,{p64}"/></div>'
    )


def audio_row(sounds: dict, rate: int) -> str:
    """HTML: one labelled, looping ``<audio>`` player per ``{label: (C, T) waveform in [-1, 1]}``, side by side."""
    import soundfile as sf

    cells = []
    for label, wav in sounds.items():
        buf = io.BytesIO()
        sf.write(buf, np.asarray(torch.as_tensor(wav).float().clamp(-1, 1)).T, int(rate), format="WAV", subtype="PCM_16")
        b64 = base64.b64encode(buf.getvalue()).decode()
        cells.append(f'<figure style="margin:0 8px 0 0"><figcaption style="font-size:11px">{label}</figcaption>'
                     f'<audio controls loop style="width:150px" src="data:audio/wav;base64,{b64}"></audio></figure>')
    return '<div style="display:flex;flex-wrap:wrap">' + "".join(cells) + "</div>"


def show_pair(pair_or_video, audio=None, fps=None, sample_rate=None, preset: str | ClipConfig | None = None,
              title: str | None = None, slow: int | None = None):
    """Show one pair in a notebook: a playable video with its sound next to frames, waveform and
    spectrogram on one time axis (impacts marked when the pair dict has ``impact_times``).

    Accepts a pair dict (``{"video", "audio"}`` plus optional ground truth and ``preset``) or a video
    and ``audio=``; rates come from ``fps``/``sample_rate`` or a ``preset`` name. Returns the figure
    (e.g. for ``run.savefig``).  The player loops; ``slow=4`` adds a copy at a quarter of the speed (sound
    time-stretched, pitch kept), long enough to hear whether each tone lands on its impact.

    Taught in: notebooks/03_audio_video_data.ipynb, notebooks/00_quickstart.ipynb, notebooks/07_joint_sampling.ipynb
    """
    from IPython.display import HTML, display

    import matplotlib.pyplot as plt

    fig = pair_figure(pair_or_video, audio, fps, sample_rate, preset, title)
    display(HTML(pair_html(pair_or_video, audio, fps, sample_rate, preset, title, fig=fig, slow=slow)))
    plt.close(fig)  # already shown inside the HTML; an inline backend must not show it twice
    return fig


def video_row(pairs: dict, preset: str | ClipConfig) -> str:
    """HTML: one labelled, looping player (video with its sound) per ``{label: {"video", "audio"}}``, side by side."""
    cfg = clip_preset(preset)
    scale = max(2, 2 * math.ceil(_DISPLAY_SIDE / min(cfg.height, cfg.width) / 2))
    cells = [_video_tag(p["video"], p["audio"], cfg.fps, cfg.sample_rate, scale, label) for label, p in pairs.items()]
    return '<div style="display:flex;flex-wrap:wrap;gap:8px">' + "".join(cells) + "</div>"
