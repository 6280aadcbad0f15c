"""``mmdiff-lite evaluate``: end to end at a tiny size, resumable from its clip cache, and its errors."""
import json

import pytest

from mmdiff_lite.cli import main
from mmdiff_lite.pipeline import fidelity


@pytest.mark.slow
def test_evaluate_writes_metrics_and_resumes_from_its_cache(tmp_path, monkeypatch, capsys):
    out = tmp_path / "eval"
    args = ["evaluate", "--checkpoint", "tiny", "--n", "12", "--steps", "4", "--n-boot", "5", "--out", str(out),
            "--no-progress"]
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("fvd", "kvd", "fad", "kad", "fjd", "kjd"):
        for where in ("generated", "floor"):
            d = metrics[where][key]
            assert d["low"] <= d["high"] and "value" in d
    assert metrics["sync"]["f1"] >= 0 and 0 <= metrics["memorisation"]["share_generated"] <= 1
    table = (out / "table.md").read_text()
    assert "| fvd |" in table and "floor" in table
    assert len(list((out / "clips").glob("chunk-*.safetensors"))) == 1

    # A second run with the same settings finds every clip in the cache: it never generates.
    def refuse(*a, **k):
        raise AssertionError("generated again instead of using the cache")
    monkeypatch.setattr(fidelity, "generate", refuse)
    (out / "metrics.json").unlink()
    assert main(args) == 0
    assert json.loads((out / "metrics.json").read_text())["generated"] == metrics["generated"]

    # Other settings in the same folder are refused, with what to do.
    assert main([*args[:-3], "--seed", "1", "--out", str(out)]) == 2
    assert "other settings" in capsys.readouterr().err


def test_evaluate_refuses_missing_weights_before_generating(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fidelity, "generate", lambda *a, **k: pytest.fail("generated before checking the weights"))
    code = main(["evaluate", "--n", "4", "--features", f"i3d:{tmp_path / 'i3d.pt'}", "--out", str(tmp_path / "e")])
    err = capsys.readouterr().err
    assert code == 2 and "i3d_torchscript.pt" in err and "README" in err and len(err.strip().splitlines()) == 1


def test_evaluate_refuses_a_foreign_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["evaluate", "--n", "4", "--out", str(tmp_path)]) == 2
    assert "--overwrite" in capsys.readouterr().err
