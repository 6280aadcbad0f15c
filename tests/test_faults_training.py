"""Fault injection, training: run folders that cannot be clobbered, a lock, divergence stops, and kills.

The kill test kills a real training process at random moments, resumes it each time, and checks that the run
ends bit-identical to one that was never interrupted, with every snapshot and log line and no temp files.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mmdiff_lite.cli import main
from mmdiff_lite.train import RunFolder, RunFolderError, Trainer, TrainingDiverged, read_header, train_config
from mmdiff_lite.train.checkpoint import load_weights
from mmdiff_lite.utils import sha256_file

FAST = dict(batch_size=2, log_every=1, warmup_steps=1)
#: A run whose snapshots fall on checkpoint steps (4, 8) and between them (2, 6, 10).
KILL_RUN = dict(steps=10, snapshot_every=2, ckpt_every=4, **FAST)
VOLATILE = {"wall_seconds", "clips_per_s"}  # a log record's timing, the only thing a resumed run may change


def _strict_log(run: Path) -> list[dict]:
    """The run's log, parsed as strict JSON (NaN / Infinity refused), without its timing fields."""
    def refuse(name):
        raise AssertionError(f"log.jsonl holds {name}: not strict JSON")

    lines = (run / "log.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line, parse_constant=refuse).items() if k not in VOLATILE} for line in lines]


def _tensors(path: Path) -> dict:
    return load_weights(path, which="raw" if path.name == "last.safetensors" else "ema")[0]


def _same_run(a: Path, b: Path) -> None:
    names = sorted(p.name for p in a.glob("*.safetensors"))
    assert names == sorted(p.name for p in b.glob("*.safetensors")), "the same snapshots and checkpoints"
    for name in names:
        ta, tb = _tensors(a / name), _tensors(b / name)
        assert ta.keys() == tb.keys() and all(torch.equal(ta[k], tb[k]) for k in ta), f"{name} differs"
    ema_a, ema_b = load_weights(a / "last.safetensors")[0], load_weights(b / "last.safetensors")[0]
    assert all(torch.equal(ema_a[k], ema_b[k]) for k in ema_a)
    assert _strict_log(a) == _strict_log(b)
    assert not list(b.rglob("*.tmp")), "no temporary files left"


def _train_cli(out: Path, *extra: str) -> list[str]:
    return ["train", "--preset", "tiny", "--steps", "3", "--batch-size", "2", "--log-every", "1", "--out", str(out),
            "--no-progress", *extra]


# ---- run folders ------------------------------------------------------------------------------
def test_a_run_folder_is_never_clobbered_resumed_from_nothing_or_mixed(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(_train_cli(run, "--snapshot-every", "3")) == 0
    before = {p.name: sha256_file(p) for p in run.iterdir() if p.is_file()}
    # the same command again: refused, the run untouched
    assert main(_train_cli(run)) == 2
    err = capsys.readouterr().err.strip()
    assert "already holds a training run (at step 3)" in err and "--resume" in err and "\n" not in err
    assert {p.name: sha256_file(p) for p in run.iterdir() if p.is_file()} == before
    # --resume on a misspelled folder and on an empty one: errors, nothing created
    assert main(_train_cli(tmp_path / "rnu", "--resume")) == 2
    assert "nothing to resume" in capsys.readouterr().err and not (tmp_path / "rnu").exists()
    (tmp_path / "empty").mkdir()
    assert main(_train_cli(tmp_path / "empty", "--resume")) == 2
    assert "holds no last.safetensors" in capsys.readouterr().err
    assert main(_train_cli(run, "--resume", "--overwrite")) == 2
    # --overwrite: a new run with nothing of the old one (its snapshot, its log lines)
    assert main(_train_cli(run, "--steps", "2", "--overwrite")) == 0
    assert not (run / "ema-step3.safetensors").exists()
    assert [r["step"] for r in _strict_log(run)] == [1, 2] and read_header(run / "last.safetensors")["step"] == 2


def test_two_trainings_cannot_write_to_one_folder(tmp_path):
    run = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from mmdiff_lite.train import RunFolder; "
                               f"folder = RunFolder({str(run)!r}); folder.acquire(); print('locked', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        trainer = Trainer(train_config("tiny", steps=1, **FAST), run, progress=False)
        with pytest.raises(RunFolderError, match=f"another training is writing to .*pid {holder.pid}"):
            trainer.run()
        assert not (run / "last.safetensors").exists()
    finally:
        holder.kill()
        holder.wait()
    trainer.run()  # the lock died with its process
    assert read_header(run / "last.safetensors")["step"] == 1


def test_resume_auto_starts_or_continues(tmp_path):
    run = tmp_path / "run"
    assert Trainer(train_config("tiny", steps=1, **FAST), run, resume="auto", progress=False).run()["step"] == 1
    assert Trainer(train_config("tiny", steps=2, **FAST), run, resume="auto", progress=False).step == 1
    with pytest.raises(ValueError, match="resume takes"):
        RunFolder(run).decide(resume="yes")


# ---- divergence -------------------------------------------------------------------------------
def test_a_non_finite_loss_stops_training_at_its_step_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    real_loss = Trainer.loss

    def poisoned(self, *args, **kwargs):  # the fault: the loss of step 4 is NaN (as with a too-high lr)
        total, parts = real_loss(self, *args, **kwargs)
        return (total * float("nan"), parts) if self.step == 3 else (total, parts)

    monkeypatch.setattr(Trainer, "loss", poisoned)
    assert main(_train_cli(run, "--steps", "6", "--ckpt-every", "2")) == 2
    err = capsys.readouterr().err.strip()
    assert "training diverged at step 4: loss nan" in err and "(step 2), is kept" in err and "\n" not in err
    assert read_header(run / "last.safetensors")["step"] == 2  # the step-3 weights were never saved
    log = _strict_log(run)  # strict JSON, no NaN
    assert [r["step"] for r in log] == [1, 2, 3, 4] and "diverged" in log[-1]


def test_a_non_finite_gradient_norm_stops_training_too(tmp_path, monkeypatch):
    real_clip = torch.nn.utils.clip_grad_norm_
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", lambda params, clip: real_clip(params, clip) * float("inf"))
    trainer = Trainer(train_config("tiny", steps=2, **FAST), tmp_path / "run", progress=False)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    with pytest.raises(TrainingDiverged, match="step 1: .*gradient norm inf.*no checkpoint was written yet"):
        trainer.run()
    assert all(torch.equal(before[k], v) for k, v in trainer.model.state_dict().items()), "no optimizer step taken"


# ---- kills --------------------------------------------------------------------------------------
class _Killed(BaseException):
    """A stand-in for SIGKILL inside this process: nothing catches it, nothing after it runs."""


def test_a_kill_between_snapshot_and_checkpoint_loses_nothing(tmp_path, monkeypatch):
    straight = tmp_path / "straight"
    Trainer(train_config("tiny", **KILL_RUN), straight, progress=False).run()
    run = tmp_path / "killed"
    real_save = Trainer.save

    def dies_at_step_8(self):  # step 8 owes a snapshot and a checkpoint: killed halfway through the checkpoint
        if self.step == 8:
            (self.out / ".last.safetensors.abc123.tmp").write_bytes(b"half a checkpoint")
            raise _Killed
        real_save(self)

    monkeypatch.setattr(Trainer, "save", dies_at_step_8)
    with pytest.raises(_Killed):
        Trainer(train_config("tiny", **KILL_RUN), run, progress=False).run()
    monkeypatch.setattr(Trainer, "save", real_save)
    assert (run / "ema-step8.safetensors").is_file() and read_header(run / "last.safetensors")["step"] == 4
    resumed = Trainer(train_config("tiny", **KILL_RUN), run, resume=True, progress=False)
    assert resumed.step == 4
    resumed.run()
    _same_run(straight, run)


def _spawn(out: Path, log) -> subprocess.Popen:
    code = ("import sys; from mmdiff_lite.train import Trainer, train_config; "
            f"Trainer(train_config('tiny', **{KILL_RUN!r}), sys.argv[1], resume='auto', progress=False).run()")
    return subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=log, stderr=log,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})


def _started(proc: subprocess.Popen, run: Path, since: float) -> float:
    """Wait until the process has set up its run (config.json is rewritten when training starts); the time then."""
    cfg = run / "config.json"
    while proc.poll() is None and not (cfg.is_file() and cfg.stat().st_mtime > since):
        time.sleep(0.02)
    return time.time()


def test_training_killed_at_random_moments_resumes_bit_identical(tmp_path):
    straight = tmp_path / "straight"
    with open(tmp_path / "straight.txt", "w") as log:
        proc = _spawn(straight, log)
        began = _started(proc, straight, 0.0)
        assert proc.wait() == 0
        training = time.time() - began  # the training part of a whole run (start-up excluded)
    run, rng, kills = tmp_path / "killed", random.Random(0), 0
    with open(tmp_path / "killed.txt", "w") as log:
        for _ in range(6):  # each time: start (resuming), then a kill at a random moment of the first 40% of a run
            since = time.time()
            proc = _spawn(run, log)
            _started(proc, run, since)
            time.sleep(rng.uniform(0.05, 0.4) * training)
            if proc.poll() is not None:  # it finished first: the run is complete
                break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        assert _spawn(run, log).wait() == 0
    assert kills >= 3, "the kills must land inside runs"
    _same_run(straight, run)
    assert [r["step"] for r in _strict_log(run)] == list(range(1, 11))
