"""File bytes to text: one module per format family, chosen by a registry keyed on file names.

The registry (and with it every reader: e-mail alone costs ~40 ms to import) loads on first use of
one of its names, not when a module only needs `base`: a search from the command line never does."""

from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported, page_at

_FROM_REGISTRY = frozenset({"FAMILIES", "SUPPORTED_EXTENSIONS", "extract", "extractor_id", "family_for",
                            "is_supported", "size_limit"})

__all__ = ["Document", "ExtractionError", "FAMILIES", "Family", "SUPPORTED_EXTENSIONS", "Unsupported",
           "extract", "extractor_id", "family_for", "is_supported", "page_at", "size_limit"]


def __getattr__(name: str) -> object:
    if name in _FROM_REGISTRY:
        from seekwise.core.extract import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
