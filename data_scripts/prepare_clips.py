"""Cut any folder of videos into clips of a preset's shape, with a manifest.

    python data_scripts/prepare_clips.py --src VIDEOS --out CLIPS --preset paper

paper: 16 frames at 10 fps letterboxed to 64x64 and 1.6 s of mono 16 kHz sound per clip; tiny:
16 frames of 16x16 at 16 fps and 1 s at 4096 Hz. Files without sound, silent, corrupt or too short
are skipped and named with the reason; the run goes on. Run it again to resume. The logic lives in
mmdiff_lite.data.prepare (this is its command line); read the clips with mmdiff_lite.ClipDataset.
"""
from __future__ import annotations

import argparse
import sys

from mmdiff_lite.data.prepare import prepare_clips
from mmdiff_lite.data.presets import PRESETS
from mmdiff_lite.fields import at_least


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", required=True, help="folder of videos (searched recursively)")
    p.add_argument("--out", required=True, help="output folder (manifest.json + clips/)")
    p.add_argument("--preset", default="paper", choices=sorted(PRESETS))
    p.add_argument("--max-clips-per-file", type=at_least(1), default=None, help="cap the clips taken from one video (>= 1)")
    args = p.parse_args(argv)
    try:
        report = prepare_clips(args.src, args.out, args.preset, max_clips_per_file=args.max_clips_per_file)
    except (ValueError, OSError) as err:
        print(f"prepare_clips: error: {err}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
