"""Presets name each other, overrides are honoured or refused, and the kit's random streams are unrelated."""
import pytest
import torch

import mmdiff_lite as mm
from mmdiff_lite.data import PRESETS, synthetic_clip
import importlib

generate_module = importlib.import_module("mmdiff_lite.pipeline.generate")
from mmdiff_lite.train import Trainer


@pytest.mark.parametrize("name", sorted(mm.MODEL_PRESETS))
def test_every_model_preset_names_a_clip_preset_of_its_shapes(name):
    cfg = mm.MODEL_PRESETS[name]
    clips = mm.clip_preset(cfg.clip)
    shapes = {"video": clips.video_shape, "audio": clips.audio_shape}
    assert set(cfg.input_shapes) == set(cfg.modalities) and cfg.modalities
    assert all(shapes[k] == tuple(v) for k, v in cfg.input_shapes.items())
    pair = synthetic_clip(0, clips)
    assert tuple(pair["video"].shape) == clips.video_shape and tuple(pair["audio"].shape) == clips.audio_shape


def test_clip_presets_draw_clips_with_impacts():
    for name, cfg in PRESETS.items():
        events = [synthetic_clip(s, cfg)["impact_frames"] for s in range(8)]
        assert all(len(e) >= 1 for e in events), name


def test_ref_small_trains_on_its_own_benchmark(tmp_path):
    cfg = mm.train_config("ref-small", steps=1, batch_size=2, log_every=1)
    trainer = Trainer(cfg, tmp_path / "r")
    assert trainer.data_preset == "ref-small"
    trainer.run()
    assert trainer.step == 1


def test_none_is_honoured_where_it_means_something_and_refused_elsewhere():
    assert mm.train_config("tiny", grad_clip=None).grad_clip is None
    assert mm.train_config("tiny").grad_clip == 1.0
    with pytest.raises(ValueError, match="lr cannot be None"):
        mm.train_config("tiny", lr=None)


def test_generation_draws_every_stream_from_its_own_seed(monkeypatch):
    seeds = []
    real = generate_module.make_generator
    monkeypatch.setattr(generate_module, "make_generator", lambda s, d="cpu": seeds.append(s) or real(s, d))
    model = mm.build_model("tiny")
    for seed in (0, 1):
        mm.generate(model, 8, method="ddim", steps=1, seed=seed, batch_size=1, progress=False)
    assert len(seeds) == 2 * 8 * 2  # noise and shift, per batch, per seed
    assert len(set(seeds)) == len(seeds)  # no batch's shift stream is another batch's noise stream
