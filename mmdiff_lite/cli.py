"""The ``mmdiff-lite`` command: one sub-command per module in ``mmdiff_lite/commands/``.

Each command module defines ``register(subparsers)``, which adds its parser and sets ``func``
(called with the parsed arguments, returning an exit code).  Bad arguments end in a one-line
error that says what to do.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["demo", "train", "sample", "condition", "bench"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmdiff-lite",
        description="MM-Diffusion, small enough to read: joint audio-video diffusion on a laptop.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"mmdiff_lite.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as err:  # user-facing errors: one line, no traceback
        print(f"mmdiff-lite {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
