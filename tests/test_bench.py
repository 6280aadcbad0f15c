"""`mmdiff-lite bench train` and `bench sampling`: throughput of the real trainer, samplers side by side
(measured NFE, scores with their shuffled-pair chance level), shift modes at sampling time."""
import json

import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.bench.throughput import _split_options
from mmdiff_lite.cli import main
from mmdiff_lite.train import Trainer, train_config
from mmdiff_lite.viz.model import table_text


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    Trainer(train_config("tiny", steps=1, batch_size=2), out, progress=False).run()
    return out


def test_bench_train_reports_positive_throughput(tmp_path, capsys):
    path, threads = tmp_path / "train.json", torch.get_num_threads()
    assert main(["bench", "train", "--batch-size", "2", "--steps", "3", "--threads", "1", "--no-progress",
                 "--json", str(path)]) == 0
    r = json.loads(path.read_text())
    assert r["clips_per_s"] > 0 and r["threads"] == 1 and r["params"] == sum(p.numel() for p in mm.build_model("tiny").parameters())
    assert r["clips_per_s"] * r["s_per_step"] == pytest.approx(2)  # clips/s = batch / (s/step)
    assert "clips/s" in capsys.readouterr().out
    assert torch.get_num_threads() == threads  # restored, not left at --threads
    with pytest.raises(ValueError, match="warm-up"):
        mm.bench.train_throughput(steps=2)


def test_bench_set_splits_training_and_model_options():
    assert _split_options({"lr": 1e-3, "channels": 32, "ema_decay": 0.5}) == ({"lr": 1e-3, "ema_decay": 0.5}, {"channels": 32})


def test_bench_sampling_writes_json_and_markdown(run_dir, tmp_path, capsys):
    js, md = tmp_path / "s.json", tmp_path / "s.md"
    assert main(["bench", "sampling", "--checkpoint", str(run_dir), "--methods", "DDIM-50", "--n", "2", "--shift", "none",
                 "--no-progress", "--json", str(js), "--markdown", str(md)]) == 0
    r = json.loads(js.read_text())
    assert r["n"] == 2 and r["step"] == 1 and len(r["rows"]) == 1
    row = r["rows"][0]
    expected = {"sampler", "shift", "nfe", "seconds", *mm.metrics.sync.HEADLINE_KEYS, "chance_f1", "chance_f1_exact",
                "chance_semantic", "se_f1", "se_f1_exact", "se_semantic", "per_clip", "d_f1", "se_d_f1", "d_reference"}
    assert set(row) == expected and row["sampler"] == "DDIM-50" and row["shift"] == "none"
    assert r["reference"] == "DDIM-50" and row["d_f1"] == 0 and row["se_d_f1"] == 0  # the reference row against itself
    assert row["f1"] == pytest.approx(sum(row["per_clip"]["f1"]) / 2)  # the per-pair scores are the row's
    assert 0 <= row["se_f1"] <= 0.5  # s / sqrt(n) of two values in [0, 1] is at most 0.5
    assert row["nfe"] == 50 and row["seconds"] > 0  # measured: one network call per DDIM step
    table = md.read_text()
    assert table in capsys.readouterr().out and "| DDIM-50 |" in table and "---:|" in table and "f1 se" in table
    assert "Δf1 se" in table and "minus DDIM-50's" in table
    assert main(["bench", "sampling", "--checkpoint", str(run_dir), "--shift", "sideways"]) == 2


def test_compare_samplers_refuses_unknown_labels():
    with pytest.raises(ValueError, match="choose from DDPM-1000"):
        mm.compare_samplers(mm.build_model("tiny"), 2, "tiny", labels=["DDIM-7"])


def test_paired_differences_compare_rows_of_the_same_shift_seed_by_seed():
    rows = [{"sampler": "A", "shift": "none", "per_clip": {"f1": [1.0, 0.5, 0.0]}},
            {"sampler": "B", "shift": "none", "per_clip": {"f1": [0.5, 0.5, 0.5]}},
            {"sampler": "A", "shift": "random", "per_clip": {"f1": [0.0, 0.0, 0.0]}},
            {"sampler": "B", "shift": "random", "per_clip": {"f1": [1.0, 0.0, 0.5]}}]
    mm.pipeline.paired_differences(rows, "A")
    assert [r["d_f1"] for r in rows] == [0.0, pytest.approx(0.0), 0.0, pytest.approx(0.5)]  # B - A within each shift
    assert rows[1]["se_d_f1"] == pytest.approx(mm.metrics.standard_error([-0.5, 0.0, 0.5]))
    assert rows[3]["se_d_f1"] == pytest.approx(mm.metrics.standard_error([1.0, 0.0, 0.5]))
    with pytest.raises(ValueError, match="choose one of A, B"):
        mm.pipeline.paired_differences(rows, "C")
    assert {r["d_reference"] for r in rows} == {"A"}
    mm.pipeline.paired_differences(rows, "A", group_by=None)  # everything against the first A row (shift none)
    assert [r["d_f1"] for r in rows] == [0.0, pytest.approx(0.0), pytest.approx(-0.5), pytest.approx(0.0)]
    assert {r["d_reference"] for r in rows} == {"A with shift none"}


def test_bench_sampling_compares_shift_modes_of_one_sampler(run_dir, tmp_path):
    js = tmp_path / "s.json"
    assert main(["bench", "sampling", "--checkpoint", str(run_dir), "--methods", "DDIM-50", "--n", "2",
                 "--shift", "none,random", "--no-progress", "--json", str(js)]) == 0
    r = json.loads(js.read_text())
    none, random = r["rows"]
    assert r["reference"] == "DDIM-50 with shift none" and none["d_f1"] == 0
    assert random["d_f1"] == pytest.approx(random["f1"] - none["f1"])  # random minus none, seed by seed


def test_shift_none_is_shift_zero_and_random_differs():
    model = mm.model.perturb_zero_layers(mm.build_model("tiny"), generator=torch.Generator().manual_seed(0))
    run = lambda shift: mm.pipeline.timed_generate(model, 2, shift=shift, method="ddim", steps=2, progress=False)  # noqa: E731
    (none, _, nfe), (zero, _, _), (rand, _, _) = run("none"), run(0), run("random")
    assert nfe == 2 and all(torch.equal(none[k], zero[k]) for k in none)
    assert not torch.equal(none["video"], rand["video"])
    assert model.config.shift == "none" and all(torch.equal(run("trained")[0][k], none[k]) for k in none)
    for _, block in mm.rsmma_modules(model):  # "trained" follows whatever mode the blocks were built with
        block.shift = "random" if block.window < block.num_frames else block.shift
    assert all(torch.equal(run("trained")[0][k], rand[k]) for k in rand)


def test_shuffled_scores_are_the_chance_level_of_true_pairs():
    v, a = mm.reference_pairs(6)["true"]
    assert mm.sync_scores(v, a)["f1"] > 0.9
    chance, by_hand = mm.shuffled_scores(v, a), mm.sync_scores(v, a[[1, 2, 3, 4, 5, 0]])
    assert all(chance[k] == by_hand[k] for k in mm.metrics.PAIRING_KEYS) and chance["f1"] < 0.6
    with pytest.raises(ValueError, match="at least 2"):
        mm.shuffled_scores(v[:1], a[:1])


def test_markdown_table_has_a_right_aligned_rule():
    text = table_text([{"a": 1, "b": 0.5}, {"a": 22, "b": None}], markdown=True)
    assert text.splitlines() == ["|  a |     b |", "|---:|------:|", "|  1 | 0.500 |", "| 22 |     - |"]


def test_bench_step_profile_splits_the_step_into_kernel_families():
    from mmdiff_lite.bench.worker import KERNEL_FAMILIES, step_case

    r = step_case({"kind": "step", "preset": "tiny", "batch": 1, "reps": 1, "profile": True})
    k = r["kernels"]
    assert set(KERNEL_FAMILIES) <= set(k)
    assert k["convolution"] > 0 and k["matmul"] > 0  # the tiny model convolves and projects
    assert sum(k[name] for name in KERNEL_FAMILIES) <= k["all operators"] * (1 + 1e-9)


def test_time_to_sync_resumes_its_curve_and_keeps_training_and_evaluation_time_apart(tmp_path):
    from mmdiff_lite.bench.time_to_sync import first_sync, time_to_sync

    small = {"batch_size": 2, "log_every": 1}
    first = time_to_sync(tmp_path, eval_every=2, max_steps=4, n=2, options=small, progress=False)
    assert [r["step"] for r in first["rows"]] == [2, 4] and first["sync"] is None
    assert first["rows"][1]["train_seconds"] > first["rows"][0]["train_seconds"] > 0
    again = time_to_sync(tmp_path, eval_every=2, max_steps=6, n=2, options=small, progress=False)
    assert [r["step"] for r in again["rows"]] == [2, 4, 6] and again["rows"][:2] == first["rows"]  # resumed, not redone
    with pytest.raises(ValueError, match="another recipe"):
        time_to_sync(tmp_path, eval_every=2, max_steps=8, n=2, options={**small, "lr": 1e-3}, progress=False)
    rows = [{"step": 4, "f1": 0.8, "semantic": 0.6}, {"step": 2, "f1": 0.2, "semantic": 0.9},
            {"step": 6, "f1": 0.7, "semantic": 0.7}, {"step": 8, "f1": 0.9, "semantic": 0.9}]
    assert first_sync(rows)["step"] == 6  # both goals at once, the earliest such step


def test_gpu_check_refuses_to_run_without_a_gpu(tmp_path, capsys):
    import torch

    from mmdiff_lite.bench import gpu_check

    if torch.cuda.is_available():
        import pytest

        pytest.skip("a GPU is here: make gpu-check runs for real")
    assert gpu_check.main(["--out", str(tmp_path / "g")]) == 2
    assert "no CUDA device" in capsys.readouterr().err and not (tmp_path / "g").exists()
