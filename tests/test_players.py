"""The notebook players: looping video with sound, a slowed copy that keeps its pitch, audio rows; progress bars
that end at 100% in notebooks executed headless."""
import base64
import re

import numpy as np
import torch

import mmdiff_lite as mm
import mmdiff_lite.viz.av as av
from mmdiff_lite import utils


def _peak_hz(wave: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.fft.rfftfreq(len(wave), 1 / rate)[spectrum.argmax()])


def test_the_slowed_copy_is_four_times_longer_and_keeps_its_pitch():
    rate, fps = 4096, 16
    t = torch.arange(rate) / rate
    audio = (0.5 * torch.sin(2 * torch.pi * 440 * t))[None]
    video = torch.zeros(16, 3, 16, 16)
    v, a, slow_fps, slow_rate = av.slowed(video, audio, fps, rate, 4)
    assert a.shape == (1, 4 * rate) and slow_fps == fps / 4 and slow_rate == rate and v.shape == video.shape
    assert abs(_peak_hz(a[0].numpy(), rate) - 440) < 440 * 0.02  # a phase vocoder: same pitch, not 110 Hz


def test_players_loop_and_the_slow_copy_is_a_second_player():
    clip = mm.synthetic_clip(1, "tiny")
    plain, slow = av.pair_html(clip, preset="tiny"), av.pair_html(clip, preset="tiny", slow=4)
    assert plain.count("<video controls loop") == 1 and slow.count("<video controls loop") == 2
    assert "1/4 speed, pitch kept" in slow
    row = av.audio_row({"t = 0": clip["audio"], "t = 999": torch.randn(1, 4096).clamp(-1, 1)}, 4096)
    wavs = re.findall(r"data:audio/wav;base64,([A-Za-z0-9+/=]+)", row)
    assert len(wavs) == 2 and all(base64.b64decode(w)[:4] == b"RIFF" for w in wavs)
    videos = av.video_row({"a": clip, "b": clip}, "tiny")
    assert videos.count("<video controls loop") == 2


def test_progress_bars_are_text_without_a_front_end_and_widgets_with_one(monkeypatch):
    from tqdm.notebook import tqdm_notebook
    from tqdm.std import tqdm as text_bar

    monkeypatch.setenv("MMDIFF_WIDGETS", "0")
    bar = utils.tqdm(total=2, disable=True)
    assert type(bar) is text_bar
    monkeypatch.setenv("MMDIFF_WIDGETS", "1")
    bar = utils.tqdm(total=2, disable=True)
    assert isinstance(bar, tqdm_notebook)
