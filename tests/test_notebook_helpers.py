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


def test_live_interact_shows_one_output_that_a_change_replaces(monkeypatch):
    """The live path displays fn's prints and figures as one ordinary output with a display id (no Output widget,
    which a headless executor could wait on forever); a change updates that same output in place."""
    import ipywidgets as widgets
    from IPython.display import HTML, display

    monkeypatch.setenv("MMDIFF_WIDGETS", "1")
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()  # a kernel's shell, so that fn's displays are captured as they are in a notebook
    shown, updates = [], []

    class Handle:
        def display(self, obj, raw=False):
            shown.append(dict(obj))

        def update(self, obj, raw=False):
            updates.append(dict(obj))

    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    monkeypatch.setattr("IPython.display.DisplayHandle", Handle)

    def fn(t):
        print(f"t is {t}")
        display(HTML(f"<b>{t}</b>"))
        if t < 0:
            raise ValueError("t must be >= 0")
        return t

    slider = widgets.IntSlider(value=2, min=-1, max=5)
    assert nbk.interact(fn, expensive=True, t=slider) == 2
    panel, first = shown
    assert isinstance(panel, widgets.VBox) and slider.description == "t" and slider.continuous_update is False
    assert "t is 2" in first["text/html"] and "<b>2</b>" in first["text/html"] and "t is 2" in first["text/plain"]
    slider.value = 4
    assert "working on the new values" in updates[0]["text/html"]  # expensive: says it is busy first
    assert "<b>4</b>" in updates[-1]["text/html"] and "<b>2</b>" not in updates[-1]["text/html"]
    slider.value = -1  # an error in a redraw is shown where the output was, not raised into the widget machinery
    assert "ValueError: t must be &gt;= 0" in updates[-1]["text/html"]
    assert len(shown) == 2  # every redraw replaced the one output; nothing new was displayed
