"""Training beyond the defaults: gradient accumulation, prepared real clips, preview pairs on disk."""
import json

import numpy as np
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.data.io import read_mp4, write_mp4
from mmdiff_lite.train import Trainer, preview_path, train_config
from mmdiff_lite.train.data import make_source
from test_data_helpers import noise_clip

SMALL = dict(batch_size=4, log_every=1, ckpt_every=100, warmup_steps=2)


def _ema(trainer):
    return {k: v.detach().clone() for k, v in trainer.ema.model.state_dict().items()}


def _log(run_dir):
    return [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]


def test_accumulation_gives_the_weights_of_one_big_batch(tmp_path, relative_gap):
    """Two micro-batches of 2, each loss / 2, sum to the gradient of one batch of 4 (the same clips, t and noise:
    they are drawn per global sample index), so the weights agree up to float summation order."""
    runs = {}
    for acc in (1, 2):
        tr = Trainer(train_config("tiny", steps=2, accumulation=acc, **SMALL), tmp_path / f"acc{acc}", progress=False)
        tr.run()
        runs[acc] = _ema(tr)
    init = _ema(Trainer(train_config("tiny", steps=2, **SMALL), tmp_path / "init", progress=False))
    assert relative_gap(runs[1], runs[2], init) < 1e-2  # other clips, t or noise would move them as far as training
    logs = {acc: _log(tmp_path / f"acc{acc}") for acc in (1, 2)}
    for one, two in zip(logs[1], logs[2]):  # Adam forgives a gradient scale, so check it directly
        assert two["grad_norm"] == pytest.approx(one["grad_norm"], rel=1e-4)  # each micro-loss / accumulation
        assert two["loss"] == pytest.approx(one["loss"], rel=1e-5)
    with pytest.raises(ValueError, match="must divide by processes x accumulation"):
        Trainer(train_config("tiny", steps=1, accumulation=3, **SMALL), tmp_path / "bad", progress=False)


@pytest.fixture(scope="module")
def tiny_clips(tmp_path_factory):
    """Five 2-second noise videos (16 fps, 8 kHz) prepared into clips of the tiny preset."""
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("clips")
    for i in range(5):
        v, a = noise_clip(2.0, 16, 24, 24, 8000, 1, seed=10 + i)
        write_mp4(src / f"clip{i}.mp4", v, a, 16, 8000)
    report = mm.prepare_clips(src, out, "tiny", progress=False)
    assert report.clips >= 5, report.summary()
    return out, report.clips


def test_real_clips_are_drawn_once_per_epoch_in_a_seeded_order(tiny_clips):
    out, n = tiny_clips
    source = make_source(None, str(out), seed=3)
    epoch0 = [source._index(i) for i in range(n)]
    epoch1 = [source._index(i) for i in range(n, 2 * n)]
    assert sorted(epoch0) == sorted(epoch1) == list(range(n))  # every clip once per epoch
    assert epoch0 != list(range(n)) or epoch1 != list(range(n))  # shuffled (n >= 5: identity twice has p < 1e-4)
    again = make_source(None, str(out), seed=3)
    assert [again._index(i) for i in range(2 * n)] == epoch0 + epoch1  # the order is the seed's, not the run's
    b = source.batch([0, 1])
    assert b["video"].shape == (2, 16, 3, 16, 16) and b["audio"].shape == (2, 1, 4096)


def test_training_on_prepared_clips_writes_previews_without_benchmark_scores(tiny_clips, tmp_path):
    out, _ = tiny_clips
    cfg = train_config("tiny", steps=2, data_dir=str(out), preview_every=2, preview_n=2, **SMALL)
    Trainer(cfg, tmp_path, progress=False, preview=mm.pipeline.write_preview).run()
    log = _log(tmp_path)
    losses = [r["loss"] for r in log if "loss" in r]
    assert len(losses) == 2 and all(np.isfinite(losses))
    folder = preview_path(tmp_path, 2)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["scores"] is None and metrics["step"] == 2  # real clips: no synthetic-benchmark scores
    assert [r["preview"] for r in log if "preview" in r] == [{}]
    with pytest.raises(ValueError, match="do not fit model preset"):
        Trainer(train_config("tiny", steps=1, data_dir=str(out), model_overrides={"video_shape": (16, 3, 32, 32)}, **SMALL),
                tmp_path / "mismatch", progress=False)


def test_previews_of_the_benchmark_are_playable_and_scored(tmp_path):
    cfg = train_config("tiny", steps=2, preview_every=1, preview_n=2, **SMALL)
    with pytest.raises(ValueError, match="needs a preview writer"):
        Trainer(cfg, tmp_path, progress=False)  # the trainer knows no generation: a layer above hands it in
    Trainer(cfg, tmp_path, progress=False, preview=mm.pipeline.write_preview).run()
    previews = [r for r in _log(tmp_path) if "preview" in r]
    assert [r["step"] for r in previews] == [1, 2]
    for step in (1, 2):
        folder = preview_path(tmp_path, step)
        metrics = json.loads((folder / "metrics.json").read_text())
        assert metrics["scores"] == previews[step - 1]["preview"] and 0 <= metrics["scores"]["f1"] <= 1
        assert (folder / "contact_sheet.png").is_file()
        with np.load(folder / "pairs.npz") as z:
            assert z["video"].shape == (2, 16, 3, 16, 16) and z["audio"].shape == (2, 1, 4096)
        media = read_mp4(folder / "pair_01.mp4")
        assert media["audio"].shape[-1] > 0 and media["video"].shape[0] == 16  # the preview has its sound
    first = np.load(preview_path(tmp_path, 1) / "pairs.npz")["video"]
    second = np.load(preview_path(tmp_path, 2) / "pairs.npz")["video"]
    assert not np.array_equal(first, second)  # same starting noise, other weights
    with pytest.raises(ValueError, match="preview_n"):
        train_config("tiny", preview_n=0)
