"""File I/O: wav and mp4 round trips keep shapes, values, duration and sync; playback HTML is small."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.data.io import aac_rate
from mmdiff_lite.data.media import probe
from mmdiff_lite.viz import pair_figure, pair_html, show_pair


def sine(freq, rate, seconds, channels=1):
    t = torch.arange(int(rate * seconds)) / rate
    return (0.5 * torch.sin(2 * math.pi * freq * t)).expand(channels, -1).clone()


def test_wav_round_trip(tmp_path):
    a = sine(440, 8000, 0.5, channels=2)
    mm.data.write_wav(tmp_path / "x.wav", a, 8000)
    back, rate = mm.data.read_wav(tmp_path / "x.wav")
    assert rate == 8000 and back.shape == a.shape
    assert (back - a).abs().max() < 1 / 32767 + 1e-6  # 16-bit PCM
    assert [p.name for p in tmp_path.iterdir()] == ["x.wav"]  # atomic: no temp file left


def test_wav_read_resamples(tmp_path):
    mm.data.write_wav(tmp_path / "x.wav", sine(256, 4096, 1.0), 4096)
    back, rate = mm.data.read_wav(tmp_path / "x.wav", sample_rate=16000)
    assert rate == 16000 and back.shape == (1, 16000)
    assert (back - sine(256, 16000, 1.0)).abs()[:, 100:-100].max() < 0.01


def test_resample_there_and_back():
    a = sine(256, 4096, 1.0)
    back = mm.data.resample(mm.data.resample(a, 4096, 16000), 16000, 4096)
    assert back.shape == a.shape and (back - a)[:, 50:-50].abs().max() < 0.01


def test_aac_rates():
    assert aac_rate(4096) == 16000 and aac_rate(16000) == 16000 and aac_rate(44100) == 44100 and aac_rate(20000) == 22050


def test_mp4_round_trip_of_a_benchmark_clip(tmp_path):
    cfg = mm.clip_preset("tiny")
    clip = mm.synthetic_clip(3)
    mm.write_mp4(tmp_path / "c.mp4", clip["video"], clip["audio"], cfg.fps, cfg.sample_rate)
    info = probe(tmp_path / "c.mp4")
    assert info.has_video and info.has_audio and info.fps == 16 and (info.width, info.height) == (16, 16)
    assert info.duration == pytest.approx(1.0, abs=0.1)
    back = mm.read_mp4(tmp_path / "c.mp4", sample_rate=cfg.sample_rate, num_frames=cfg.num_frames)
    assert back["video"].shape == cfg.video_shape and back["audio"].shape == cfg.audio_shape
    assert (back["video"] - clip["video"]).abs().mean() < 0.05  # lossy, but close
    assert (back["audio"] - clip["audio"]).abs().max() < 0.1
    s = mm.sync_scores(back["video"], back["audio"])  # the analyzers survive compression
    assert s["f1"] == 1 and s["f1_exact"] == 1 and s["semantic"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]


def test_mp4_keeps_sync_of_an_impulse(tmp_path):
    """A flash at frame 5 and a click at 5/16 s stay together within one frame after AAC + H.264."""
    video = -torch.ones(16, 3, 16, 16)
    video[5] = 1
    audio = torch.zeros(1, 4096)
    audio[0, 5 * 256] = 0.9
    mm.write_mp4(tmp_path / "i.mp4", video, audio, 16, 4096)
    back = mm.read_mp4(tmp_path / "i.mp4", sample_rate=4096, num_frames=16)
    assert int(back["video"].mean((1, 2, 3)).argmax()) == 5
    assert abs(int(back["audio"][0].abs().argmax()) - 5 * 256) < 256


def test_mp4_any_rate_and_channels(tmp_path):
    v = torch.rand(25, 3, 48, 80) * 2 - 1
    a = sine(1000, 44100, 1.0, channels=2)
    mm.write_mp4(tmp_path / "s.mp4", v, a, 25, 44100)
    back = mm.read_mp4(tmp_path / "s.mp4")
    assert back["fps"] == 25 and back["sample_rate"] == 44100 and back["video"].shape == (25, 3, 48, 80)
    assert back["audio"].shape[0] == 2 and back["audio"].shape[1] >= 44100


def test_mp4_without_sound_reads_as_an_error(tmp_path):
    mm.write_mp4(tmp_path / "n.mp4", torch.zeros(4, 3, 16, 16), None, 16, 4096)
    assert not probe(tmp_path / "n.mp4").has_audio
    with pytest.raises(mm.data.MediaError, match="no audio stream"):
        mm.read_mp4(tmp_path / "n.mp4")


def test_bad_clips_get_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="even"):
        mm.data.encode_mp4(torch.zeros(4, 3, 15, 16), torch.zeros(1, 4096), 16, 4096)
    with pytest.raises(ValueError, match=r"\(F, C, H, W\)"):
        mm.data.encode_mp4(torch.zeros(3, 16, 16), torch.zeros(1, 4096), 16, 4096)
    (tmp_path / "bad.mp4").write_bytes(b"garbage" * 100)
    with pytest.raises(mm.data.MediaError, match="bad.mp4: cannot open"):
        mm.read_mp4(tmp_path / "bad.mp4")


def test_show_pair_html_is_small_and_plays_sound(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    clip = mm.synthetic_clip(1)
    fig = show_pair(clip)
    (html,) = shown
    assert '<video controls' in html.data and "data:video/mp4;base64," in html.data
    assert len(html.data) < 120_000  # tens of KB per pair in the saved notebook
    assert len(fig.axes) == 3
    assert all(ax.get_xlim() == pytest.approx((0, 1.0)) for ax in fig.axes)  # one shared time axis
    markers = [ln for ln in fig.axes[1].lines if ln.get_linestyle() == "--"]
    assert sorted(ln.get_xdata()[0] for ln in markers) == pytest.approx(clip["impact_times"])


def test_pair_html_takes_rates_from_a_preset_or_arguments():
    clip = mm.synthetic_clip(2, "paper")
    html = pair_html(clip["video"], clip["audio"], preset="paper")
    assert "<video" in html
    fig = pair_figure(clip["video"][:4], clip["audio"][:, :6400], fps=10, sample_rate=16000)
    assert fig.axes[0].get_xlim() == pytest.approx((0, 0.4))
    with pytest.raises(ValueError, match="fps"):
        pair_figure(clip["video"], clip["audio"])
