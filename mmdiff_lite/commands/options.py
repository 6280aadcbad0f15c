"""Argument helpers shared by the sub-commands."""
from __future__ import annotations

import json


def parse_overrides(items: list[str], flag: str = "--model") -> dict:
    """``["channels=32", "windows=[null,1,4]", "shift=none"]`` -> a dict of model options.

    Values are JSON where they parse (lists become tuples), plain strings otherwise.
    """
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag} takes KEY=VALUE, got {item!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
        if isinstance(out[key], list):
            out[key] = tuple(out[key])
    return out


def parse_shift(text: str, flag: str = "--shift") -> str | int:
    """An RS-MMA shift mode at sampling time: ``trained`` (the model's own), ``random``, ``none`` or a
    non-negative integer."""
    if text in ("trained", "random", "none"):
        return text
    if text.isdigit():
        return int(text)
    raise ValueError(f"{flag} takes trained, random, none or an integer, got {text!r}")
