"""Hand freed memory back to the system between the big steps of a run, so their peaks do not add up."""

from __future__ import annotations

import ctypes
import sys


def trim_heap() -> None:
    """Hand freed heap pages back to the system (glibc keeps them, in every thread's arena)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def _libc_malloc_trim():  # ctypes function or None
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):   # not glibc (musl has none)
        return None
    fn.argtypes, fn.restype = (ctypes.c_size_t,), ctypes.c_int
    return fn


_malloc_trim = _libc_malloc_trim()
