"""The data set scripts, every step on files the tests make: download, checksums, resume, unpack, prepare."""
from __future__ import annotations

import importlib.util
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

import mmdiff_lite as mm
from mmdiff_lite.data.download import ChecksumError, download, extract, fetch, read_checksums, sha256_file
from test_data_helpers import make_video_folder, noise_clip, serve

SCRIPTS = Path(__file__).resolve().parents[1] / "data_scripts"


def script(name):
    spec = importlib.util.spec_from_file_location(f"data_script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    make_video_folder(root)
    return root


@pytest.fixture()
def blob(tmp_path):
    data = bytes(range(256)) * 4000  # ~1 MB
    path = tmp_path / "served" / "blob.bin"
    path.parent.mkdir()
    path.write_bytes(data)
    return path


def test_download_verifies_and_renames_atomically(blob, tmp_path):
    digest = sha256_file(blob)
    with serve(blob.parent) as url:
        out = download(url + "blob.bin", tmp_path / "dl" / "blob.bin", digest, progress=False)
    assert out.read_bytes() == blob.read_bytes()
    assert sorted(p.name for p in out.parent.iterdir()) == ["blob.bin"]  # no .part left


def test_wrong_checksum_is_rejected_and_nothing_is_kept(blob, tmp_path):
    with serve(blob.parent) as url, pytest.raises(ChecksumError, match="expected 0000"):
        download(url + "blob.bin", tmp_path / "dl" / "blob.bin", "0" * 64, progress=False)
    assert list((tmp_path / "dl").iterdir()) == []


def test_download_resumes_a_partial_file(blob, tmp_path):
    dest = tmp_path / "dl" / "blob.bin"
    dest.parent.mkdir()
    data = blob.read_bytes()
    (dest.parent / "blob.bin.part").write_bytes(data[:300_000])
    with serve(blob.parent, ranges=True) as url:
        download(url + "blob.bin", dest, sha256_file(blob), progress=False)
    assert dest.read_bytes() == data
    # a server that ignores ranges: the partial file is started over, the result is still right
    (dest.parent / "blob.bin.part").write_bytes(b"junk" * 100)
    dest.unlink()
    with serve(blob.parent, ranges=False) as url:
        download(url + "blob.bin", dest, sha256_file(blob), progress=False)
    assert dest.read_bytes() == data


def test_file_urls_and_kept_files(blob, tmp_path):
    dest = download(blob.as_uri(), tmp_path / "b.bin", sha256_file(blob), progress=False)
    assert dest.read_bytes() == blob.read_bytes()
    stamp = dest.stat().st_mtime_ns
    download("file:///nonexistent/never-read", dest, sha256_file(blob), progress=False)  # right file: no download
    assert dest.stat().st_mtime_ns == stamp


def test_fetch_records_unknown_checksums_then_verifies_them(blob, tmp_path):
    items = [(blob.as_uri(), "blob.bin", None)]
    files, failures = fetch(items, tmp_path / "dl", progress=False)
    assert not failures and read_checksums(tmp_path / "dl" / "checksums.sha256") == {"blob.bin": sha256_file(blob)}
    (tmp_path / "dl" / "blob.bin").unlink()
    blob.write_bytes(b"changed upstream")
    files, failures = fetch(items, tmp_path / "dl", progress=False)
    assert files == [] and "sha256" in failures[0][1]
    files, failures = fetch([(blob.as_uri(), "other.bin", None)], tmp_path / "dl", require_checksums=True, progress=False)
    assert files == [] and "require-checksums" in failures[0][1]


def test_extract_zip_and_tar_and_refuse_escapes(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as z:
        z.write(tmp_path / "a.txt", "d/a.txt")
    with tarfile.open(tmp_path / "x.tar.gz", "w:gz") as t:
        t.add(tmp_path / "a.txt", "e/a.txt")
    assert [p.read_text() for p in extract(tmp_path / "x.zip", tmp_path / "z")] == ["a"]
    assert [p.relative_to(tmp_path).as_posix() for p in extract(tmp_path / "x.tar.gz", tmp_path / "t")] == ["t/e/a.txt"]
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as z:
        z.writestr("../evil.txt", "x")
    with pytest.raises(ValueError, match="outside"):
        extract(tmp_path / "evil.zip", tmp_path / "z")
    assert not (tmp_path / "evil.txt").exists()
    with pytest.raises(ValueError, match="neither"):
        extract(tmp_path / "a.txt", tmp_path / "z")


def test_prepare_clips_cli(videos, tmp_path, capsys):
    cli = script("prepare_clips")
    assert cli.main(["--src", str(videos), "--out", str(tmp_path / "out"), "--preset", "paper"]) == 0
    out = capsys.readouterr().out
    assert "3 clips from 2 files" in out and "skipped corrupt.mp4" in out and "skipped no_sound.mp4" in out
    assert len(mm.ClipDataset(tmp_path / "out")) == 3
    assert cli.main(["--src", str(tmp_path / "missing"), "--out", str(tmp_path / "o2")]) == 2


def test_landscape_downloads_checks_unpacks_and_prepares(videos, tmp_path, capsys):
    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "landscape.zip", "w") as z:
        for p in sorted(videos.rglob("*.mp4")):
            z.write(p, f"landscape/{p.relative_to(videos).as_posix()}")
    digest = sha256_file(served / "landscape.zip")
    landscape = script("landscape")
    with serve(served) as url:
        code = landscape.main(["--out", str(tmp_path / "work"), "--url", url + "landscape.zip", "--sha256", digest])
        assert code == 0
        assert len(mm.ClipDataset(tmp_path / "work" / "clips_paper")) == 3
        bad = landscape.main(["--out", str(tmp_path / "w2"), "--url", url + "landscape.zip", "--sha256", "1" * 64])
    err = capsys.readouterr().err
    assert bad == 1 and "sha256" in err and not (tmp_path / "w2" / "downloads" / "landscape.zip").exists()
    # a hand-downloaded archive, checked against --sha256 before anything is unpacked
    assert landscape.main(["--out", str(tmp_path / "w3"), "--archive", str(served / "landscape.zip"), "--sha256", "2" * 64]) == 1
    assert not (tmp_path / "w3").exists()
    assert landscape.main(["--out", str(tmp_path / "w3"), "--archive", str(served / "landscape.zip"), "--preset", "tiny"]) == 0
    assert mm.ClipDataset(tmp_path / "w3" / "clips_tiny")[0]["video"].shape == (16, 3, 16, 16)


def test_landscape_info_names_the_terms(capsys):
    assert script("landscape").main(["--info"]) == 0
    text = capsys.readouterr().out
    assert "ECCV 2022" in text and "licence" in text and "(unverified)" in text
    assert script("landscape").main(["--out", "x"]) == 2  # nothing to get: says how


def test_aistpp_official_route_on_a_local_server(tmp_path, capsys):
    served = tmp_path / "served"
    (served / "video").mkdir(parents=True)
    names = ["gBR_sBM_c01_d04_mBR0_ch01", "gPO_sBM_c01_d10_mPO0_ch01", "gJB_sBM_c01_d07_mJB0_ch01"]
    for i, n in enumerate(names):
        v, a = noise_clip(1.7, 30, 36, 64, 48000, 2, seed=i)
        mm.write_mp4(served / "video" / f"{n}.mp4", v, a, 30, 48000)
    (served / "video_list.txt").write_text("\n".join(names) + "\n")
    aistpp = script("aistpp")
    with serve(served) as url:
        args = ["--out", str(tmp_path / "work"), "--official", "2", "--list-url", url + "video_list.txt",
                "--video-url", url + "video/"]
        assert aistpp.main(args) == 2  # terms not accepted yet
        assert aistpp.main(args + ["--accept-terms"]) == 0
        sums = read_checksums(tmp_path / "work" / "downloads" / "checksums.sha256")
        assert sorted(sums) == [f"{n}.mp4" for n in sorted(names[:2])]
        manifest = json.loads((tmp_path / "work" / "clips_paper" / "manifest.json").read_text())
        assert sorted(s["source"] for s in manifest["sources"]) == sorted(f"{n}.mp4" for n in names[:2])
        # the server's copy changes: the recorded checksum catches it
        (tmp_path / "work" / "downloads" / f"{names[0]}.mp4").unlink()
        (served / "video" / f"{names[0]}.mp4").write_bytes(b"tampered")
        assert aistpp.main(args + ["--accept-terms"]) == 1
    assert "sha256" in capsys.readouterr().err
    assert aistpp.main(["--info"]) == 0 and "CC BY 4.0" in capsys.readouterr().out
