"""Cheap looks at content, so a binary file with a text name is skipped and a script is seen as code."""

from __future__ import annotations

import os
import re

SNIFF_BYTES = 8192  # how much of the start of a file the binary tests look at

# Unambiguous signatures of binary formats (images, archives, office/PDF, executables, media, databases).
_MAGIC = (
    b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"PK\x03\x04", b"PK\x05\x06", b"%PDF-",
    b"\x7fELF", b"\x1f\x8b\x08", b"\xfd7zXZ\x00", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07",
    b"OggS\x00", b"fLaC", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"SQLite format 3\x00", b"wOFF", b"wOF2", b"\x00asm", b"II*\x00", b"MM\x00*",
)
# C0 controls that do not occur in text (tab, newlines, form feed and ESC of coloured logs do).
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 11, 12, 13, 27)) + b"\x7f"
_CONTROL_CHARS = {c: None for c in _CONTROL_BYTES}
_BZIP2 = re.compile(rb"BZh[1-9]1AY&SY")


def has_binary_magic(data: bytes) -> bool:
    """Starts with the signature of a known binary format."""
    if data.startswith(b"BZh"):
        return _BZIP2.match(data) is not None  # "BZh" alone could start a line of text
    return data.startswith(_MAGIC)


def too_many_controls(sample: bytes | str) -> bool:
    """More control characters than text ever has (a few stray ones are allowed)."""
    if isinstance(sample, bytes):
        controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    else:
        controls = len(sample) - len(sample.translate(_CONTROL_CHARS))
    return controls > len(sample) // 50 + 2


_INTERPRETERS = {
    "python": "python", "pypy": "python", "sh": "shell", "bash": "shell", "zsh": "shell", "dash": "shell",
    "ksh": "shell", "fish": "shell", "node": "javascript", "deno": "typescript", "bun": "javascript",
    "ruby": "ruby", "perl": "perl", "php": "php", "lua": "lua", "rscript": "r", "tclsh": "tcl",
    "awk": "awk", "gawk": "awk", "osascript": "applescript", "pwsh": "powershell", "julia": "julia",
}


def shebang(text: str) -> tuple[bool, str | None]:
    """(is a script, its language) from a first line like '#!/usr/bin/env python3 -u'."""
    if not text.startswith("#!"):
        return False, None
    words = text[2:256].split("\n", 1)[0].split()
    if words and os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
    if not words:
        return True, None
    program = os.path.basename(words[0]).lower().rstrip("0123456789.")
    return True, _INTERPRETERS.get(program)
