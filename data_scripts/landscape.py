"""Landscape (nature scenes with their sound): get it, check it, cut it into clips.

    python data_scripts/landscape.py --info
    python data_scripts/landscape.py --out data/landscape --archive ~/Downloads/landscape.zip [--sha256 HEX]
    python data_scripts/landscape.py --out data/landscape --url https://MIRROR/landscape.zip --sha256 HEX

The MM-Diffusion authors share their copy in a Google Drive / Baidu folder (see --info): download the
archive by hand (a Drive folder is not a plain URL) and pass it with --archive, or give a direct
--url of a mirror. Either way the archive is checked against --sha256 when you give one (else its
checksum is recorded on first use and checked on every later run), unpacked, and prepared into
<out>/clips_<preset>/ (read it with mmdiff_lite.ClipDataset). This machine cannot download it; the
tests run every step on archives they make.
"""
from __future__ import annotations

import sys
from pathlib import Path

from mmdiff_lite.data.sources import AUTHORS_SHARE, DatasetSource, dataset_arguments, run_script

SOURCE = DatasetSource(
    name="Landscape",
    paper='Lee et al., "Sound-Guided Semantic Video Generation", ECCV 2022 (arXiv 2204.09273)',
    homepage="https://kuai-lab.github.io/eccv2022sound/",
    facts=(
        ("high-resolution landscape videos with their audio, introduced by the paper above", True),
        AUTHORS_SHARE,
        ("MM-Diffusion trains and evaluates on the training split only", True),
        ("about 1,000 clips of nature scenes, 2.7 hours", False),
        ("licence: none stated on the pages we checked; treat it as research-only and check the "
         "project page before any other use", False),
    ),
)


def main(argv: list[str] | None = None) -> int:
    p = dataset_arguments(__doc__.splitlines()[0])
    p.add_argument("--url", help="a direct URL of the archive (a mirror); --sha256 checks it")
    args = p.parse_args(argv)
    if args.info:
        print(SOURCE.describe())
        return 0
    if not (args.archive or args.url) or not args.out:
        print(SOURCE.describe())
        print("landscape: error: pass --out DIR and --archive FILE (downloaded by hand) or --url URL", file=sys.stderr)
        return 2
    items = [(args.url, Path(args.url.split("?")[0]).name or "landscape.zip", args.sha256)] if args.url else []
    return run_script("landscape", args, items)


if __name__ == "__main__":
    raise SystemExit(main())
