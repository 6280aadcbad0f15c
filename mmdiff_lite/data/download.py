"""Fetching data sets honestly: checksums verified, partial files resumed, archives unpacked safely.

``download`` streams a URL (http(s) or file://) into ``<name>.part``, resumes a partial file when the
server honours byte ranges (else starts over), checks the sha256 and only then renames the file
into place (atomic). When no checksum is known yet, :func:`fetch` records the one it computed in a
``checksums.sha256`` file (sha256sum format) so that every later download is verified against it
(trust on first use, said out loud); ``require_checksums=True`` refuses instead.

Taught in: notebooks/03_audio_video_data.ipynb
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tarfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from ..utils import sha256_file, tqdm

__all__ = ["ChecksumError", "download", "extract", "fetch", "read_checksums", "write_checksums", "sha256_file"]


class ChecksumError(ValueError):
    """A downloaded file whose sha256 is not the one expected."""


def download(url: str, dest: str | os.PathLike, sha256: str | None = None, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` (verified against ``sha256`` when given); returns ``dest``.

    An existing ``dest`` with the right checksum is kept (no download). A ``dest.part`` left by an
    interrupted run is resumed with an HTTP Range request when the server supports it. On a checksum
    mismatch the partial file is deleted and :class:`ChecksumError` says both digests.
    """

    dest = Path(dest)
    if dest.is_file() and (sha256 is None or sha256_file(dest) == sha256.lower()):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as err:
        if err.code != 416 or not have:  # 416: range past the end, i.e. the .part is already complete
            raise
        response = None
    resumed = response is None or getattr(response, "status", 200) == 206
    h = hashlib.sha256()
    if resumed and have:
        with open(part, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
    else:
        have = 0
    if response is not None:
        total = response.headers.get("Content-Length")
        total = int(total) + have if total else None
        with response, open(part, "ab" if have else "wb") as f, tqdm(
            total=total, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=not progress
        ) as bar:
            while block := response.read(1 << 20):
                f.write(block)
                h.update(block)
                bar.update(len(block))
    got = h.hexdigest()
    if sha256 is not None and got != sha256.lower():
        part.unlink(missing_ok=True)
        raise ChecksumError(f"{dest.name}: sha256 {got} but expected {sha256.lower()}; the file was deleted, download it again")
    os.replace(part, dest)
    return dest


def _safe_name(name: str) -> PurePosixPath:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts:
        raise ValueError(f"archive member {name!r} points outside the target folder (a zip-slip archive): refused, "
                         "and nothing of the archive was extracted; get the archive from a trusted source")
    return p


def extract(archive: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """Unpack a zip or tar(.gz/.bz2/.xz) into ``dest``; returns the files. An archive with a member that would
    land outside ``dest`` is refused whole (nothing of it is written); files already there with the same
    content (sha256, not size: a re-downloaded archive may change a file but not its size) are not rewritten."""
    archive, dest = Path(archive), Path(dest)
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            members = [(m.filename, m.file_size, functools.partial(z.open, m)) for m in z.infolist() if not m.is_dir()]
            return _unpack(members, dest)
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as t:
            members = [(m.name, m.size, functools.partial(t.extractfile, m)) for m in t.getmembers() if m.isfile()]
            return _unpack(members, dest)
    raise ValueError(f"{archive.name} is neither a zip nor a tar archive")


def _member_sha256(opener) -> str:
    h = hashlib.sha256()
    with opener() as src:
        while block := src.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _unpack(members, dest: Path) -> list[Path]:
    """Write ``(name, size, open)`` members below ``dest`` (all names checked before any is written; each
    file written atomically)."""
    from ..utils import atomic_path

    targets = [dest / _safe_name(name) for name, _, _ in members]
    for target, (_, size, opener) in zip(targets, members):
        if target.is_file() and target.stat().st_size == size and sha256_file(target) == _member_sha256(opener):
            continue
        with opener() as src, atomic_path(target) as tmp, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return targets


def read_checksums(path: str | os.PathLike) -> dict[str, str]:
    """``{file name: sha256}`` from a sha256sum-style file (missing file: empty)."""
    path = Path(path)
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            out[name.lstrip("*").strip()] = digest.lower()
    return out


def write_checksums(path: str | os.PathLike, checksums: dict[str, str]) -> None:
    """Write ``{name: sha256}`` in sha256sum format (so ``sha256sum -c`` can check it too)."""
    from ..utils import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text("".join(f"{d}  {n}\n" for n, d in sorted(checksums.items())))


def fetch(
    items: list[tuple[str, str, str | None]], into: str | os.PathLike, require_checksums: bool = False,
    progress: bool = True,
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Download ``(url, file name, sha256 or None)`` items into ``into``; returns (files, failures).

    Known checksums come from the item or from ``into/checksums.sha256``; unknown ones are recorded
    there on first download (or refused with ``require_checksums``). A failed item (network, checksum)
    is reported in ``failures`` as ``(name, reason)`` and the others go on.
    """
    into = Path(into)
    into.mkdir(parents=True, exist_ok=True)
    sums_path = into / "checksums.sha256"
    sums = read_checksums(sums_path)
    files, failures = [], []
    for url, name, digest in items:
        digest = digest or sums.get(name)
        if digest is None and require_checksums:
            failures.append((name, "no known sha256 and --require-checksums was given"))
            continue
        try:
            path = download(url, into / name, digest, progress=progress)
        except (OSError, ValueError) as err:  # urllib errors are OSErrors; ChecksumError is a ValueError
            failures.append((name, str(err)))
            continue
        if digest is None:
            sums[name] = sha256_file(path)
            write_checksums(sums_path, sums)
            print(f"note: {name} had no published sha256; recorded {sums[name][:16]}... for later runs")
        files.append(path)
    return files, failures
