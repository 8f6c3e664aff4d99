"""A file's bytes for extraction: refused by size before anything is read, OS errors worded as reasons."""

from __future__ import annotations

import hashlib
import os
import stat
from typing import BinaryIO

from seekwise.core.extract.base import ExtractionError, Unsupported

DEFAULT_MAX_FILE_MB = 32   # the largest text file read unless the user says otherwise; richer formats scale it

_BLOCK = 1 << 20


def too_large(limit: int) -> Unsupported:
    return Unsupported(f"larger than the {limit >> 20} MB limit")


def os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "disappeared while being read"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot read: {exc.strerror or exc}"


def _open(path: str, limit: int) -> tuple[BinaryIO, int]:
    """(file, its size): opened without blocking (a FIFO swapped in since the scan must not hang us),
    a regular file only, no larger than `limit`."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ExtractionError("not a regular file")
        if st.st_size > limit:
            raise too_large(limit)
        return os.fdopen(fd, "rb"), st.st_size
    except BaseException:
        os.close(fd)
        raise


def read_file(path: str, limit: int) -> bytes:
    """All of a file up to `limit` bytes; Unsupported if larger (checked on the open file before reading,
    and again while reading, in case it grows), ExtractionError if it cannot be read."""
    try:
        fh, size = _open(path, limit)
        with fh:
            data = fh.read(size + 1)  # read(n) allocates n bytes up front: ask for what the file holds
            if len(data) > size:  # it grew since we looked: read on, up to the limit
                data += fh.read(limit + 1 - len(data))
    except OSError as exc:
        raise ExtractionError(os_reason(exc), retry=True) from exc
    if len(data) > limit:
        raise too_large(limit)
    return data


def hash_file(path: str, limit: int) -> tuple[str, int]:
    """(sha256, size) read in blocks, so a large file costs no memory; same errors as read_file."""
    digest = hashlib.sha256()
    size = 0
    try:
        fh, _ = _open(path, limit)
        with fh:
            while block := fh.read(_BLOCK):
                size += len(block)
                if size > limit:
                    raise too_large(limit)
                digest.update(block)
    except OSError as exc:
        raise ExtractionError(os_reason(exc), retry=True) from exc
    return digest.hexdigest(), size
