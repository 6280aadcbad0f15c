"""`mmdiff-lite demo` (what `make demo` runs) writes playable pairs with sound, a sheet and scores."""
import json

import mmdiff_lite as mm
from mmdiff_lite.cli import main


def test_demo_writes_pairs_with_sound(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--n", "2"]) == 0
    assert "contact_sheet.png" in capsys.readouterr().out
    cfg = mm.clip_preset("tiny")
    clip = mm.read_mp4(tmp_path / "pair_00.mp4", sample_rate=cfg.sample_rate)
    assert clip["video"].shape[0] == cfg.num_frames and clip["audio"].abs().max() > 0.1  # there is sound
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["sync_scores"]["f1"] >= 0.95  # true benchmark pairs are in sync
    assert (tmp_path / "contact_sheet.png").stat().st_size > 0


def test_demo_bad_arguments_give_one_line(capsys):
    assert main(["demo", "--n", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--n must be at least 1" in err
