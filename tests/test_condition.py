"""``mmdiff-lite condition`` and the zero-shot pipeline: good runs, each bad input's one-line error, the bench."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.cli import main
from mmdiff_lite.data import write_mp4


def _clip_file(path, seconds=1.0, sound=True, seed=0):
    clip = mm.synthetic_clip(seed, preset="tiny")
    f = int(round(16 * seconds))
    video = clip["video"][:f] if f <= 16 else clip["video"]
    write_mp4(path, video, clip["audio"][:, : int(4096 * seconds)] if sound else None, 16, 4096)
    return clip


def _error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    return err[0]


def test_condition_on_a_file_keeps_the_given_sound_and_writes_the_folder(tmp_path, capsys):
    clip = _clip_file(tmp_path / "given.mp4")
    out = tmp_path / "out"
    assert main(["condition", "--given", "audio", "--input", str(tmp_path / "given.mp4"), "--method", "replace",
                 "--steps", "2", "--out", str(out), "--no-progress"]) == 0
    assert "1 clips (video for the given audio)" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["contact_sheet.png", "metrics.json", "pair_00.mp4", "pairs.npz"]
    pairs = np.load(out / "pairs.npz")
    read = mm.read_mp4(tmp_path / "given.mp4", sample_rate=4096, num_frames=16)["audio"]
    assert np.array_equal(pairs["audio"][0], read.numpy())  # the given half, exactly as read
    assert np.abs(pairs["audio"][0] - clip["audio"].numpy()).max() < 0.2  # (AAC round trip of the clip)
    meta = json.loads((out / "metrics.json").read_text())
    assert meta["given"] == "audio" and meta["scores"] is None and meta["conditioning"]["method"] == "replace"
    # a folder holding other files is refused before any work; an earlier output is replaced whole
    (out / "notes.txt").write_text("mine")
    assert "not empty" in _error(capsys, ["condition", "--given", "audio", "--input", str(tmp_path / "given.mp4"),
                                          "--out", str(out)])


def test_condition_on_the_benchmark_scores_against_the_given_and_shuffled(tmp_path, capsys):
    out = tmp_path / "bench"
    assert main(["condition", "--given", "video", "--benchmark", "2", "--method", "guide", "--scale", "2",
                 "--form", "reconstruction", "--sampler", "ddim", "--steps", "3", "--out", str(out),
                 "--no-progress"]) == 0
    meta = json.loads((out / "metrics.json").read_text())
    assert meta["n"] == 2 and set(meta["scores"]) >= {"f1", "semantic"} and meta["chance"]["f1"] is not None
    assert meta["conditioning"] == {"method": "guide", "scale": 2.0, "noise": "fixed", "form": "reconstruction",
                                    "t_min": 0.0}


@pytest.mark.parametrize("case,argv,expect", [
    ("no sound", ["--given", "audio"], "has no audio stream"),
    ("short", ["--given", "audio"], "shorter than"),
    ("corrupt", ["--given", "video"], "cannot read"),
    ("missing", ["--given", "audio"], "does not exist"),
])
def test_condition_bad_inputs_give_one_line_and_write_nothing(tmp_path, capsys, case, argv, expect):
    src = tmp_path / "clip.mp4"
    if case == "no sound":
        _clip_file(src, sound=False)
    elif case == "short":
        _clip_file(src, seconds=0.5)
    elif case == "corrupt":
        src.write_bytes(b"not a video at all " * 40)
    out = tmp_path / "out"
    msg = _error(capsys, ["condition", *argv, "--input", str(src), "--steps", "2", "--out", str(out)])
    assert expect in msg and "clip.mp4" in msg and str(tmp_path) not in msg.replace(str(src), "")
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


@pytest.mark.parametrize("scale,expect", [("abc", "must be a number"), ("nan", "finite"), ("-1", "finite")])
def test_condition_refuses_a_scale_that_is_not_a_number(tmp_path, capsys, scale, expect):
    assert main(["condition", "--given", "audio", "--benchmark", "1", "--scale", scale, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert expect in err and "\n" not in err


def test_cross_dependence_is_exactly_one_without_cross_attention():
    torch.manual_seed(0)
    model = mm.build_model("tiny", cross_attention=False).eval()
    v, a = mm.reference_pairs(3, "tiny", seed=0)["true"]
    for given in ("audio", "video"):
        assert mm.pipeline.cross_dependence(model, {"video": v, "audio": a}, 300.0, given=given, seeds=(0,)) == 1.0
    trained, _ = mm.load_model("tiny")  # its sound depends on the picture (RS-MMA starts at zero, so random weights do not)
    assert mm.pipeline.cross_dependence(trained, {"video": v, "audio": a}, 300.0, given="video", seeds=(0,)) > 2.0


def test_conditioning_bench_writes_rows_and_resumes(tmp_path, monkeypatch):
    from mmdiff_lite.bench import conditioning as bc

    rows = bc.default_rows(paper_grid=(1,), recon_grid=(), samplers=())
    result = bc.conditioning_benchmark("tiny", tmp_path, n=2, seeds=(0,), given=("video",), rows=rows,
                                       progress=False)
    assert [r["row"] for r in result["rows"]] == [r["row"] for r in rows]
    ref = next(r for r in result["rows"] if r["row"] == bc.REFERENCE_ROW)
    assert ref["d_f1"] == 0.0 and all(r["pairs"] == 2 for r in result["rows"])
    assert "Sound for a given video" in (tmp_path / "table.md").read_text()
    monkeypatch.setattr(bc, "_run_row", lambda *a, **k: pytest.fail("a finished row was recomputed"))
    again = bc.conditioning_benchmark("tiny", tmp_path, n=2, seeds=(0,), given=("video",), rows=rows, progress=False)
    assert [r["f1"] for r in again["rows"]] == [r["f1"] for r in result["rows"]]
