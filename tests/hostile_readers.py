"""Readers that misbehave on purpose, for isolation tests: the worker imports them by name, like any family."""

from __future__ import annotations

import ctypes
import time

from seekwise.core.extract.base import Document, Family


def hang(data: bytes, name: str) -> Document:
    while True:  # a parser stuck in a loop
        pass


def crash(data: bytes, name: str) -> Document:
    ctypes.string_at(0)  # native code reading address 0: SIGSEGV
    raise AssertionError("unreachable")


def hog(data: bytes, name: str) -> Document:
    blocks = []
    while True:  # a parser allocating without end
        blocks.append(bytearray(64 << 20))


def slow(data: bytes, name: str) -> Document:
    time.sleep(0.3)
    return Document(data.decode(), "text", "slow/1")


HANG = Family("hang/1", hang, frozenset({".hang"}), isolated=True)
CRASH = Family("crash/1", crash, frozenset({".crash"}), isolated=True)
HOG = Family("hog/1", hog, frozenset({".hog"}), isolated=True)
SLOW = Family("slow/1", slow, frozenset({".slow"}), isolated=True)
