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
