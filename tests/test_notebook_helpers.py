"""mmdiff_lite.notebook: budgets, figures, and widgets that degrade to one call headless."""
import pytest

from mmdiff_lite import notebook as nbk


def test_pick_by_budget_with_fallbacks():
    assert nbk.pick("smoke", smoke=1, cpu=2) == 1
    assert nbk.pick("gpu", smoke=1, cpu=2) == 2  # gpu falls back to cpu
    assert nbk.pick("paper", smoke=1, cpu=2, gpu=3) == 3  # paper falls back to gpu
    assert nbk.pick("paper", smoke=1, cpu=2, gpu=3, paper=4) == 4
    with pytest.raises(ValueError, match="smoke, cpu, gpu, paper"):
        nbk.pick("huge", smoke=1, cpu=2)


def test_interact_headless_calls_once_with_defaults(monkeypatch, capsys):
    import ipywidgets as widgets

    monkeypatch.setenv("MMDIFF_WIDGETS", "0")
    calls = []
    out = nbk.interact(lambda t, name: calls.append((t, name)) or "done",
                       t=widgets.IntSlider(value=7, min=0, max=10), name="fixed")
    assert calls == [(7, "fixed")] and out == "done"
    assert "t=7" in capsys.readouterr().out


def test_interact_with_a_front_end_returns_the_result_and_redraws(monkeypatch):
    """The live path returned ``ipywidgets.interact(fn)``, i.e. the function, so ``m = interact(...)``; ``m.sum()``
    crashed in JupyterLab.  Now both paths return the defaults' result, and moving a control calls fn again."""
    import ipywidgets as widgets

    monkeypatch.setenv("MMDIFF_WIDGETS", "1")
    calls = []
    slider = widgets.IntSlider(value=7, min=0, max=10, continuous_update=False)
    out = nbk.interact(lambda t, name: calls.append((t, name)) or t * 2, t=slider, name="fixed")
    assert out == 14 and calls == [(7, "fixed")]
    slider.value = 3
    assert calls[-1] == (3, "fixed")


def test_show_source_shows_the_package_code():
    from mmdiff_lite.diffusion.guidance import Replacement

    code = nbk.show_source(Replacement.model_input)
    assert "def model_input" in code.data and "q(v_t | v)" in code.data


def test_figures_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MMDIFF_FIGURES", str(tmp_path / "figs"))
    assert nbk.figures_dir() == tmp_path / "figs" and (tmp_path / "figs").is_dir()


def test_start_prints_the_environment_record(capsys):
    run = nbk.start("smoke", seed=3)
    out = capsys.readouterr().out
    for key in ("torch", "device", "budget: smoke", "python"):
        assert key in out
    assert run.pick(smoke="s", cpu="c") == "s"
    assert run.finish() >= 0
