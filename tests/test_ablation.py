"""``mmdiff-lite ablate``: studies whose variants differ only in what they ablate, end to end at a 2-step budget."""
import csv
import json
from dataclasses import asdict

import pytest

from mmdiff_lite.bench import ablation
from mmdiff_lite.bench.ablation_studies import STUDIES, variants_of
from mmdiff_lite.cli import build_parser, main
from mmdiff_lite.model import model_config


def _full(variant):
    cfg = ablation.variant_config(variant, steps=100, seed=0)
    train = asdict(cfg)
    train.pop("model_overrides")
    return train, model_config(cfg.preset, **cfg.model_overrides).to_dict()


@pytest.mark.parametrize("study", list(STUDIES))
def test_variants_differ_only_in_what_they_ablate(study):
    ref = next(v for v in STUDIES[study] if v.reference)
    ref_train, ref_model = _full(ref)
    for v in STUDIES[study]:
        train, model = _full(v)
        assert train == ref_train, v.name  # one recipe, one budget
        changed = {k for k in model if model[k] != ref_model[k]}
        assert changed <= set(v.model) | set(ref.model), (v.name, changed)
        if v is not ref:
            assert changed, f"{v.name} is the same configuration as the reference"


def test_windows_map_the_papers_tuples_onto_each_preset():
    from mmdiff_lite.bench.ablation_studies import preset_windows

    assert preset_windows((1, 4, 8), 3) == (None, 4, 8)
    assert preset_windows((1, 4, 8), 4) == (None, 1, 4, 8)
    paper = ablation.variant_config(STUDIES["windows"][3], 10, 0, preset="paper")
    assert paper.model_overrides["windows"] == (None, 1, 4, 8) and paper.preset == "paper"


def test_a_later_option_at_its_default_keeps_the_run_names_and_otherwise_renames_them():
    from dataclasses import replace

    ref = STUDIES["shift"][0]
    cfg = ablation.variant_config(ref, 1200, 0)
    # the names of the runs shipped in figures/ablations/ (made before ema_warmup existed)
    assert ablation.run_name(ref, cfg) == "r0-circular-6a24814c-seed0"
    assert ablation._fingerprint(replace(cfg, ema_warmup=40.0)) != ablation._fingerprint(cfg)
    assert ablation._fingerprint(replace(cfg, seed=1)) != ablation._fingerprint(cfg)


def test_studies_name_each_variant_once_and_refuse_unknown_ones():
    names = [v.name for v in variants_of("all")]
    assert len(names) == len(set(names))
    with pytest.raises(ValueError, match="unknown study"):
        variants_of("dropout")


def test_t_interval_known_answer():
    ci = ablation.t_interval([1.0, 2.0, 3.0])
    assert ci["mean"] == 2.0 and ci["half"] == pytest.approx(4.303 / 3 ** 0.5, rel=1e-4)
    assert ablation.t_interval([5.0])["half"] is None


def test_verdicts_follow_the_interval_and_the_claimed_direction():
    up = ablation.t_interval([0.3, 0.4, 0.35])
    down = ablation.t_interval([-0.3, -0.4, -0.35])
    zero = ablation.t_interval([-0.2, 0.1, 0.15])
    assert ablation.verdict(up, +1) == "reproduced" and ablation.verdict(up, -1) == "reversed"
    assert ablation.verdict(down, -1) == "reproduced"
    assert ablation.verdict(zero, +1).startswith("not reproduced")
    assert ablation.verdict(ablation.t_interval([0.5]), +1).startswith("untested (one seed")
    assert ablation.verdict(None, +1).startswith("untested (no seed")


def test_paired_delta_pairs_by_seed_at_the_last_shared_step():
    rows = [{"study": "shift", "variant": v, "seed": s, "step": t, "f1": f}
            for v, s, t, f in [("a", 0, 10, 0.5), ("a", 1, 10, 0.7), ("a", 2, 10, 0.9), ("a", 0, 20, 0.6),
                               ("b", 0, 10, 0.4), ("b", 1, 10, 0.4), ("b", 0, 5, 0.0), ("c", 9, 10, 1.0)]]
    d = ablation.paired_delta(rows, "shift", "a", "b", "f1")  # step 10 (the last both have), seeds 0 and 1 only
    assert d["n"] == 2 and d["mean"] == pytest.approx((0.1 + 0.3) / 2)
    assert d["half"] == pytest.approx(12.7062 * 0.1, rel=1e-4)  # t(0.975, 1) · s / √2, s = 0.1 · √2
    assert ablation.paired_delta(rows, "shift", "a", "b", "f1", step=20) is None  # b has no step 20
    assert ablation.paired_delta(rows, "shift", "a", "c", "f1") is None  # no shared seed


def test_the_table_prints_each_mean_with_its_interval_and_signs_only_the_differences():
    rows = [{"study": "coupling", "variant": v, "label": v, "reference": v == "ref", "seed": s, "step": 10,
             **{m: 0.0 for m in ablation.METRICS}, "f1": f, "fvd": 100.0 + f}
            for v, s, f in [("ref", 0, 0.5), ("ref", 1, 0.7), ("alt", 0, 0.4), ("alt", 1, 0.4)]]
    summary = ablation.summarise(rows)
    table = ablation.table_markdown(summary)
    alt = next(ln for ln in table.splitlines() if ln.startswith("| alt"))
    cells = [c.strip() for c in alt.strip("|").split("|")]
    half = 12.7062 * 0.1  # paired differences −0.1 and −0.3: t(0.975, 1) · s / √2, s = 0.1 · √2
    assert cells[3] == "0.400 ± 0.000"  # f1 of alt: the same value on both seeds
    assert cells[-2] == f"-0.200 ± {half:.3f}" and cells[-1] == f"-0.200 ± {half:.3f}"  # Δf1, ΔFVD: signed mean only
    ref = next(ln for ln in table.splitlines() if ln.startswith("| ref"))
    assert "(ref)" in ref and ref.rstrip().endswith("| – | – |")


@pytest.mark.slow
def test_a_two_step_study_runs_end_to_end_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "abl"
    args = ["ablate", "--study", "coupling", "--seeds", "2", "--steps", "2", "--n", "4", "--n-boot", "3",
            "--out", str(out), "--no-progress"]
    assert main(args) == 0
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert {(r["variant"], r["seed"]) for r in rows} == {("coupled", "0"), ("coupled", "1"), ("nocross", "0"), ("nocross", "1")}
    assert all(0 <= float(r["f1"]) <= 1 and float(r["fvd"]) >= 0 for r in rows)
    table = (out / "table.md").read_text()
    assert "### coupling" in table and "no cross attention" in table and "±" in table
    lines = [ln for ln in table.splitlines() if ln.startswith("|")]
    assert len({ln.count("|") for ln in lines}) == 1  # every row has the header's columns
    assert (out / "coupling.png").stat().st_size > 0
    for run in (out / "runs").iterdir():
        assert json.loads((run / "command.json").read_text())["command"].startswith("mmdiff-lite ablate")
        assert (run / "log.jsonl").is_file()
    # Again: every run is finished and every evaluation stored, so nothing is trained or evaluated again.
    monkeypatch.setattr(ablation, "evaluate_model", lambda *a, **k: pytest.fail("evaluated again"))
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("last.safetensors")}
    assert main(args) == 0
    assert {p: p.stat().st_mtime_ns for p in before} == before
    # --stored-only on a grid with one evaluation missing: the rest is tabulated, the missing run is listed, and
    # nothing is trained or evaluated (a grid still running, or copied from another machine).
    gone = next((out / "evals").glob("nocross-*seed1-*.json"))
    gone.unlink()
    monkeypatch.setattr(ablation, "Trainer", lambda *a, **k: pytest.fail("trained with --stored-only"))
    assert main([*args, "--stored-only"]) == 0
    assert not gone.exists()
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert {(r["variant"], r["seed"]) for r in rows} == {("coupled", "0"), ("coupled", "1"), ("nocross", "0")}
    assert "Not yet run, so not in the tables above (1 run): coupling/nocross seed 1." in (out / "table.md").read_text()
    note = ablation.table_markdown({}, missing=[("fix", "fix-rotary", 1), ("fix", "fix-rotary", 2), ("shift", "r0-zeros", 2)])
    assert note.strip().startswith("Not yet run, so not in the tables above (3 runs): fix/fix-rotary seeds 1, 2; shift/r0-zeros seed 2.")
    with pytest.raises(ValueError, match="no finished run is stored"):
        ablation.ablate("coupling", tmp_path / "empty", seeds=[0], steps=2, stored_only=True)
    with pytest.raises(ValueError, match="drop --shard"):
        ablation.ablate("coupling", out, seeds=[0], steps=2, stored_only=True, shard=(0, 2))


class _FakeShard:
    """A stand-in for one ``--jobs`` child process: exits with ``code`` after ``polls`` polls, or runs until
    terminated (``code=None``)."""
    def __init__(self, argv, code, polls):
        self.argv, self.code, self.polls, self.terminated = argv, code, polls, False

    def poll(self):
        if self.terminated:
            return -15
        self.polls -= 1
        return self.code if self.code is not None and self.polls < 0 else None

    def terminate(self):
        self.terminated = True

    def wait(self):
        return self.poll()


def _jobs(monkeypatch, outcomes, *extra):
    from mmdiff_lite.commands import ablate as command

    shards, tabulated = [], []

    def popen(argv):
        shards.append(_FakeShard(argv, *outcomes[len(shards)]))
        return shards[-1]

    monkeypatch.setattr(command.subprocess, "Popen", popen)
    monkeypatch.setattr(command.time, "sleep", lambda s: None)
    monkeypatch.setattr(command, "run", lambda args: tabulated.append(args.jobs) or 0)
    args = build_parser().parse_args(["ablate", "--study", "fix", "--seeds", "2", "--steps", "8", "--out", "o",
                                      "--jobs", str(len(outcomes)), *extra])
    return command.run_jobs(args), shards, tabulated


def test_jobs_runs_one_shard_per_process_then_tabulates_once(monkeypatch):
    rc, shards, tabulated = _jobs(monkeypatch, [(0, 3), (0, 1)])
    assert rc == 0 and tabulated == [1]  # tabulated once, in this process, after both shards
    for k, shard in enumerate(shards):
        opts = shard.argv[shard.argv.index("ablate") + 1:]
        assert opts[opts.index("--shard") + 1] == f"{k}/2" and opts[opts.index("--threads") + 1] == "1"
        assert opts[opts.index("--steps") + 1] == "8" and opts[opts.index("--seeds") + 1] == "2"
        assert "--jobs" not in opts


def test_a_failing_shard_stops_the_others_and_nothing_is_tabulated(monkeypatch, capsys):
    rc, shards, tabulated = _jobs(monkeypatch, [(None, 0), (3, 1)], "--threads", "2")
    assert rc == 1 and tabulated == [] and shards[0].terminated and not shards[1].terminated
    assert "shard 1/2 failed" in capsys.readouterr().err
    assert shards[0].argv[shards[0].argv.index("--threads") + 1] == "2"


def test_jobs_refuses_a_shard_of_its_own():
    from mmdiff_lite.commands import ablate as command

    with pytest.raises(ValueError, match="--jobs runs the shards itself"):
        command.run_jobs(build_parser().parse_args(["ablate", "--study", "fix", "--out", "o", "--jobs", "2",
                                                    "--shard", "0/2"]))
