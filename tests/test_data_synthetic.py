"""The synthetic benchmark: presets, ground truth that matches picture and sound, determinism, speed."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.data.synthetic import tone
from mmdiff_lite.metrics import match_events

SEEDS = range(64)


def test_preset_shapes_are_fixed():
    tiny, paper = mm.clip_preset("tiny"), mm.clip_preset("paper")
    assert tiny.video_shape == (16, 3, 16, 16) and tiny.fps == 16 and tiny.duration == 1.0
    assert tiny.audio_shape == (1, 4096) and tiny.sample_rate == 4096
    assert paper.video_shape == (16, 3, 64, 64) and paper.fps == 10
    assert paper.audio_shape == (1, 25600) and paper.sample_rate == 16000 and paper.duration == pytest.approx(1.6)
    assert tiny.samples_per_frame == 256 and paper.samples_per_frame == 1600
    assert max(tiny.pitches) < tiny.sample_rate / 2  # below Nyquist
    assert mm.clip_preset(tiny) is tiny


def test_unknown_preset_lists_names():
    with pytest.raises(ValueError, match="tiny, small, ref-small, paper"):
        mm.clip_preset("huge")


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="Nyquist"):
        mm.clip_preset("tiny").with_(pitches=(256.0, 512.0, 3000.0))
    with pytest.raises(ValueError, match="multiple"):
        mm.clip_preset("tiny").with_(audio_samples=4001)


@pytest.mark.parametrize("preset", ["tiny", "paper"])
def test_clip_shapes_dtype_range(preset):
    cfg = mm.clip_preset(preset)
    clip = mm.synthetic_clip(3, preset)
    assert clip["video"].shape == cfg.video_shape and clip["audio"].shape == cfg.audio_shape
    assert clip["video"].dtype == torch.float32 and clip["audio"].dtype == torch.float32
    for x in (clip["video"], clip["audio"]):
        assert x.min() >= -1 and x.max() <= 1
    assert clip["video"].min() == -1 and clip["video"].max() == 1  # dark background, saturated ball


def test_determinism_from_seed():
    a, b, c = mm.synthetic_clip(7), mm.synthetic_clip(7), mm.synthetic_clip(8)
    assert torch.equal(a["video"], b["video"]) and torch.equal(a["audio"], b["audio"])
    assert a["impact_frames"] == b["impact_frames"]
    assert not torch.equal(a["video"], c["video"])


@pytest.mark.parametrize("preset", ["tiny", "paper"])
def test_ground_truth_rules(preset):
    cfg = mm.clip_preset(preset)
    for s in SEEDS:
        clip = mm.synthetic_clip(s, preset)
        frames = clip["impact_frames"]
        assert cfg.impacts[0] <= len(frames) <= cfg.impacts[1]
        assert all(1 <= f <= cfg.num_frames - 2 for f in frames)
        assert all(np.diff(frames) >= cfg.min_gap_frames)
        assert clip["impact_times"] == [f / cfg.fps for f in frames]
        assert len(set(clip["ball_colours"])) == len(clip["ball_colours"])  # one colour per ball
        for ball, colour, pitch in zip(clip["impact_balls"], clip["impact_colours"], clip["impact_pitches"]):
            k = clip["ball_colours"][ball]
            assert colour == cfg.colour_names[k] and pitch == cfg.pitches[k]


def test_impacts_are_wall_reversals_on_frames():
    """At every impact frame the ball touches a wall and its motion along that axis reverses."""
    cfg = mm.clip_preset("tiny")
    lo, hi = cfg.ball_radius, cfg.width - cfg.ball_radius
    for s in SEEDS:
        clip = mm.synthetic_clip(s)
        for f, b in zip(clip["impact_frames"], clip["impact_balls"]):
            p = clip["positions"][b]
            at_wall = np.isclose(p[f], lo, atol=1e-4) | np.isclose(p[f], hi, atol=1e-4)
            assert at_wall.any()
            axis = int(np.argmax(at_wall))
            assert (p[f, axis] - p[f - 1, axis]) * (p[f + 1, axis] - p[f, axis]) < 0
        # and nowhere else: between impacts no ball touches a wall
        for b, p in enumerate(clip["positions"]):
            touching = np.nonzero((np.isclose(p, lo, atol=1e-4) | np.isclose(p, hi, atol=1e-4)).any(1))[0]
            mine = [f for f, bb in zip(clip["impact_frames"], clip["impact_balls"]) if bb == b]
            assert sorted(touching.tolist()) == mine


def test_tone_starts_exactly_at_the_impact_frame_with_the_colour_pitch():
    cfg = mm.clip_preset("tiny")
    spf = cfg.samples_per_frame
    for s in range(16):
        clip = mm.synthetic_clip(s)
        audio = clip["audio"][0].numpy()
        frames = clip["impact_frames"]
        assert not audio[: frames[0] * spf].any()  # silence before the first impact
        for f, pitch in zip(frames, clip["impact_pitches"]):
            seg = audio[f * spf:(f + 1) * spf]
            assert audio[f * spf] == 0 and abs(seg[1]) > 0  # zero-phase start on the frame's first sample
            spectrum = np.abs(np.fft.rfft(seg))
            assert np.argmax(spectrum) * cfg.sample_rate / spf == pytest.approx(pitch, abs=cfg.sample_rate / spf)


def test_ball_pixels_have_the_ball_colour():
    cfg = mm.clip_preset("tiny")
    clip = mm.synthetic_clip(5)
    (k,) = clip["ball_colours"]
    y, x = clip["positions"][0, 0]
    pixel = (clip["video"][0, :, int(y), int(x)] + 1) / 2
    assert torch.allclose(pixel, torch.tensor(cfg.colours[k]), atol=1e-5)


def test_tone_has_no_clicks():
    wave = tone(4096, 256.0, 0.055, 0.8)
    assert wave[0] == 0 and abs(wave[-1]) < 1e-3 and np.abs(wave).max() <= 0.8


def test_chance_of_shuffled_pairs_is_low_by_design():
    """With ±1 frame tolerance, impacts of one clip match another clip's rarely (the issue's limit: 0.5)."""
    frames = [mm.synthetic_clip(s)["impact_frames"] for s in range(400)]
    f1 = [2 * len(match_events(frames[i], frames[i - 1])) / (len(frames[i]) + len(frames[i - 1])) for i in range(400)]
    assert np.mean(f1) <= 0.45


def test_dataset_items_depend_only_on_seed_and_index():
    ds = mm.SyntheticClips("tiny", seed=3, length=50)
    again = mm.SyntheticClips("tiny", seed=3, length=50)
    other = mm.SyntheticClips("tiny", seed=4, length=50)
    _ = [ds[i] for i in (9, 2, 7)]  # order of access does not matter
    assert torch.equal(ds[7]["video"], again[7]["video"]) and torch.equal(ds[7]["audio"], again[7]["audio"])
    assert torch.equal(ds[7]["video"], mm.synthetic_clip((3, 7))["video"])
    assert not torch.equal(ds[7]["video"], other[7]["video"])
    assert ds.truth(7)["impact_frames"] == mm.synthetic_clip((3, 7))["impact_frames"]
    assert torch.equal(ds[-1]["audio"], ds[49]["audio"])
    with pytest.raises(IndexError):
        ds[50]


def test_dataset_batches_collate_to_kit_shapes():
    ds = mm.SyntheticClips("tiny", seed=0, length=8)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["video"].shape == (4, 16, 3, 16, 16) and batch["audio"].shape == (4, 1, 4096)
    stacked = ds.batch(range(4))
    assert torch.equal(stacked["video"], batch["video"]) and torch.equal(stacked["audio"], batch["audio"])


def test_generator_speed_on_one_core():
    """The issue asks for >= 200 tiny clips/s on one core; we measure ~10x that, so 200 is a loose bound."""
    threads = torch.get_num_threads()
    rate = mm.data.clips_per_second(300, "tiny", threads=1)
    assert rate >= 200, f"{rate:.0f} clips/s"
    assert torch.get_num_threads() == threads  # restored
