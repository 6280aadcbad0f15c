"""Fixtures shared by several test files."""
import socket

import pytest


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test (the kit never downloads anything)."""
    def refuse(*args, **kwargs):
        raise AssertionError("a code path tried to reach the network")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def relative_gap():
    """``gap(a, b, start)``: the distance between two weight dicts ``a`` and ``b`` divided by how far ``a`` moved from
    ``start``, as L2 norms over every tensor together. Two runs that should agree up to the order of float sums
    give a tiny ratio; one element may still round unluckily (Adam turns a near-zero gradient's rounding into a
    whole step), which is why no single element's difference is compared."""
    def norm(x: dict, y: dict) -> float:
        return sum(((x[k] - y[k]).double() ** 2).sum() for k in x).sqrt().item()

    def gap(a: dict, b: dict, start: dict) -> float:
        return norm(a, b) / norm(a, start)

    return gap
