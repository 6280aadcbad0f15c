"""AIST++ (street dance to music): get it, check it, cut it into clips.

    python data_scripts/aistpp.py --info
    python data_scripts/aistpp.py --out data/aistpp --archive ~/Downloads/AIST++_crop.zip [--sha256 HEX]
    python data_scripts/aistpp.py --out data/aistpp --official 50 --accept-terms

Two routes. (1) The cropped clips MM-Diffusion trains on (AIST++_crop), shared by its authors in a
Google Drive / Baidu folder (see --info): download by hand, pass --archive. (2) The official videos
from the AIST Dance Video Database, listed by the AIST++ video list: --official N fetches the first N
(only after you accept the database's terms: --accept-terms). No checksums are published for them,
so each file's sha256 is recorded on first download and verified on every later run. Then the
videos are prepared into <out>/clips_<preset>/ (read it with mmdiff_lite.ClipDataset). This machine
cannot download them; the tests run every step on a local server they start.
"""
from __future__ import annotations

import argparse
import sys
import urllib.request

from mmdiff_lite.data.sources import AUTHORS_SHARE, DatasetSource, dataset_arguments, run_script
from mmdiff_lite.fields import at_least

VIDEO_LIST_URL = "https://storage.googleapis.com/aist_plusplus_public/20121228/video_list.txt"
VIDEO_BASE_URL = "https://aistdancedb.ongaaccel.jp/v1.0.0/video/10M/"

SOURCE = DatasetSource(
    name="AIST++",
    paper='Li et al., "AI Choreographer: Music Conditioned 3D Dance Generation with AIST++", ICCV 2021',
    homepage="https://google.github.io/aistplusplus_dataset/",
    facts=(
        ("1,408 dance sequences in 10 genres, with music", True),
        (f"videos come from the AIST Dance Video Database (https://aistdancedb.ongaaccel.jp/); the AIST++ "
         f"downloader lists them at {VIDEO_LIST_URL} and fetches {VIDEO_BASE_URL}<name>.mp4", True),
        AUTHORS_SHARE,
        ("AIST++ annotations: CC BY 4.0; the videos: the AIST Dance Video Database terms of use "
         "(accept them on its site before downloading)", False),
        ("AIST++_crop: about 1,020 clips, 5.2 hours", False),
    ),
)


def official_items(list_url: str, base_url: str, count: int) -> list[tuple[str, str, None]]:
    """The first ``count`` videos of the official list as (url, file name, no checksum) items."""
    with urllib.request.urlopen(list_url, timeout=60) as r:
        names = [line.strip() for line in r.read().decode().splitlines() if line.strip()]
    return [(f"{base_url}{n}.mp4", f"{n}.mp4", None) for n in names[:count]]


def main(argv: list[str] | None = None) -> int:
    p = dataset_arguments(__doc__.splitlines()[0])
    p.add_argument("--official", type=at_least(1), metavar="N", help="download the first N official videos (N >= 1)")
    p.add_argument("--accept-terms", action="store_true", help="you accept the AIST Dance Video Database terms")
    p.add_argument("--list-url", default=VIDEO_LIST_URL, help=argparse.SUPPRESS)  # mirrors and tests
    p.add_argument("--video-url", default=VIDEO_BASE_URL, help=argparse.SUPPRESS)  # mirrors and tests
    args = p.parse_args(argv)
    if args.info or not (args.archive or args.official) or not args.out:
        print(SOURCE.describe())
        if not args.info:
            print("aistpp: error: pass --out DIR and --archive FILE or --official N --accept-terms", file=sys.stderr)
        return 0 if args.info else 2
    if args.official and not args.accept_terms:
        print("aistpp: error: read the AIST Dance Video Database terms, then add --accept-terms", file=sys.stderr)
        return 2
    try:
        items = official_items(args.list_url, args.video_url, args.official) if args.official else []
    except OSError as err:
        print(f"aistpp: error: cannot read the video list {args.list_url}: {err}", file=sys.stderr)
        return 1
    return run_script("aistpp", args, items)


if __name__ == "__main__":
    raise SystemExit(main())
