"""Typed errors a user can meet; the CLI and GUI map them to their own wording."""

from __future__ import annotations


class SeekwiseError(Exception):
    """Base of every error the engine raises on purpose (never a bug)."""


class Interrupted(SeekwiseError):
    """The user cancelled; callers stay silent about it."""


class Preempted(Interrupted):
    """A run stops for more urgent work (or a pause); what it did is committed first."""


class ModelError(SeekwiseError):
    """The embedding model cannot be used: missing, corrupt or malformed."""


class StoreError(SeekwiseError):
    """The library's store cannot be opened or written."""


class LibraryLocked(SeekwiseError):
    """Another process is already writing to this library."""


class DiskFull(StoreError):
    """The disk holding the library has no room left; nothing committed is lost."""


REPAIR_ADVICE = "Run `seekwise repair` to set it aside and rebuild the library from your folders."


class LibraryDamaged(StoreError):
    """A file of the library is damaged: `path` names it, `advice` is the way forward (usually a repair)."""

    def __init__(self, path: object, what: str, advice: str = REPAIR_ADVICE, kind: str = "store") -> None:
        self.path = path
        self.what = what
        self.advice = advice
        super().__init__(f"the library's {kind} {path} is damaged ({what}). {advice}")


class NoLibrary(StoreError):
    """A read-only command was pointed at a folder that holds no library yet: nothing is created."""
