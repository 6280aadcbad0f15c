"""One typed validation layer for every config (API and CLI): the silently-wrong options of the reliability issue."""
import math

import pytest

import mmdiff_lite as mm
from mmdiff_lite.commands.options import parse_overrides
from mmdiff_lite.fields import coerce


@pytest.mark.parametrize("text,value", [("False", False), ("false", False), ("FALSE", False), ("no", False),
                                        ("0", False), ("True", True), ("yes", True), (True, True), (False, False)])
def test_bools_parse_strictly_in_any_case(text, value):
    assert coerce(text, bool) is value


@pytest.mark.parametrize("value,tp", [("maybe", bool), (1, bool), (3.5, int), ("abc", int), (True, int),
                                      (math.inf, float), ("nan", float), (True, float), (5, str), ("x", tuple[int, ...]),
                                      ([1, 2], tuple[int, int, int])])
def test_bad_values_are_refused_with_the_field_name(value, tp):
    with pytest.raises(ValueError, match="^opt takes "):
        coerce(value, tp, "opt")


def test_unions_tuples_and_optionals():
    assert coerce(["4", None, 8], tuple[int | None, ...]) == (4, None, 8)
    assert coerce("random", str | int) == "random" and coerce(3, str | int) == 3
    assert coerce(None, float | None) is None and coerce("0.5", float | None) == 0.5
    assert coerce(4.0, int) == 4 and type(coerce(4.0, int)) is int


def test_cross_attention_false_on_the_command_line_trains_without_cross_attention():
    """The bug: json can't read "False", the string stayed, and a non-empty string is true."""
    cfg = mm.train_config("tiny", model_overrides=parse_overrides(["cross_attention=False", "windows=[null,1,4]"]))
    assert cfg.model_overrides == {"cross_attention": False, "windows": (None, 1, 4)}
    assert '"cross_attention": false' in cfg.to_json()
    assert mm.model_config("tiny", **cfg.model_overrides).cross_attention is False
    with pytest.raises(ValueError, match="unknown model option"):
        mm.train_config("tiny", model_overrides={"cross_atention": False})


@pytest.mark.parametrize("option,match", [
    (dict(warmup_steps=-10), "warmup_steps >= 0"), (dict(lr=math.inf), "finite"), (dict(lr="inf"), "finite"),
    (dict(lr=0.0), "lr must be > 0"), (dict(log_every=0), "at least 1"), (dict(ckpt_every=0), "at least 1"),
    (dict(batch_size=0), "batch_size"), (dict(ema_decay=1.5), "ema_decay"), (dict(steps="ten"), "integer"),
])
def test_training_options_out_of_range_are_refused(option, match):
    with pytest.raises(ValueError, match=match):
        mm.train_config("tiny", **option)


@pytest.mark.parametrize("option,match", [
    (dict(windows="foo"), "windows takes"), (dict(channels="abc"), "channels takes"),
    (dict(channels=-16), "at least 1"), (dict(channels=3.5), "channels takes an integer"),
    (dict(cross_attention="maybe"), "true or false"),
])
def test_model_options_out_of_range_are_refused(option, match):
    with pytest.raises(ValueError, match=match):
        mm.model_config("tiny", **option)


def test_api_counts_must_be_integers():
    with pytest.raises(ValueError, match="num_frames must be an integer"):
        mm.window_mask(16.5, 4)
    with pytest.raises(ValueError, match="positive integer"):
        mm.sample(lambda x, t: x, {"a": (1, 1)}, schedule=mm.linear_schedule(), method="ddpm", steps=0)


def test_checkpoint_names_and_paths_are_not_confused(tmp_path, monkeypatch, capsys):
    from mmdiff_lite.pipeline.checkpoints import SHIPPED_DIR, resolve_checkpoint

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such checkpoint file"):
        resolve_checkpoint("missing.safetensors")  # a path, not an "unknown checkpoint"
    (tmp_path / "tiny").mkdir()
    assert resolve_checkpoint("tiny").parent == SHIPPED_DIR
    assert "write ./tiny" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="holds no ema.safetensors"):
        resolve_checkpoint("./tiny")  # the path form means the folder
