"""`mmdiff-lite demo` (what `make demo` runs): the shipped `tiny` model's pairs with sound, a sheet and scores.

The tests ship a 2-step run as `tiny` into a temporary folder; they never read the kit's real checkpoint.
"""
import json

import numpy as np
import pytest

import mmdiff_lite as mm
from mmdiff_lite.cli import main
from mmdiff_lite.pipeline import checkpoints as ck
from mmdiff_lite.train import Trainer, train_config
from mmdiff_lite.utils import sha256_file


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    Trainer(train_config("tiny", steps=2, batch_size=2), run, progress=False).run()
    folder = tmp_path_factory.mktemp("shipped")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ck, "SHIPPED_DIR", folder)
        ck.ship(run, "tiny", command="mmdiff-lite train --steps 2", scores={"f1": 0.0})
    return folder


def test_demo_writes_the_shipped_models_pairs(shipped, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ck, "SHIPPED_DIR", shipped)
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"{out}/contact_sheet.png" in printed and "f1" in printed and "chance" in printed
    cfg = mm.clip_preset("tiny")
    clip = mm.read_mp4(out / "pair_01.mp4", sample_rate=cfg.sample_rate)
    assert clip["video"].shape[0] == cfg.num_frames and clip["audio"].shape[-1] >= cfg.audio_samples - cfg.samples_per_frame
    arrays = np.load(out / "pairs.npz")
    assert arrays["video"].shape == (2, *cfg.video_shape) and arrays["audio"].shape == (2, 1, cfg.audio_samples)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "dpm_solver" and metrics["steps"] == 20 and metrics["seconds"] > 0
    assert metrics["checkpoint"]["sha256"] == sha256_file(shipped / "tiny.safetensors")
    # the scores are those of the written pairs; the chance level pairs video i with audio i + 1
    video, audio = arrays["video"], arrays["audio"]
    assert metrics["scores"]["f1"] == mm.sync_scores(video, audio, "tiny")["f1"]
    assert metrics["chance"]["f1"] == mm.sync_scores(video, audio[[1, 0]], "tiny")["f1"]
    assert (out / "contact_sheet.png").stat().st_size > 0


def test_demo_without_a_shipped_tiny_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ck, "SHIPPED_DIR", tmp_path / "empty")
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "mmdiff-lite train --preset tiny" in err and "ship" in err
    assert not (tmp_path / "demo").exists()


def test_demo_bad_arguments_give_one_line(capsys):
    assert main(["demo", "--n", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--n: must be at least 1, got 0" in err
