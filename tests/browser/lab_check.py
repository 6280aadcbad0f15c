"""``make browser-test``: the course in a real JupyterLab, in a real (headless) browser.

Starts JupyterLab on localhost over copies of the given notebooks, opens each in Debian's Chromium driven by
Playwright (pointed at the system browser: nothing is downloaded), runs "Run All Cells" at the smoke budget, and
checks what a student would see: no error output, the slider widgets rendered, and an HTML5 ``<video>`` that
plays with a sound track (Chromium's decoded audio byte count grows).  Screenshots go to ``--out``.

    python tests/browser/lab_check.py --out build/browser 00_quickstart.ipynb 05_rs_mma.ipynb
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
#: Notebooks render every cell (JupyterLab 4 otherwise only puts the cells in view into the page).
LAB_SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
                "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                                     "checkForUpdates": False}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(work: Path, out: Path) -> tuple[subprocess.Popen, str]:
    """JupyterLab on localhost over ``work``; returns the process and the base URL (with its token)."""
    settings = out / "lab-settings"
    for name, value in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "MMDIFF_BUDGET": "smoke", "MMDIFF_FIGURES": str(out / "figures"),
           "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTER_CONFIG_DIR": str(out / "jupyter-config")}
    env.pop("MMDIFF_WIDGETS", None)  # the front end itself must be detected, as for a student
    log = open(out / "jupyterlab.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
                             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--allow-root",
                             f"--ServerApp.root_dir={work}"], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            return proc, f"{base}/lab/workspaces/{{stem}}/tree/{{name}}?reset&token={token}"
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"JupyterLab did not start; see {out / 'jupyterlab.log'}")
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("JupyterLab did not answer within 60 s")


def _prompts(page) -> list[str]:
    return [p.strip() for p in page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()]


def run_all(page, timeout_s: float) -> list[str]:
    """Run > Run All Cells, then wait until the kernel has been idle for a few seconds with no cell queued;
    returns the prompts of code cells that never ran (after an error, Jupyter skips the rest).  A fresh
    JupyterLab can take the first click before its kernel is connected: when no cell has started 20 s after
    a click, the click is repeated (three times at most)."""
    indicator = page.locator(".jp-Notebook-ExecutionIndicator").first
    for _ in range(3):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator("li[data-command='runmenu:run-all']").click()
        started = time.time()
        while time.time() - started < 20 and all(p in ("[ ]:", "") for p in _prompts(page)):
            time.sleep(0.5)
        if not all(p in ("[ ]:", "") for p in _prompts(page)):
            break
    deadline, idle_since = time.time() + timeout_s, None
    while time.time() < deadline:
        prompts = _prompts(page)
        busy = indicator.get_attribute("data-status") != "idle" or "[*]:" in prompts
        idle_since = None if busy else (idle_since or time.time())
        if idle_since and time.time() - idle_since > 4:
            return [i for i, p in enumerate(prompts) if not p.strip("[]: ").isdigit()]
        time.sleep(1.0)
    raise AssertionError(f"Run All did not finish within {timeout_s:.0f} s")


def check_video_with_sound(page) -> dict:
    """Play the first ``<video>`` unmuted for a moment; Chromium's decoded byte counts say whether a picture
    and a sound track were decoded."""
    return page.evaluate("""async () => {
        const v = document.querySelector('video');
        if (!v) return {found: false};
        v.scrollIntoView(); v.muted = false; v.currentTime = 0;
        try { await v.play(); } catch (e) { return {found: true, error: String(e)}; }
        await new Promise(r => setTimeout(r, 1500));
        v.pause();
        return {found: true, duration: v.duration, audio_bytes: v.webkitAudioDecodedByteCount,
                video_bytes: v.webkitVideoDecodedByteCount, error: v.error ? v.error.message : null};
    }""")


def check_notebook(browser, url: str, work: Path, name: str, out: Path, timeout_s: float) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url.format(name=name, stem=Path(name).stem))
    page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
    page.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for(timeout=60_000)  # the kernel is connected
    started = time.time()
    never_ran = run_all(page, timeout_s)
    seconds = time.time() - started
    page.keyboard.press("Control+s")
    time.sleep(2.0)
    stem = Path(name).stem
    page.screenshot(path=str(out / f"{stem}.png"))
    saved = json.loads((work / name).read_text())
    errors = [o for c in saved["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    sliders = page.locator(".jp-OutputArea .widget-slider").count()
    video = check_video_with_sound(page)
    if video.get("found"):
        page.locator("video").first.screenshot(path=str(out / f"{stem}-video.png"))
    redrew = None
    if sliders:
        page.locator(".jp-OutputArea .mmdiff-interact").first.screenshot(path=str(out / f"{stem}-widget.png"))
        redrew = check_redraw(page, timeout_s)
        page.locator(".jp-OutputArea .mmdiff-interact").first.screenshot(path=str(out / f"{stem}-widget-moved.png"))
    page.close()
    return {"notebook": name, "seconds": round(seconds, 1), "errors": [f"{e['ename']}: {e['evalue']}" for e in errors],
            "never_ran": never_ran, "sliders": sliders, "video": video, "redrew": redrew}


def check_redraw(page, timeout_s: float) -> bool:
    """Move the first slider of the first widget one step with the keyboard, as a student would, and wait for the
    output beside it to change (the live path's redraw, replaced in place)."""
    cell = page.locator(".jp-CodeCell", has=page.locator(".mmdiff-interact")).first
    outputs = cell.locator(".jp-OutputArea-output").filter(has_not=page.locator(".mmdiff-interact"))  # not the sliders' readouts
    before = outputs.all_inner_texts()
    handle = cell.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle").first
    handle.click()
    page.keyboard.press("ArrowRight")
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        now = outputs.all_inner_texts()
        if now != before and not any("working on the new values" in t for t in now):
            return True
        time.sleep(1.0)
    return False


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="+", help="notebooks of notebooks/ to run")
    p.add_argument("--out", default="build/browser", help="screenshots, logs and the report (default: build/browser)")
    p.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium", help="the browser to drive")
    p.add_argument("--timeout", type=float, default=300, help="seconds allowed for Run All per notebook")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out).resolve()
    shutil.rmtree(out, ignore_errors=True)
    work = out / "work"
    work.mkdir(parents=True)
    for name in args.notebooks:  # without their saved outputs, so that everything on the page is from this run
        nb = json.loads((ROOT / "notebooks" / name).read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
        (work / name).write_text(json.dumps(nb, indent=1))
    lab, url = start_lab(work, out)
    report = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_FLAGS)
            for name in args.notebooks:
                report.append(check_notebook(browser, url, work, name, out, args.timeout))
                print(json.dumps(report[-1]))
            browser.close()
    finally:
        lab.terminate()
        lab.wait(timeout=30)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    failures = [f"{r['notebook']}: error output {r['errors']}" for r in report if r["errors"]]
    failures += [f"{r['notebook']}: code cells {r['never_ran']} never ran" for r in report if r["never_ran"]]
    if not any(r["sliders"] > 0 for r in report):
        failures.append("no slider widget rendered in any notebook")
    if not any(r["redrew"] for r in report):
        failures.append("moving a slider redrew no widget's output")
    if not any(r["video"].get("audio_bytes", 0) > 0 and r["video"].get("video_bytes", 0) > 0 for r in report):
        failures.append(f"no <video> played with picture and sound: {[r['video'] for r in report]}")
    for f in failures:
        print(f"browser-test: FAILED {f}", file=sys.stderr)
    print(f"browser-test: {'failed' if failures else 'passed'}; screenshots in {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
