"""Build an expensive thing (the model, the ANN index) on first use, once, from any thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value

    def peek(self) -> T | None:
        return self._value

    def discard(self) -> None:
        """Let go of the built thing (the next get builds it again); a caller still using it keeps it."""
        with self._lock:
            self._value = None
