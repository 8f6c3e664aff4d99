"""Zip containers (DOCX, ODT, EPUB) read within bounds, so a zip bomb or a broken archive costs little.

Sizes in the archive's headers are never trusted: members are decompressed as a stream and counted
as they come out, and reading stops at the first bound crossed. The bounds are absolute output sizes,
not a ratio: a real table of short repeated cells legitimately compresses 200-fold or more, while a
bomb is stopped by the byte budget whatever its ratio, and by the isolation worker's time limit.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator

from seekwise.core.extract.base import ExtractionError

MAX_MEMBERS = 20_000            # EPUBs hold a few hundred files, office files a few dozen
# The caps match the file-size limits at their default (32 MB for text): no member may expand past
# the largest office file we accept (4x), nor one archive past the largest e-book (8x). At ~250 MB/s
# of inflating and parsing, the worst case costs about a second and stays far under the worker's
# memory cap; a 100 KB DOCX holding 16 MB of table XML (ratio 200+) reads as it should.
MAX_MEMBER_BYTES = 128 << 20    # one member, decompressed
MAX_TOTAL_BYTES = 256 << 20     # all members read from one archive, decompressed
_BLOCK = 1 << 16
_EOCD = b"PK\x05\x06"
_EOCD_SPAN = 22 + 0xFFFF        # the end record plus the longest archive comment

DAMAGED = "damaged or truncated archive"
ENCRYPTED = "password-protected archive"
_EXPANDS = "compressed archive expands beyond {} MB (a zip bomb?)"


class SafeZip:
    """An archive in memory; members come out as bounded streams of decompressed bytes."""

    def __init__(self, data: bytes) -> None:
        self._check_directory(data)
        self._file = io.BytesIO(data)
        try:
            self._zip = zipfile.ZipFile(self._file)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, struct.error, UnicodeDecodeError,
                NotImplementedError) as exc:  # NotImplementedError: split archives, "zip file version 8.6"
            raise ExtractionError(DAMAGED) from exc
        if len(infos) > MAX_MEMBERS:
            raise ExtractionError(f"archive holds too many files (over {MAX_MEMBERS})")
        self._infos = {info.filename: info for info in reversed(infos)}  # the first of duplicates wins
        self._folded = {name.lower(): name for name in reversed(list(self._infos))}
        self.expanded = 0  # bytes decompressed so far, across members

    @staticmethod
    def _check_directory(data: bytes) -> None:
        """Count the members from the end record before zipfile builds an object for each."""
        at = data.rfind(_EOCD, max(0, len(data) - _EOCD_SPAN))
        if at < 0 or at + 22 > len(data):
            raise ExtractionError(DAMAGED)
        (entries,) = struct.unpack_from("<H", data, at + 10)
        if entries != 0xFFFF and entries > MAX_MEMBERS:  # 0xFFFF: a zip64 count, checked after opening
            raise ExtractionError(f"archive holds too many files (over {MAX_MEMBERS})")

    def names(self) -> list[str]:
        return list(self._infos)

    def find(self, name: str) -> str | None:
        """The member's stored name: exact, else ignoring case (books often disagree with themselves)."""
        name = name.lstrip("/")
        if name in self._infos:
            return name
        return self._folded.get(name.lower())

    def stream(self, name: str) -> Iterator[bytes]:
        """The member's bytes in blocks; ExtractionError past a bound or on damage."""
        info = self._infos[name]
        if info.flag_bits & 0x1:
            raise ExtractionError(ENCRYPTED)
        out = 0
        try:
            with self._zip.open(info) as member:
                while True:
                    block = member.read(_BLOCK)
                    if not block:
                        return
                    out += len(block)
                    self.expanded += len(block)
                    if out > MAX_MEMBER_BYTES:
                        raise ExtractionError(_EXPANDS.format(MAX_MEMBER_BYTES >> 20))
                    if self.expanded > MAX_TOTAL_BYTES:
                        raise ExtractionError(_EXPANDS.format(MAX_TOTAL_BYTES >> 20))
                    yield block
        except NotImplementedError as exc:
            raise ExtractionError("archive uses a compression method Seekwise cannot read") from exc
        except RuntimeError as exc:  # zipfile's "File ... is encrypted, password required"
            raise ExtractionError(ENCRYPTED if "encrypt" in str(exc) else DAMAGED) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, struct.error) as exc:
            raise ExtractionError(DAMAGED) from exc

    def read(self, name: str) -> bytes:
        return b"".join(self.stream(name))
