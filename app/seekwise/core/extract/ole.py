"""OLE compound files (Word 97-2003, Outlook .msg, .xls): the signature, and opening one with olefile
so that whatever a damaged container raises becomes the caller's reason."""

from __future__ import annotations

import io
import struct

from seekwise.core.extract.base import ExtractionError

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLEFILE_ERRORS = (OSError, ValueError, struct.error, IndexError, KeyError, TypeError, OverflowError)


def open_ole(data: bytes, damaged: str):  # noqa: ANN201 - olefile.OleFileIO, imported here, not at load
    """The compound file in `data`, or ExtractionError(damaged) if olefile cannot read its directory."""
    import olefile

    try:
        return olefile.OleFileIO(io.BytesIO(data))
    except _OLEFILE_ERRORS as exc:
        raise ExtractionError(damaged) from exc
