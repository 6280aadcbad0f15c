"""Fault injection, inputs: every class of bad input or damaged file from the reliability issue, one test each.

Each bad input must end in one line that says what to do (exit code 2 on the command line), before any work
and with nothing half-written; each damaged file must be refused by name, never used quietly.  Training faults
(run folders, the lock, divergence, kills) are in test_faults_training.py; the typed option layer itself is in
test_fields.py.
"""
import importlib.util
import json
import os
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.cli import main
from mmdiff_lite.data.download import extract
from mmdiff_lite.train import save_weights

SCRIPTS = Path(__file__).resolve().parents[1] / "data_scripts"


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err and "\n" not in err and "Traceback" not in err, err
    return err


def _script(name):
    spec = importlib.util.spec_from_file_location(f"faults_script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- options: typed, ranged, refused in one line before any work ----------------------------------
BAD_OPTIONS = [
    (["train", "--model", "cross_attention=maybe"], "true or false"),
    (["train", "--model", "windows=foo"], "windows takes"),
    (["train", "--model", "channels=abc"], "channels takes an integer"),
    (["train", "--model", "channels=-16"], "at least 1"),
    (["train", "--model", "channels=3.5"], "channels takes an integer"),
    (["train", "--model", "chanels=32"], "unknown model option"),
    (["train", "--warmup-steps", "-10"], "must be at least 0"),
    (["train", "--lr", "inf"], "finite"),
    (["train", "--lr", "nan"], "finite"),
    (["train", "--lr", "-1"], "lr must be > 0"),
    (["train", "--ema-decay", "1"], "ema_decay"),
    (["train", "--batch-size", "0"], "must be at least 1"),
    (["train", "--log-every", "0"], "must be at least 1"),
    (["train", "--ckpt-every", "0"], "must be at least 1"),
    (["train", "--steps", "2.5"], "takes an integer"),
    (["train", "--flip-prob", "2"], "flip_prob"),
    (["sample", "--n", "0"], "must be at least 1"),
    (["sample", "--steps", "0"], "must be at least 1"),
    (["sample", "--batch-size", "-3"], "must be at least 1"),
    (["sample", "--method", "ddim", "--order", "2"], "--order is an option of dpm_solver"),
    (["sample", "--method", "ddpm", "--order", "1"], "--order is an option of dpm_solver"),
    (["sample", "--shift", "sideways"], "--shift takes"),
    (["sample", "--checkpoint", "missing.safetensors"], "no such checkpoint file"),
    (["sample", "--checkpoint", "nonsense"], "unknown checkpoint"),
    (["condition", "--given", "audio", "--benchmark", "0"], "must be at least 1"),
    (["condition", "--given", "audio", "--benchmark", "1", "--scale", "inf"], "finite"),
    (["condition", "--given", "audio", "--benchmark", "1", "--sampler", "ddim", "--order", "2"], "--order"),
    (["demo", "--n", "-1"], "must be at least 1"),
    (["bench", "sampling", "--n", "0"], "must be at least 1"),
]


@pytest.mark.parametrize("argv,message", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_options_are_one_line_and_write_nothing(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = [] if argv[0] == "bench" else ["--out", str(tmp_path / "out")]
    assert main([*argv, *out]) == 2
    assert message in _one_line(capsys)
    assert not (tmp_path / "out").exists()


def test_the_data_scripts_refuse_bad_counts(tmp_path, capsys):
    for name, argv in (("aistpp", ["--out", str(tmp_path), "--official", "-5", "--accept-terms"]),
                       ("aistpp", ["--out", str(tmp_path), "--official", "0", "--accept-terms"]),
                       ("landscape", ["--out", str(tmp_path), "--max-clips-per-file", "0"])):
        with pytest.raises(SystemExit) as stop:
            _script(name).main(argv)
        assert stop.value.code == 2 and "must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _script("prepare_clips").main(["--src", str(tmp_path), "--out", str(tmp_path / "c"), "--max-clips-per-file", "-1"])
    assert "must be at least 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="max_clips_per_file must be an integer >= 1"):
        mm.prepare_clips(tmp_path, tmp_path / "c", "tiny", max_clips_per_file=0)


# ---- bad output paths: checked before the work -----------------------------------------------------
def _no_work(*_, **__):
    raise AssertionError("the output path must be checked before any work")


#: (command, kind of bad path); --json names a file, so an existing file is a valid --json (it is replaced).
BAD_PATHS = [(c, k) for c in ("sample", "demo", "condition", "train", "bench-json")
             for k in ("a file", "under a file", "unwritable") if (c, k) != ("bench-json", "a file")]


@pytest.mark.parametrize("command,kind", BAD_PATHS)
def test_bad_out_paths_are_refused_before_any_work(kind, command, tmp_path, monkeypatch, capsys):
    import mmdiff_lite.pipeline
    import mmdiff_lite.train.loop

    monkeypatch.setattr(mmdiff_lite.pipeline, "load_model", _no_work)
    monkeypatch.setattr(mmdiff_lite.pipeline.conditional, "generate", _no_work)
    monkeypatch.setattr(mmdiff_lite.train.loop, "build_model", _no_work)
    monkeypatch.setattr("mmdiff_lite.bench.sampling.sampling_benchmark", _no_work)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    target = {"a file": blocker, "under a file": blocker / "out", "unwritable": tmp_path / "locked" / "out"}[kind]
    if kind == "unwritable":
        (tmp_path / "locked").mkdir()
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path / "locked" else real(p, mode))
    argv = {"sample": ["sample", "--out", str(target)], "demo": ["demo", "--out", str(target)],
            "condition": ["condition", "--given", "audio", "--benchmark", "1", "--out", str(target)],
            "train": ["train", "--steps", "1", "--out", str(target)],
            "bench-json": ["bench", "sampling", "--json", str(target)]}[command]
    assert main(argv) == 2
    err = _one_line(capsys)
    assert {"a file": "is a file", "under a file": "which is a file", "unwritable": "permission denied"}[kind] in err


# ---- stale outputs -----------------------------------------------------------------------------------
def test_a_second_output_replaces_the_first_whole(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sample", "--n", "3", "--steps", "2", "--out", str(out), "--no-progress"]) == 0
    assert main(["sample", "--n", "2", "--steps", "2", "--out", str(out), "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["contact_sheet.png", "metrics.json", "pair_00.mp4", "pair_01.mp4",
                                                     "pairs.npz"]
    assert json.loads((out / "metrics.json").read_text())["n"] == 2
    assert len(np.load(out / "pairs.npz")["video"]) == 2
    (out / "thesis.txt").write_text("not an output of the kit")
    capsys.readouterr()
    assert main(["sample", "--n", "1", "--steps", "2", "--out", str(out), "--no-progress"]) == 2
    assert "not empty" in _one_line(capsys) and (out / "thesis.txt").exists()
    assert main(["sample", "--n", "1", "--steps", "2", "--out", str(out), "--overwrite", "--no-progress"]) == 0
    assert not (out / "thesis.txt").exists() and not list(tmp_path.glob(".out.*"))


# ---- damaged checkpoints -------------------------------------------------------------------------------
def _flip_exponent_bit(path: Path, tensor_name: str) -> None:
    """Flip the top exponent bit of the first element of one float32 tensor of a safetensors file."""
    data = bytearray(path.read_bytes())
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    begin = 8 + header_len + header[tensor_name]["data_offsets"][0]
    data[begin + 3] ^= 0x40  # little-endian float32: byte 3 holds the sign and the top exponent bits
    path.write_bytes(bytes(data))


def test_every_written_checkpoint_carries_a_checksum_that_loading_verifies(tmp_path):
    model = mm.build_model("tiny")
    path = tmp_path / "w.safetensors"
    save_weights(path, model.state_dict(), {"model_config": model.config.to_dict(), "step": 0})
    mm.load_model(path)  # intact: loads
    name = next(k for k, v in model.state_dict().items() if v.dtype == torch.float32 and v.abs().max() > 0)
    _flip_exponent_bit(path, name)
    with pytest.raises(ValueError, match="is damaged: its tensors do not match the checksum"):
        mm.load_model(path)
    trainer = mm.train.Trainer(mm.train_config("tiny", steps=1, batch_size=2), tmp_path / "run", progress=False)
    trainer.run()
    _flip_exponent_bit(tmp_path / "run" / "last.safetensors", "optim.0.exp_avg_sq")
    with pytest.raises(ValueError, match="is damaged"):
        mm.train.Trainer(mm.train_config("tiny", steps=2, batch_size=2), tmp_path / "run", resume=True, progress=False)


def test_nan_weights_give_a_clear_error_not_an_encoder_errno(tmp_path, capsys):
    model = mm.build_model("tiny")
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    save_weights(tmp_path / "nan.safetensors", model.state_dict(), {"model_config": model.config.to_dict(), "step": 0})
    assert main(["sample", "--checkpoint", str(tmp_path / "nan.safetensors"), "--n", "1", "--steps", "2",
                 "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert "NaN or infinite values" in _one_line(capsys) and not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="NaN or infinite values and cannot be encoded"):
        mm.write_mp4(tmp_path / "x.mp4", torch.full((2, 3, 16, 16), float("nan")), torch.zeros(1, 512), 16, 4096)


# ---- data against its manifest ---------------------------------------------------------------------
def _prepared(root: Path, frames: int = 16) -> Path:
    cfg = mm.clip_preset("tiny")
    (root / "clips").mkdir(parents=True)
    np.save(root / "clips/abc.video.npy", np.zeros((2, frames, 3, 16, 16), np.uint8))
    np.save(root / "clips/abc.audio.npy", np.zeros((2, 1, cfg.audio_samples), np.int16))
    manifest = {"preset": "tiny", "video_shape": list(cfg.video_shape), "audio_shape": list(cfg.audio_shape),
                "video_dtype": "uint8", "audio_dtype": "int16", "fps": cfg.fps, "sample_rate": cfg.sample_rate,
                "sources": [{"source": "a.mp4", "sha256": "0" * 64, "clips": 2, "file": "clips/abc"}],
                "clips": [{"id": f"abc-{i}", "file": "clips/abc", "row": i, "source": "a.mp4"} for i in range(2)],
                "skipped": []}
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_clip_files_are_checked_against_the_manifest_and_named(tmp_path):
    assert mm.ClipDataset(_prepared(tmp_path / "good"))[1]["video"].shape == (16, 3, 16, 16)
    with pytest.raises(ValueError, match=r"abc\.video\.npy holds uint8 clips of shape \(2, 8, 3, 16, 16\)"):
        mm.ClipDataset(_prepared(tmp_path / "short", frames=8))[0]
    torn = _prepared(tmp_path / "torn")
    data = (torn / "clips/abc.audio.npy").read_bytes()
    (torn / "clips/abc.audio.npy").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError, match=r"abc\.audio\.npy is damaged"):
        mm.ClipDataset(torn)[0]
    (tmp_path / "good/clips/abc.video.npy").unlink()
    with pytest.raises(FileNotFoundError, match=r"abc\.video\.npy is missing"):
        mm.ClipDataset(tmp_path / "good")[0]


def test_generate_refuses_a_given_count_that_does_not_match(tmp_path):
    model = mm.build_model("tiny")
    cfg = mm.clip_preset("tiny")
    with pytest.raises(ValueError, match="one given clip per generated pair"):
        mm.generate(model, 2, steps=2, given={"audio": torch.zeros(1, *cfg.audio_shape)}, progress=False)


def test_sync_scores_read_the_kits_stored_formats(tmp_path):
    pairs = mm.reference_pairs(4, "tiny", seed=0)["true"]
    video, audio = pairs
    stored_video = ((video + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    stored_audio = (audio * 32767).round().to(torch.int16)
    a = mm.sync_scores(video, audio, "tiny")
    b = mm.sync_scores(stored_video, stored_audio, "tiny")
    assert a["f1"] > 0.5 and abs(a["f1"] - b["f1"]) < 1e-9 and abs(a["semantic"] - b["semantic"]) < 1e-9
    with pytest.raises(ValueError, match="dtype int64"):
        mm.sync_scores(video.long(), audio, "tiny")


# ---- sources and archives ------------------------------------------------------------------------
def test_prepare_refuses_a_source_without_videos(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no video files below"):
        mm.prepare_clips(tmp_path / "empty", tmp_path / "c", "tiny")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    (tmp_path / "notes" / "b.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="no clip could be cut from the 1 video file"):
        mm.prepare_clips(tmp_path / "notes", tmp_path / "c", "tiny")
    assert not (tmp_path / "c" / "manifest.json").exists()


def _zip(path: Path, members: dict) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_changed_archive_of_the_same_size_is_extracted_again(tmp_path):
    extract(_zip(tmp_path / "a.zip", {"d/v.bin": b"old!"}), tmp_path / "raw")
    extract(_zip(tmp_path / "a.zip", {"d/v.bin": b"new!"}), tmp_path / "raw")  # same name, same size
    assert (tmp_path / "raw/d/v.bin").read_bytes() == b"new!"


def test_a_zip_slip_archive_is_refused_whole_in_one_line(tmp_path, capsys):
    archive = _zip(tmp_path / "evil.zip", {"good.mp4": b"x", "../../escape.txt": b"gotcha"})
    code = _script("landscape").main(["--out", str(tmp_path / "work"), "--archive", str(archive)])
    err = _one_line(capsys)
    assert code == 2 and "zip-slip" in err and "nothing of the archive was extracted" in err
    assert not list((tmp_path / "work" / "raw").rglob("*.mp4")) and not (tmp_path / "escape.txt").exists()
