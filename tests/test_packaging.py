"""The kit's set-up: one dependency list, the two commands, the CLI entry points."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pinned = {_name(r): r for r in extras["pinned"]}
    expected = {pinned.get(_name(r), r) for r in project["dependencies"]} | set(extras["dev"])
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    listed = {line.strip()[2:].strip() for line in lines[start + 1:] if line.strip().startswith("- ")}
    assert listed == expected, f"only in environment.yml: {listed - expected}; only in pyproject: {expected - listed}"
    # every pinned package is a dependency, so the pins really apply
    assert set(pinned) <= {_name(r) for r in project["dependencies"]}


def test_the_two_commands_are_wired():
    make = (ROOT / "Makefile").read_text()
    for target in ("setup", "demo", "test", "lab", "notebooks"):
        assert re.search(rf"^{target}:", make, re.M), f"Makefile lacks `{target}`"
    assert re.search(r"^demo: setup", make, re.M) and re.search(r"^test: setup", make, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_cli_entry_points():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["mmdiff-lite"] == "mmdiff_lite.cli:main"
    out = subprocess.run([sys.executable, "-m", "mmdiff_lite", "--help"], capture_output=True, text=True, check=True)
    assert "demo" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "mmdiff_lite", "no-such-command"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_atomic_path_replaces_whole_files_only(tmp_path):
    from mmdiff_lite.utils import atomic_path

    target = tmp_path / "f.txt"
    target.write_text("old")
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash while writing")
    except RuntimeError:
        pass
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new" and (target.stat().st_mode & 0o044) == 0o044  # readable by others


def test_option_overrides_parse_json_or_strings():
    import pytest

    from mmdiff_lite.commands.options import parse_overrides

    assert parse_overrides(["channels=32", "windows=[null,1,4]", "shift=none", "cross_attention=false"]) == {
        "channels": 32, "windows": (None, 1, 4), "shift": "none", "cross_attention": False}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_overrides(["channels"])
