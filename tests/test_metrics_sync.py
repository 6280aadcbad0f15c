"""The analyzers and sync scores are trustworthy: right on true pairs, low on broken ones, never crash."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.data.synthetic import render_audio
from mmdiff_lite.metrics import analyze_audio, analyze_video, match_events, score_pairs


def batch(preset="tiny", seeds=range(64)):
    clips = [mm.synthetic_clip(s, preset) for s in seeds]
    return clips, torch.stack([c["video"] for c in clips]), torch.stack([c["audio"] for c in clips])


@pytest.fixture(scope="module")
def tiny():
    return batch()


def test_true_pairs_score_high(tiny):
    _, v, a = tiny
    s = mm.sync_scores(v, a)
    assert s["f1"] >= 0.95 and s["f1_exact"] >= 0.95 and s["semantic"] >= 0.9
    assert s["video_plausibility"] >= 0.95 and s["audio_plausibility"] >= 0.9
    assert s["per_clip"]["f1"].shape == (64,) and s["per_clip"]["f1"].min() >= 0.9


def test_analyzers_recover_the_ground_truth(tiny):
    clips, v, a = tiny
    cfg = mm.clip_preset("tiny")
    for clip, vid, aud in zip(clips, analyze_video(v.numpy()), analyze_audio(a.numpy())):
        truth = [(f, k) for f, k in zip(clip["impact_frames"], [clip["ball_colours"][b] for b in clip["impact_balls"]])]
        assert vid["impacts"] == truth
        assert aud["onsets"] == truth  # same frames, and the pitch class is the ball's colour
        assert aud["onset_times"] == pytest.approx(clip["impact_times"])
        (k,) = clip["ball_colours"]
        assert np.abs(vid["tracks"][k] - clip["positions"][0]).max() < 0.35  # sub-pixel tracking
        assert aud["pitches"] == pytest.approx(clip["impact_pitches"], abs=cfg.sample_rate / 1024)


def test_broken_pairs_score_far_lower(tiny):
    _, v, a = tiny
    g = torch.Generator().manual_seed(0)
    shuffled = mm.sync_scores(v, a.roll(1, 0))
    frozen = mm.sync_scores(v[:, :1].expand_as(v), a)
    silent = mm.sync_scores(v, torch.zeros_like(a))
    noise = mm.sync_scores(torch.rand(v.shape, generator=g) * 2 - 1, torch.rand(a.shape, generator=g) * 2 - 1)
    assert shuffled["f1"] <= 0.5 and shuffled["f1_exact"] <= 0.3 and shuffled["semantic"] <= 0.4
    for s in (frozen, silent, noise):
        assert s["f1"] <= 0.05 and s["semantic"] <= 0.05
    assert silent["audio_plausibility"] == 0 and noise["audio_plausibility"] <= 0.05
    assert noise["video_plausibility"] <= 0.05 and frozen["video_plausibility"] >= 0.95  # frozen balls look fine


def test_semantic_catches_wrong_pitches(tiny):
    """Right timing but each tone at another colour's pitch: f1 stays, semantic collapses."""
    clips, v, _ = tiny
    cfg = mm.clip_preset("tiny")
    wrong = [render_audio(cfg, c["impact_frames"], [cfg.pitches[(cfg.pitches.index(p) + 1) % 3] for p in c["impact_pitches"]]) for c in clips]
    s = mm.sync_scores(v, torch.from_numpy(np.stack(wrong)))
    assert s["f1"] >= 0.95 and s["semantic"] <= 0.05


def test_tolerance_of_one_frame_is_exact(tiny):
    """Audio late by one frame keeps f1 (±1 frame) but loses f1_exact; late by two frames loses both."""
    _, v, a = tiny
    spf = mm.clip_preset("tiny").samples_per_frame
    one = mm.sync_scores(v, torch.nn.functional.pad(a, (spf, 0))[..., :-spf])
    two = mm.sync_scores(v, torch.nn.functional.pad(a, (2 * spf, 0))[..., : -2 * spf])
    assert one["f1"] >= 0.95 and one["f1_exact"] <= 0.05
    assert two["f1"] <= 0.5


def test_mildly_noisy_true_pairs_still_score_high(tiny):
    _, v, a = tiny
    g = torch.Generator().manual_seed(1)
    s = mm.sync_scores((v + 0.1 * torch.randn(v.shape, generator=g)).clamp(-1, 1),
                       (a + 0.02 * torch.randn(a.shape, generator=g)).clamp(-1, 1))
    assert s["f1"] >= 0.95 and s["semantic"] >= 0.9 and s["video_plausibility"] >= 0.9


def test_paper_preset_true_and_shuffled():
    _, v, a = batch("paper", range(16))
    assert mm.sync_scores(v, a, "paper")["f1"] >= 0.95
    assert mm.sync_scores(v, a.roll(1, 0), "paper")["f1"] <= 0.6


def test_batch_mean_equals_mean_of_single_clips(tiny):
    _, v, a = tiny
    whole = mm.sync_scores(v[:6], a[:6])
    singles = [mm.sync_scores(v[i], a[i]) for i in range(6)]  # unbatched (F, C, H, W), (C, T)
    for key in ("f1", "semantic", "video_plausibility", "tone_purity"):
        assert whole[key] == pytest.approx(np.mean([s[key] for s in singles]))
    assert mm.sync_scores(v[:6].numpy(), a[:6].numpy())["f1"] == whole["f1"]  # numpy in, same answer


def test_garbage_never_raises():
    cfg = mm.clip_preset("tiny")
    v = torch.full((3, *cfg.video_shape), float("nan"))
    v[1] = float("inf")
    v[2] = 50.0
    a = torch.full((3, *cfg.audio_shape), float("nan"))
    a[1] = -float("inf")
    a[2] = 1e6
    s = mm.sync_scores(v, a)
    assert all(0 <= s[k] <= 1 for k in ("f1", "f1_exact", "semantic", "video_plausibility", "audio_plausibility"))
    assert s["f1"] == 0


def test_wrong_shapes_say_which_preset():
    clip = mm.synthetic_clip(0, "paper")
    with pytest.raises(ValueError, match="preset"):
        mm.sync_scores(clip["video"], clip["audio"], "tiny")
    with pytest.raises(ValueError, match="dimensions"):
        mm.sync_scores(torch.zeros(16, 16), torch.zeros(1, 4096))
    with pytest.raises(ValueError, match="one soundtrack per video"):
        _, v, a = batch(seeds=range(2))
        mm.sync_scores(v, a[:1])


def test_match_events_is_one_to_one_and_closest_first():
    assert match_events([5], [4, 5, 6]) == [(0, 1)]
    assert match_events([5, 6], [6]) == [(1, 0)]
    assert match_events([3, 10], [4, 12], tolerance=1) == [(0, 0)]
    assert match_events([3], [4], tolerance=0) == []
    assert match_events([], [1, 2]) == []


def test_no_events_at_all_is_no_evidence():
    cfg = mm.clip_preset("tiny")
    s = score_pairs(-torch.ones(cfg.video_shape), torch.zeros(cfg.audio_shape))
    assert s["f1"][0] == 0 and s["n_impacts"][0] == 0 and s["n_onsets"][0] == 0


def test_onset_between_frames_rounds_to_the_nearest_frame():
    cfg = mm.clip_preset("tiny")
    spf = cfg.samples_per_frame
    clip = mm.synthetic_clip(0)
    a = clip["audio"].clone()
    late = torch.nn.functional.pad(a, (spf // 4, 0))[..., : -(spf // 4)]  # a quarter frame late
    (res,) = analyze_audio(late[None].numpy())
    assert [f for f, _ in res["onsets"]] == clip["impact_frames"]


def test_reference_table_rows_are_ordered_as_designed():
    t = mm.metrics.reference_table(48, "tiny", seed=5)
    assert t["true"]["f1"] >= 0.95 and t["shuffled (other clip's audio)"]["f1"] <= 0.5
    assert t["audio 1 frame late"]["f1_exact"] <= 0.05 and t["wrong pitch per colour"]["semantic"] <= 0.05
    assert max(t[k]["f1"] for k in ("frozen video", "silent audio", "noise (both)")) <= 0.05
    v, a = mm.reference_pairs(4, "tiny", seed=5)["true"]
    assert torch.equal(v[2], mm.synthetic_clip((5, 2))["video"])


def test_standard_error_known_answers():
    assert mm.metrics.standard_error([0.0, 1.0, 1.0, 1.0]) == pytest.approx(0.25)  # s = 0.5, n = 4
    assert mm.metrics.standard_error(np.full(10, 0.7)) == 0.0
    assert mm.metrics.standard_error([0.3]) is None
    g = np.random.default_rng(0)  # the mean of n coin flips has se -> 0.5 / sqrt(n)
    assert mm.metrics.standard_error(g.integers(0, 2, 40_000)) == pytest.approx(0.5 / 200, rel=0.01)


def test_paired_difference_known_answers():
    a, b = [1.0, 0.5, 0.0, 1.0], [0.5, 0.5, 0.0, 0.0]
    mean, se = mm.metrics.paired_difference(a, b)
    assert mean == pytest.approx(np.mean(a) - np.mean(b))  # mean(a - b) = mean(a) - mean(b)
    assert se == pytest.approx(mm.metrics.standard_error([0.5, 0.0, 0.0, 1.0]))  # d = (0.5, 0, 0, 1)
    assert mm.metrics.paired_difference(a, np.asarray(a) - 0.25) == (pytest.approx(0.25), 0.0)  # a constant gap is certain
    with pytest.raises(ValueError, match="one value per clip"):
        mm.metrics.paired_difference(a, b[:3])


def test_paired_difference_removes_what_two_scores_share():
    g = np.random.default_rng(1)
    easy = g.uniform(0, 1, 20_000)  # how easy each seed is, shared by both samplers
    a, b = easy + 0.1 * g.standard_normal(20_000), easy - 0.05 + 0.1 * g.standard_normal(20_000)
    mean, se = mm.metrics.paired_difference(a, b)
    assert mean == pytest.approx(0.05, abs=4 * se)
    assert se == pytest.approx(np.sqrt(0.02 / 20_000), rel=0.03)  # var(a - b) = 0.1^2 + 0.1^2: the shared part cancels
    unpaired = np.hypot(mm.metrics.standard_error(a), mm.metrics.standard_error(b))
    assert unpaired > 2 * se  # var(a) = 1/12 + 0.01 each: the independent-sets formula overstates the doubt
