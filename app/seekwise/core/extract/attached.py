"""An attachment's text, for indexing it with its message: bounded, and never an error for the message."""

from __future__ import annotations

import logging

from seekwise.core.extract.base import ExtractionError

log = logging.getLogger(__name__)

MAX_BYTES = 8 << 20          # one attachment
MAX_TOTAL_BYTES = 32 << 20   # all attachments read from one file
MAX_CHARS = 1 << 20          # text kept from one attachment
_MAIL = frozenset({"mail", "outlook", "mbox"})  # a message inside a message is listed, not opened


class Budget:
    """Reads attachments through the registry until the file's byte budget is spent."""

    def __init__(self) -> None:
        self.left = MAX_TOTAL_BYTES

    def __call__(self, name: str, data: bytes) -> str:
        from seekwise.core.extract import registry

        family = registry.family_for(name)
        if family is None or family.name in _MAIL or not data or len(data) > min(MAX_BYTES, self.left):
            return ""
        self.left -= len(data)
        try:
            text = registry.extract(name, data, family).text
        except ExtractionError as exc:  # Unsupported too: the attachment stays listed by name
            log.debug("attachment %s not read: %s", name, exc.reason)
            return ""
        return text[:MAX_CHARS].strip()
