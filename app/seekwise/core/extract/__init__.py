"""File bytes to text: one module per family, chosen by a registry."""

from seekwise.core.extract.base import Document, ExtractionError, Unsupported
from seekwise.core.extract.registry import SUPPORTED_EXTENSIONS, extract, extractor_id, is_supported

__all__ = ["Document", "ExtractionError", "SUPPORTED_EXTENSIONS", "Unsupported", "extract", "extractor_id",
           "is_supported"]
