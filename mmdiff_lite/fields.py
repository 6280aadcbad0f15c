"""Typed fields for the kit's config dataclasses: one validation layer for the API and the CLI alike.

A config's ``__post_init__`` calls :func:`check_fields`, which checks every field against its annotation and
turns the strings a command line gives into the annotated type where that is unambiguous:

* ``bool``: ``True``/``False``, or the strings true/false/yes/no/on/off/1/0 in any case (``"False"`` is false);
* ``int``: an int (not a bool), an integral float, or a string of one (``3.5`` and ``"abc"`` are refused);
* ``float``: a finite number or a string of one (``inf`` and ``nan`` are refused);
* ``str``: a string; ``X | None``: ``None`` or an ``X``; ``tuple[X, ...]`` / ``tuple[X, Y]``: a list or tuple of them.

Anything else raises one ``ValueError`` that names the field, what it takes and what it got.  Nothing here
knows about diffusion, models or data.
"""
from __future__ import annotations

import dataclasses
import math
import types
import typing

__all__ = ["check_fields", "coerce", "at_least"]

_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


class _Refused(Exception):
    pass


def _describe(tp) -> str:
    if tp is type(None):
        return "null"
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0])}"
        return f"a list of {len(args)} ({', '.join(_describe(a) for a in args)})"
    return {bool: "true or false", int: "an integer", float: "a finite number", str: "a string",
            dict: "a mapping"}.get(tp, getattr(tp, "__name__", str(tp)))


def _coerce(value, tp):
    if tp is typing.Any:
        return value
    if tp is type(None):
        if value is None:
            return None
        raise _Refused
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        members = typing.get_args(tp)
        exact = [m for m in members if m is not type(None) and typing.get_origin(m) is None and type(value) is m]
        for m in exact + [m for m in members if m not in exact]:
            try:
                return _coerce(value, m)
            except _Refused:
                continue
        raise _Refused
    if origin is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise _Refused
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in value)
        if len(value) != len(args):
            raise _Refused
        return tuple(_coerce(v, a) for v, a in zip(value, args))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Refused
    if tp is int:
        if isinstance(value, bool):
            raise _Refused
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise _Refused from None
        raise _Refused
    if tp is float:
        if isinstance(value, bool):
            raise _Refused
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise _Refused from None
        if isinstance(value, (int, float)) and math.isfinite(value):
            return float(value)
        raise _Refused
    if tp is str:
        if isinstance(value, str):
            return value
        raise _Refused
    if tp is dict or origin is dict:
        if isinstance(value, dict):
            return value
        raise _Refused
    return value  # types this layer does not know are left to the config's own checks


def coerce(value, tp, name: str = "value"):
    """``value`` as type ``tp`` (see the module docstring), or a ``ValueError`` naming ``name``."""
    try:
        return _coerce(value, tp)
    except _Refused:
        raise ValueError(f"{name} takes {_describe(tp)}, got {value!r}") from None


def check_fields(obj) -> None:
    """Check and coerce every field of the dataclass instance ``obj`` in place (frozen ones too)."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        new = coerce(value, hints[f.name], f.name)
        if new is not value:
            object.__setattr__(obj, f.name, new)


def at_least(minimum: int):
    """An ``argparse`` type: an integer >= ``minimum`` (``--n 0``, ``--official -5`` and ``--steps 2.5`` are refused
    with a one-line usage error, the same rule the config dataclasses apply)."""
    import argparse

    def parse(text: str) -> int:
        try:
            value = coerce(text, int, "value")
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse
