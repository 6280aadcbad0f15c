"""Real-clip preparation: any video folder -> preset clips + manifest; bad files named; ClipDataset."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.data.download import sha256_file
from mmdiff_lite.data.prepare import letterbox
from test_data_helpers import make_video_folder


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    expected = make_video_folder(src)
    out = tmp_path_factory.mktemp("out")
    report = mm.prepare_clips(src, out, "paper", progress=False)
    return src, out, report, expected


def test_good_files_become_clips_and_bad_files_are_named(prepared):
    src, out, report, expected = prepared
    assert sorted(report.prepared) == sorted(n for n, what in expected.items() if what == "ok")
    assert report.clips == 3  # 3.4 s -> two 1.6 s clips, 2.0 s -> one
    skipped = dict(report.skipped)
    for name, what in expected.items():
        if what != "ok":
            assert what in skipped[name], (name, skipped.get(name))
    assert "notes.txt" not in skipped  # not a video: not even tried
    text = report.summary()
    assert all(f"skipped {n}" in text for n in skipped)
    assert "/" + src.name not in text  # names are relative to --src, not absolute paths


def test_manifest_records_source_span_and_checksum(prepared):
    src, out, _, _ = prepared
    m = json.loads((out / "manifest.json").read_text())
    assert m["preset"] == "paper" and m["video_shape"] == [16, 3, 64, 64] and m["audio_shape"] == [1, 25600]
    spans = [(c["source"], c["start"], c["end"]) for c in m["clips"]]
    assert spans == [("sub/square.mp4", 0.0, 1.6), ("wide_stereo.mp4", 0.0, 1.6), ("wide_stereo.mp4", 1.6, 3.2)]
    for c in m["clips"]:
        assert c["sha256"] == sha256_file(src / c["source"])
    assert {s["source"] for s in m["skipped"]} == {"no_sound.mp4", "short.mp4", "silent.mp4", "corrupt.mp4"}
    video = np.load(out / f"{m['clips'][0]['file']}.video.npy")
    audio = np.load(out / f"{m['clips'][0]['file']}.audio.npy")
    assert video.dtype == np.uint8 and video.shape == (1, 16, 3, 64, 64)
    assert audio.dtype == np.int16 and audio.shape == (1, 1, 25600)


def test_prepare_resumes_without_redoing_work(prepared, tmp_path):
    src, out, _, _ = prepared
    again = mm.prepare_clips(src, out, "paper", progress=False)
    assert again.clips == 0 and sorted(again.already_done) == ["sub/square.mp4", "wide_stereo.mp4"]
    (src / "copy.mp4").write_bytes((src / "sub" / "square.mp4").read_bytes())
    dup = mm.prepare_clips(src, out, "paper", progress=False)
    assert ("copy.mp4", "same content as sub/square.mp4") in dup.skipped
    (src / "copy.mp4").unlink()
    assert len(mm.ClipDataset(out)) == 3


def test_prepare_refuses_to_mix_presets(prepared):
    src, out, _, _ = prepared
    with pytest.raises(ValueError, match="pick another --out"):
        mm.prepare_clips(src, out, "tiny", progress=False)
    with pytest.raises(FileNotFoundError, match="pass a folder"):
        mm.prepare_clips(src / "nope", out, "paper", progress=False)


def test_clip_dataset_items(prepared):
    _, out, _, _ = prepared
    ds = mm.ClipDataset(out)
    item = ds[0]
    assert set(item) == {"video", "audio"}
    assert item["video"].shape == (16, 3, 64, 64) and item["audio"].shape == (1, 25600)
    for x in item.values():
        assert x.dtype == torch.float32 and x.min() >= -1 and x.max() <= 1
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert batch["video"].shape == (3, 16, 3, 64, 64)
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(FileNotFoundError, match="prepare_clips"):
        mm.ClipDataset(out / "missing")


def test_letterbox_keeps_aspect_with_black_bars(prepared):
    _, out, _, _ = prepared
    wide = mm.ClipDataset(out)[1]["video"]  # from the 80x48 source: 64x38 picture, bars top and bottom
    rows = (wide > -1).flatten(start_dim=0, end_dim=1).any(0).any(-1)
    assert not rows[:12].any() and not rows[-12:].any() and rows[14:50].all()
    frame = np.full((10, 40, 3), 255, np.uint8)
    box = letterbox(frame, 64, 64)
    assert box.shape == (3, 64, 64) and box[:, 32, :].min() == 255 and box[:, 0, :].max() == 0


def test_flip_is_reproducible_and_has_the_asked_probability(prepared):
    _, out, _, _ = prepared
    plain, always = mm.ClipDataset(out), mm.ClipDataset(out, flip_prob=1.0)
    assert torch.equal(always[0]["video"], plain[0]["video"].flip(-1))
    assert torch.equal(always[0]["audio"], plain[0]["audio"])
    half = mm.ClipDataset(out, flip_prob=0.5, seed=1)
    flips = [half.flipped(i) for i in range(2000)]
    assert 0.45 < np.mean(flips) < 0.55
    assert flips == [mm.ClipDataset(out, flip_prob=0.5, seed=1).flipped(i) for i in range(2000)]
    half.set_epoch(1)
    assert flips != [half.flipped(i) for i in range(2000)]
    assert not any(plain.flipped(i) for i in range(100))  # default: off
    with pytest.raises(ValueError, match="flip_prob"):
        mm.ClipDataset(out, flip_prob=1.5)


def test_benchmark_clips_survive_preparation(tmp_path):
    """Synthetic tiny clips written as mp4 and prepared with the tiny preset keep their sync."""
    cfg = mm.clip_preset("tiny")
    clips = [mm.synthetic_clip(s) for s in range(6)]
    for i, c in enumerate(clips):
        mm.write_mp4(tmp_path / "src" / f"clip{i}.mp4", c["video"], c["audio"], cfg.fps, cfg.sample_rate)
    report = mm.prepare_clips(tmp_path / "src", tmp_path / "out", "tiny", progress=False)
    assert report.clips == 6 and not report.skipped
    ds = mm.ClipDataset(tmp_path / "out")
    order = [int(c["source"][4:-4]) for c in ds.clips]
    v = torch.stack([ds[i]["video"] for i in range(6)])
    a = torch.stack([ds[i]["audio"] for i in range(6)])
    truth = torch.stack([clips[j]["video"] for j in order])
    assert (v - truth).abs().mean() < 0.05
    s = mm.sync_scores(v, a)
    assert s["f1"] == 1 and s["semantic"] == 1


def test_truncated_file_does_not_stop_the_run(tmp_path):
    v = torch.rand(40, 3, 32, 32) * 2 - 1
    mm.write_mp4(tmp_path / "src" / "whole.mp4", v, torch.rand(1, 32000) - 0.5, 20, 16000)
    data = (tmp_path / "src" / "whole.mp4").read_bytes()
    (tmp_path / "src" / "cut.mp4").write_bytes(data[: len(data) // 3])
    report = mm.prepare_clips(tmp_path / "src", tmp_path / "out", "paper", progress=False)
    assert "whole.mp4" in report.prepared
    assert "cut.mp4" in report.prepared or "cut.mp4" in dict(report.skipped)
