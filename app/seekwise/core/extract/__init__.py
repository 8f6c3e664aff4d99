"""File bytes to text: one module per format family, chosen by a registry keyed on file names."""

from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported, page_at
from seekwise.core.extract.registry import (
    FAMILIES, SUPPORTED_EXTENSIONS, extract, extractor_id, family_for, is_supported, size_limit,
)

__all__ = ["Document", "ExtractionError", "FAMILIES", "Family", "SUPPORTED_EXTENSIONS", "Unsupported",
           "extract", "extractor_id", "family_for", "is_supported", "page_at", "size_limit"]
