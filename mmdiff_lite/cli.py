"""The ``mmdiff-lite`` command: one sub-command per module in ``mmdiff_lite/commands/``.

Each command module defines ``register(subparsers)``, which adds its parser and sets ``func``
(called with the parsed arguments, returning an exit code).  Bad arguments end in a one-line
error that says what to do.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["demo", "train", "sample", "condition", "upscale", "evaluate", "ablate", "bench", "train_features", "study"]


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (the sub-command parsers are of this class too)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mmdiff-lite",
        description="MM-Diffusion, small enough to read: joint audio-video diffusion on a laptop.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"mmdiff_lite.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help (0) or a usage error (2, already printed on one line)
        return int(stop.code or 0)
    try:
        return int(args.func(args) or 0)
    except (ValueError, OSError) as err:  # user-facing errors (and files we cannot read or write): one line
        text = str(err) if not isinstance(err, OSError) or not err.filename else f"{err.strerror}: {err.filename}"
        print(f"mmdiff-lite {args.command}: error: {text}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"mmdiff-lite {args.command}: interrupted; files already written are complete (each is written "
              "atomically), and a training run resumes with --resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
