"""Pipelines: generation (with replacement conditioning), checkpoints (shipping, sha256), the sample CLI."""
import json

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.utils import derive_seed
from mmdiff_lite.cli import main
from mmdiff_lite.pipeline import checkpoints as ck
from mmdiff_lite.train import Trainer, train_config
from mmdiff_lite.utils import sha256_file


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    trainer = Trainer(train_config("tiny", steps=2, batch_size=2, log_every=1, snapshot_every=1), out, progress=False)
    trainer.run()
    return out, trainer


@pytest.fixture(scope="module")
def run_dir(trained):
    return trained[0]


def test_generate_shapes_range_and_seed():
    model = mm.model.perturb_zero_layers(mm.build_model("tiny"), generator=torch.Generator().manual_seed(0))
    a = mm.generate(model, 3, steps=3, seed=1, batch_size=2, progress=False)
    b = mm.generate(model, 3, steps=3, seed=1, batch_size=2, progress=False)
    assert a["video"].shape == (3, *model.config.video_shape) and a["audio"].shape == (3, *model.config.audio_shape)
    assert a["video"].abs().max() <= 1 and torch.equal(a["audio"], b["audio"])


@pytest.mark.parametrize("method", ["ddim", "dpm_solver"])
def test_replacement_keeps_the_given_modality(method):
    model = mm.build_model("tiny")
    video = torch.stack([mm.synthetic_clip(i)["video"] for i in range(2)])
    out = mm.generate(model, 2, method=method, steps=3, given={"video": video}, progress=False)
    assert torch.equal(out["video"], video)


def test_load_model_round_trip(run_dir):
    model, meta = mm.load_model(run_dir)
    assert meta["step"] == 2 and model.config.name == "tiny" and not model.training
    ema = mm.train.load_weights(run_dir / "ema.safetensors")[0]
    assert all(torch.equal(model.state_dict()[k], ema[k]) for k in ema)


def test_unknown_checkpoint_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="shipped name"):
        ck.resolve_checkpoint("no-such-model")
    with pytest.raises(FileNotFoundError, match="ema.safetensors"):
        ck.resolve_checkpoint(tmp_path)


def _flip_a_byte(path):
    with open(path, "r+b") as f:  # damage one byte of the weights
        f.seek(-3, 2)
        byte = f.read(1)
        f.seek(-3, 2)
        f.write(bytes([byte[0] ^ 0xFF]))


def test_ship_records_and_verifies_sha256(run_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(ck, "SHIPPED_DIR", tmp_path / "shipped")
    rec = ck.ship(run_dir, "toy", command="mmdiff-lite train ...", scores={"f1": 0.5}, snapshots=[1])
    assert rec["steps"] == 2 and rec["dtype"] == "float16" and len(rec["sha256"]) == 64
    manifest = json.loads((tmp_path / "shipped" / "manifest.json").read_text())["toy"]
    assert manifest["scores"] == {"f1": 0.5} and manifest["log"] == "toy.log.jsonl"
    for entry in [rec, *rec["snapshots"].values()]:  # every recorded sha256 is the file's
        assert sha256_file(tmp_path / "shipped" / entry["file"]) == entry["sha256"]
    model, meta = mm.load_model("toy")
    assert meta["shipped_as"] == "toy"
    _flip_a_byte(tmp_path / "shipped" / "toy.safetensors")
    with pytest.raises(ValueError, match="sha256"):
        mm.load_model("toy")


def test_ship_snapshots_and_log(run_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(ck, "SHIPPED_DIR", tmp_path / "shipped")
    rec = ck.ship(run_dir, "toy", command="c", scores={}, snapshots=(1, 2))
    assert sorted(rec["snapshots"]) == ["1", "2"] and rec["snapshots"]["1"]["file"] == "toy-step1.safetensors"
    model, meta = ck.load_snapshot("toy", 1)
    assert meta["step"] == 1 and meta["shipped_as"] == "toy"
    kept = mm.train.load_weights(run_dir / "ema-step1.safetensors")[0]
    assert all(torch.equal(model.state_dict()[k], v.half().float()) for k, v in kept.items())
    log = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    assert ck.shipped_log("toy") == log and [r["step"] for r in log] == [1, 2]
    with pytest.raises(ValueError, match="no snapshot at step 7"):
        ck.load_snapshot("toy", 7)
    _flip_a_byte(tmp_path / "shipped" / "toy-step2.safetensors")
    with pytest.raises(ValueError, match="snapshot 2 of 'toy' fails its sha256 check"):
        ck.load_snapshot("toy", 2)
    ck.ship(run_dir, "toy", command="c", scores={})  # shipped again without snapshots: their files go
    assert not list((tmp_path / "shipped").glob("toy-step*")) and ck.shipped_checkpoints()["toy"]["snapshots"] == {}
    with pytest.raises(FileNotFoundError, match="--snapshot-every"):
        ck.ship(run_dir, "toy", command="c", scores={}, snapshots=[5])


def test_shipped_log_keeps_one_record_per_step_up_to_the_shipped_one(run_dir, tmp_path, monkeypatch):
    """A resumed run logs again the steps after its last checkpoint (and may leave a torn line)."""
    import shutil

    monkeypatch.setattr(ck, "SHIPPED_DIR", tmp_path / "shipped")
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    lines = (run / "log.jsonl").read_text().splitlines()
    again = {**json.loads(lines[1]), "clips_per_s": 1.0}
    later = {**again, "step": 3}
    (run / "log.jsonl").write_text("\n".join([*lines, '{"step": 2, "lo', json.dumps(again), json.dumps(later)]) + "\n")
    ck.ship(run, "toy", command="c", scores={})
    assert ck.shipped_log("toy") == [json.loads(lines[0]), again]


def test_sample_cli_writes_everything(run_dir, tmp_path, capsys):
    out = tmp_path / "samples"
    assert main(["sample", "--checkpoint", str(run_dir), "--n", "2", "--steps", "2", "--out", str(out),
                 "--no-progress", "--shift", "none"]) == 0
    arrays = np.load(out / "pairs.npz")
    assert arrays["video"].shape == (2, 16, 3, 16, 16) and arrays["audio"].shape == (2, 1, 4096)
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"f1", "semantic"} <= set(metrics["scores"]) and metrics["seconds"] > 0 and metrics["shift"] == "none"
    assert set(metrics["chance"]) == set(metrics["scores"]) and metrics["n"] == 2
    assert (out / "pair_01.mp4").stat().st_size > 0 and (out / "contact_sheet.png").is_file()
    assert main(["sample", "--checkpoint", str(run_dir), "--out", str(out), "--shift", "sideways"]) == 2
    assert "--shift takes" in capsys.readouterr().err


def test_sample_cli_stochastic_solver_is_seeded(run_dir, tmp_path, capsys):
    args = ["sample", "--checkpoint", str(run_dir), "--n", "2", "--steps", "3", "--no-progress", "--shift", "none",
            "--method", "dpm_solver++", "--stochastic", "--out"]
    runs = []
    for name, seed in (("a", "4"), ("b", "4"), ("c", "5")):
        assert main([*args, str(tmp_path / name), "--seed", seed]) == 0
        runs.append(np.load(tmp_path / name / "pairs.npz")["audio"])
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["stochastic"] is True
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])
    assert main([*args, str(tmp_path / "d"), "--method", "ddim"]) == 2
    assert "--stochastic is an option of --method dpm_solver++" in capsys.readouterr().err


def test_shift_mode_sets_and_restores_windowed_blocks():
    model = mm.build_model("tiny")
    before = [(m.window, m.shift) for _, m in mm.rsmma_modules(model)]
    with mm.shift_mode(model, 0):
        inside = [(m.window, m.num_frames, m.shift) for _, m in mm.rsmma_modules(model)]
    assert all(s == 0 for w, f, s in inside if w < f)  # windowed blocks pinned
    assert [(m.window, m.shift) for _, m in mm.rsmma_modules(model)] == before  # restored
    with pytest.raises(ValueError, match="F-S"):
        with mm.shift_mode(model, 15):  # S = 4 blocks allow shifts 0..12 only
            pass


def test_generate_checks_what_it_is_given_and_restores_train_mode():
    model = mm.build_model("tiny").train()
    pair = mm.synthetic_clip(0)
    video = pair["video"][None]
    with pytest.raises(ValueError, match="one given clip per generated pair"):
        mm.generate(model, 2, steps=2, given={"video": video}, progress=False)  # 1 clip for 2 pairs
    with pytest.raises(ValueError, match="exactly one of"):
        mm.generate(model, 1, steps=2, given={"video": video, "audio": pair["audio"][None]}, progress=False)
    with pytest.raises(ValueError, match="needs `given`"):
        mm.generate(model, 1, steps=2, conditioning=mm.Conditioning("guide", 1.0), progress=False)
    with pytest.raises(ValueError):
        mm.generate(model, 1, steps=2, method="dpm_solver", order=7, progress=False)
    assert model.training


def test_sample_rejects_mismatched_x_T():
    zero = lambda x, t: {k: torch.zeros_like(v) for k, v in x.items()}
    with pytest.raises(ValueError, match="x_T has shapes"):
        mm.sample(zero, {"a": (2, 3)}, schedule=mm.linear_schedule(), method="ddim", steps=2, x_T={"a": torch.zeros(2, 4)})


def test_a_v_predicting_network_samples_like_its_noise_twin():
    """model_fn_of converts v to eps: a network stating the exact v of a Gaussian samples like the exact eps model."""
    from types import SimpleNamespace

    schedule = mm.linear_schedule()
    eps_fn = mm.diffusion.gaussian_eps_model(schedule, 0.3, 0.5)

    class VNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))
            self.config = SimpleNamespace(prediction="v")

        def forward(self, x, t, shift_generator=None):
            eps = eps_fn(x, t)
            ab = schedule.alpha_bar(t.double()).float().view(-1, *[1] * (x["audio"].ndim - 1))
            return {k: (eps[k] - (1 - ab).sqrt() * x[k]) / ab.sqrt() for k in x}  # v = (eps - sqrt(1-ab) x_t) / sqrt(ab)

    shapes = {"audio": (256, 1, 8)}
    a = mm.sample(mm.pipeline.model_fn_of(VNet(), schedule=schedule), shapes, schedule=schedule, method="dpm_solver", steps=10, generator=0)
    b = mm.sample(eps_fn, shapes, schedule=schedule, method="dpm_solver", steps=10, generator=0)
    torch.testing.assert_close(a["audio"], b["audio"], atol=2e-3, rtol=1e-3)
    assert abs(a["audio"].mean().item() - 0.3) < 0.05 and abs(a["audio"].std().item() - 0.5) < 0.05


class _KnowsTheNoise(torch.nn.Module):
    """A stub network that knows the clean clips and so predicts the exact noise (or v), plus ``wrong``
    (a dict of per-modality offsets added to its output)."""

    def __init__(self, x0, schedule, prediction="eps", wrong=None):
        from types import SimpleNamespace

        super().__init__()
        self.x0, self.schedule, self.wrong = x0, schedule, wrong or {}
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.config = SimpleNamespace(prediction=prediction)

    def forward(self, x, t, shift_generator=None):
        out = {}
        for k, xt in x.items():
            ab = self.schedule.alpha_bar(t.double()).view(-1, *[1] * (xt.ndim - 1))
            eps = (xt.double() - ab.sqrt() * self.x0[k]) / (1 - ab).sqrt()  # from x_t = sqrt(ab) x0 + sqrt(1-ab) eps
            v = ab.sqrt() * eps - (1 - ab).sqrt() * self.x0[k]
            out[k] = (v if self.config.prediction == "v" else eps).float() + self.wrong.get(k, 0.0)
        return out


def _small_clips():
    g = torch.Generator().manual_seed(3)
    return {"video": torch.rand(2, 4, 3, 4, 4, generator=g) * 2 - 1, "audio": torch.rand(2, 1, 32, generator=g) * 2 - 1}


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_per_frame_error_is_zero_for_the_exact_noise(prediction):
    schedule, clips = mm.linear_schedule(), _small_clips()
    for t in (10, 500, 990):
        err = mm.pipeline.per_frame_error(_KnowsTheNoise(clips, schedule, prediction), clips, t, noise_seed=1)
        assert err["video"].shape == (4,) and err["audio"].shape == (4,)
        assert err["video"].max() < 1e-8 and err["audio"].max() < 1e-8


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_per_frame_error_locates_the_wrong_frame_and_segment(prediction):
    """Offset d on video frame 2 and audio segment 1 only: error there, zero elsewhere.  For eps the error is
    d^2; a v offset d becomes a noise offset sqrt(ab) d (eps = sqrt(ab) v + sqrt(1-ab) x_t), error ab d^2."""
    schedule, clips, d, t = mm.linear_schedule(), _small_clips(), 0.5, 300
    wrong = {"video": torch.zeros(1, 4, 1, 1, 1), "audio": torch.zeros(1, 1, 32)}
    wrong["video"][:, 2] = d
    wrong["audio"][..., 8:16] = d  # segment 1 of 4: samples 8..15
    err = mm.pipeline.per_frame_error(_KnowsTheNoise(clips, schedule, prediction, wrong), clips, t)
    expected = d**2 * (float(schedule.alphas_cumprod[t]) if prediction == "v" else 1.0)
    for k, where in (("video", 2), ("audio", 1)):
        assert abs(err[k][where].item() - expected) < 1e-5 * max(expected, 1)
        others = torch.cat([err[k][:where], err[k][where + 1:]])
        assert others.max() < 1e-8, (k, err[k])
    with pytest.raises(ValueError, match="segments"):
        mm.pipeline.per_frame_error(_KnowsTheNoise(clips, schedule), {"video": clips["video"], "audio": clips["audio"][..., :30]}, t)


def test_noise_prediction_gives_back_x0_through_predict_x0():
    schedule, clips = mm.linear_schedule(), _small_clips()
    out = mm.pipeline.noise_prediction(_KnowsTheNoise(clips, schedule, "v"), clips, 700, noise_seed=4)
    again = mm.pipeline.noise_prediction(_KnowsTheNoise(clips, schedule, "v"), clips, 700, noise_seed=4)
    assert all(torch.equal(out["eps"][k], again["eps"][k]) for k in clips)  # fixed noise
    x0 = mm.predict_x0(out["xt"], out["eps_hat"], torch.full((2,), 700.0), schedule)
    for k in clips:
        torch.testing.assert_close(x0[k].float(), clips[k], atol=1e-4, rtol=0)


def test_raw_and_ema_weights_of_a_run(trained):
    tmp_path, tr = trained
    raw, _ = mm.load_model(tmp_path, weights="raw")
    ema, _ = mm.load_model(tmp_path)
    for model, want in ((raw, tr.model), (ema, tr.ema.model)):
        have = model.state_dict()
        assert all(torch.equal(have[k], v) for k, v in want.state_dict().items())
    assert any(not torch.equal(raw.state_dict()[k], v) for k, v in ema.state_dict().items())
    with pytest.raises(ValueError, match="only EMA weights"):
        mm.load_model(tmp_path / "ema.safetensors", weights="raw")
    with pytest.raises(ValueError, match="'ema' or 'raw'"):
        mm.train.load_weights(tmp_path / "last.safetensors", which="best")


class _VideoFrameZeroLeaks(_KnowsTheNoise):
    """Exact audio noise plus the mean of the noisy video's frame 0: its audio error is that mean squared."""

    def forward(self, x, t, shift_generator=None):
        out = super().forward(x, t)
        out["audio"] = out["audio"] + x["video"][:, 0].mean(dim=(1, 2, 3)).view(-1, 1, 1)
        return out


def test_timing_reliance_matches_a_direct_computation_and_is_one_without_coupling():
    schedule, clips, t = mm.linear_schedule(), _small_clips(), 400
    leaky = _VideoFrameZeroLeaks(clips, schedule, "eps")
    err = {}
    for name, video in (("true", clips["video"]), ("rolled", clips["video"].roll(1, dims=1))):
        err[name] = sum(mm.q_sample({"video": video, "audio": clips["audio"]}, torch.full((2,), float(t)), schedule,
                                    generator=torch.Generator().manual_seed(derive_seed(s, "noise")))[0]["video"][:, 0].mean(dim=(1, 2, 3))
                        .square().mean().item() for s in (0, 1))
    ratio = mm.pipeline.timing_reliance(leaky, clips, t, roll=1, seeds=(0, 1), schedule=schedule)
    assert abs(ratio - err["rolled"] / err["true"]) < 1e-4 * ratio and abs(ratio - 1) > 0.01
    g = torch.Generator().manual_seed(0)
    nocross = mm.model.perturb_zero_layers(mm.build_model("tiny", cross_attention=False), generator=g)
    real = mm.SyntheticClips("tiny", seed=0).batch(range(2))
    assert mm.pipeline.timing_reliance(nocross, real, 300, seeds=(0,)) == 1.0  # the audio U-Net never sees the video
    with pytest.raises(ValueError, match="roll"):
        mm.pipeline.timing_reliance(nocross, real, 300, roll=16)


def test_recipes_of_the_shipped_names():
    from mmdiff_lite.pipeline.checkpoints import RECIPES

    configs = {name: mm.model_config("tiny", **opts) for name, opts in RECIPES.items()}
    assert configs["tiny"] == mm.model_config("tiny") and configs["tiny"].shift == "none"
    assert configs["tiny-rshift"].shift == "random" and not configs["tiny-nocross"].cross_attention
    diff = lambda a, b: {k for k in a.to_dict() if a.to_dict()[k] != b.to_dict()[k]}  # noqa: E731
    assert diff(configs["tiny-rshift"], configs["tiny"]) == {"shift"}  # one change each, nothing else
    assert diff(configs["tiny-nocross"], configs["tiny"]) == {"cross_attention"}
    with pytest.raises(ValueError, match="tiny-rshift"):
        mm.load_or_train("tiny-huge", steps=1, out="unused")
