"""enum.StrEnum for Python 3.10, which the project still supports (the standard one needs 3.11)."""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """Members are their words: equal to them, hashed like them, printed and formatted as them, so a
    member can stand wherever the word stood (a dict key, an f-string, JSON)."""

    __str__ = str.__str__
    __format__ = str.__format__
