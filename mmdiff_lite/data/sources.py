"""Real data sets of the paper: where they come from, their terms, and one flow to get and prepare them.

The scripts ``data_scripts/landscape.py`` and ``data_scripts/aistpp.py`` describe each data set with a
:class:`DatasetSource` and hand their downloads to :func:`download_and_prepare`: fetch (checksums
verified or recorded), unpack archives, then :func:`mmdiff_lite.data.prepare.prepare_clips`.
Nothing here runs at import time and nothing is downloaded unless a script is run.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import argparse
import os
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..fields import at_least
from .download import extract, fetch, sha256_file
from .prepare import PrepareReport, prepare_clips
from .presets import PRESETS

__all__ = ["AUTHORS_SHARE", "DatasetSource", "download_and_prepare", "dataset_arguments", "run_script"]


#: Where MM-Diffusion's authors share the copies they trained on (Landscape, AIST++_crop); checked in
#: their README. A Drive folder is not a plain URL: download by hand and pass the archive.
AUTHORS_SHARE = (
    "MM-Diffusion's README shares the copies its authors used (Landscape, AIST++_crop) in a Google Drive "
    "folder https://drive.google.com/drive/folders/14A1zaQI5EfShlv3QirgCGeNFzZBzQ3lq and on Baidu cloud",
    True,
)


@dataclass(frozen=True)
class DatasetSource:
    """A data set's provenance: paper, homepage, licence and how to obtain it.

    ``facts`` pairs each statement with whether it was checked against a primary source
    (``False`` statements are printed with "(unverified)").
    """

    name: str
    paper: str
    homepage: str
    facts: tuple[tuple[str, bool], ...] = field(default_factory=tuple)

    def describe(self) -> str:
        lines = [f"{self.name}", f"  paper: {self.paper}", f"  homepage: {self.homepage}"]
        lines += [f"  - {text}{'' if ok else ' (unverified)'}" for text, ok in self.facts]
        return "\n".join(lines)


def dataset_arguments(description: str) -> argparse.ArgumentParser:
    """The options every data set script shares (its own are added by the script)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--out", help="working folder: downloads/, raw/ and clips_<preset>/ go here (required)")
    p.add_argument("--preset", default="paper", choices=sorted(PRESETS), help="clip shape to prepare (default: paper)")
    p.add_argument("--max-clips-per-file", type=at_least(1), default=None, help="cap the clips taken from one video (>= 1)")
    p.add_argument("--require-checksums", action="store_true", help="refuse files without a known sha256")
    p.add_argument("--no-prepare", action="store_true", help="only download and unpack")
    p.add_argument("--info", action="store_true", help="print where the data comes from and its terms, then stop")
    p.add_argument("--archive", type=Path, help="an archive (zip/tar) downloaded by hand")
    p.add_argument("--sha256", help="expected sha256 of the archive")
    return p


def run_script(prog: str, args: argparse.Namespace, items: list[tuple[str, str, str | None]]) -> int:
    """The common end of a data set script: check ``--archive`` against ``--sha256``, fetch ``items``,
    unpack, prepare, and report. Returns the exit code (0 fine, 1 a file failed, 2 bad arguments)."""
    local = []
    if args.archive:
        if not args.archive.is_file():
            print(f"{prog}: error: no archive at {args.archive}", file=sys.stderr)
            return 2
        if args.sha256 and sha256_file(args.archive) != args.sha256.lower():
            print(f"{prog}: error: {args.archive.name}: sha256 does not match --sha256; nothing was unpacked", file=sys.stderr)
            return 1
        local.append(args.archive)
    try:
        report, failures = download_and_prepare(
            items, args.out, args.preset, local_files=local, max_clips_per_file=args.max_clips_per_file,
            require_checksums=args.require_checksums, prepare=not args.no_prepare,
        )
    except (ValueError, OSError) as err:  # a refused archive, no clips, a folder we cannot write: one line
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    for name, reason in failures:
        print(f"{prog}: failed {name}: {reason}", file=sys.stderr)
    if report is not None:
        print(report.summary())
    return 1 if failures else 0


def _is_archive(path: Path) -> bool:
    return path.is_file() and (zipfile.is_zipfile(path) or tarfile.is_tarfile(path))


def download_and_prepare(
    items: list[tuple[str, str, str | None]], out: str | os.PathLike, preset: str = "paper",
    local_files: list[Path] | None = None, max_clips_per_file: int | None = None,
    require_checksums: bool = False, prepare: bool = True, progress: bool = True,
) -> tuple[PrepareReport | None, list[tuple[str, str]]]:
    """Fetch ``(url, name, sha256)`` items into ``out/downloads``, unpack archives (and any
    ``local_files``) into ``out/raw``, and prepare ``out/raw`` into ``out/clips_<preset>``.

    Returns the prepare report (``None`` with ``prepare=False``) and the download failures. Plain
    video files are linked (or copied) into ``out/raw`` instead of being unpacked.
    """
    out = Path(out)
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    files, failures = fetch(items, out / "downloads", require_checksums=require_checksums, progress=progress)
    for path in [*files, *(local_files or [])]:
        path = Path(path)
        if _is_archive(path):
            extract(path, raw / path.name.split(".")[0])
        elif path.is_file():
            target = raw / path.name
            if not target.exists():
                try:
                    os.link(path, target)
                except OSError:  # another file system: copy
                    target.write_bytes(path.read_bytes())
        else:
            failures.append((str(path), "no such file"))
    if not prepare or (failures and not any(p.is_file() for p in raw.rglob("*"))):
        return None, failures  # nothing arrived to prepare: the failures say why
    report = prepare_clips(raw, out / f"clips_{preset}", preset, max_clips_per_file=max_clips_per_file, progress=progress)
    return report, failures
