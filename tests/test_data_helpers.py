"""Shared helpers of the data tests (no tests here): media files with known content, a local server."""
from __future__ import annotations

import functools
import http.server
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import torch

from mmdiff_lite.data.io import write_mp4


def noise_clip(seconds: float, fps: float, h: int, w: int, rate: int, channels: int, seed: int = 0):
    """Random frames and sound of a given length, rates and sizes (video (F,3,H,W), audio (C,T))."""
    g = torch.Generator().manual_seed(seed)
    video = torch.rand(int(round(seconds * fps)), 3, h, w, generator=g) * 2 - 1
    audio = (torch.rand(channels, int(round(seconds * rate)), generator=g) * 2 - 1) * 0.5
    return video, audio


def make_video_folder(root: Path) -> dict[str, str]:
    """Write good and bad media files below ``root``; returns {name: what the file is}."""
    (root / "sub").mkdir(parents=True, exist_ok=True)
    v, a = noise_clip(3.4, 25, 48, 80, 44100, 2, seed=1)
    write_mp4(root / "wide_stereo.mp4", v, a, 25, 44100)  # 3.4 s: two paper clips
    v, a = noise_clip(2.0, 30, 30, 30, 22050, 1, seed=2)
    write_mp4(root / "sub" / "square.mp4", v, a, 30, 22050)  # 2 s: one paper clip
    v, _ = noise_clip(2.0, 20, 32, 32, 16000, 1, seed=3)
    write_mp4(root / "no_sound.mp4", v, None, 20, 16000)
    v, a = noise_clip(1.0, 10, 32, 32, 8000, 1, seed=4)
    write_mp4(root / "short.mp4", v, a, 10, 8000)
    v, _ = noise_clip(2.0, 20, 32, 32, 16000, 1, seed=5)
    write_mp4(root / "silent.mp4", v, torch.zeros(1, 32000), 20, 16000)
    (root / "corrupt.mp4").write_bytes(b"this is not a video " * 50)
    (root / "notes.txt").write_text("not a video, ignored")
    return {
        "wide_stereo.mp4": "ok", "sub/square.mp4": "ok", "no_sound.mp4": "no audio stream",
        "short.mp4": "too short", "silent.mp4": "silent audio", "corrupt.mp4": "cannot open",
    }


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """The standard static file server (it ignores Range requests), without request logs."""

    def log_message(self, *args):
        pass


class RangeHandler(QuietHandler):
    """A static file server that honours ``Range: bytes=N-`` (enough to test resumed downloads)."""

    def send_head(self):
        rng = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not rng or not path.is_file():
            return super().send_head()
        start = int(rng.split("=")[1].split("-")[0])
        size = path.stat().st_size
        if start >= size:
            self.send_error(416)
            return None
        f = open(path, "rb")
        f.seek(start)
        self.send_response(206)
        self.send_header("Content-Length", str(size - start))
        self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        return f


@contextmanager
def serve(directory: Path, ranges: bool = True):
    """Serve ``directory`` on localhost in a thread; yields the base URL (ending in /)."""
    handler = functools.partial(RangeHandler if ranges else QuietHandler, directory=os.fspath(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
