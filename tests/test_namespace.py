"""The package a student sees: a short top level of core nouns; the rest reached through the layer that owns it."""
import subprocess
import sys
import types

import mmdiff_lite as mm


def test_top_level_is_short_and_resolves():
    assert 40 <= len(mm.__all__) <= 60, len(mm.__all__)
    assert len(set(mm.__all__)) == len(mm.__all__)
    for name in mm.__all__:
        assert getattr(mm, name) is not None, name


def test_helpers_and_release_tools_are_not_at_the_top():
    for name in ("ship", "perturb_zero_layers", "rsmma_cost", "two_moons_mixture", "model_fn_of", "encode_mp4"):
        assert name not in mm.__all__ and not hasattr(mm, name), name
    import mmdiff_lite.pipeline as pipeline

    assert "ship" not in pipeline.__all__  # a release tool that writes into the installed package
    assert mm.model.perturb_zero_layers and mm.diffusion.two_moons_mixture and mm.pipeline.checkpoints.ship


def test_train_is_the_layer_and_its_function_is_inside():
    assert isinstance(mm.train, types.ModuleType)
    assert callable(mm.train.train) and mm.train_config("tiny").preset == "tiny"


def test_a_missing_name_says_where_to_look():
    try:
        mm.rsmma_cost
    except AttributeError as e:
        assert "mm.model" in str(e)
    else:
        raise AssertionError("mm.rsmma_cost should not exist at the top level")


def test_viz_needs_no_import_of_its_own_and_the_core_loads_no_plotting():
    code = ("import sys, mmdiff_lite as mm; assert 'matplotlib' not in sys.modules, 'core imported matplotlib'; "
            "f = mm.viz.model.table_text; assert 'matplotlib' in sys.modules; print(f.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "table_text"
