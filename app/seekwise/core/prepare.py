"""The extraction pool's job for the indexer: one file read, hashed, extracted and chunked in a worker.

What comes back is the Document (its text once) and each chunk as a span of it with its digest, so the
indexer, the single writer, only slices the text and commits; the chunk texts never cross the pipe.
"""

from __future__ import annotations

import copy
import hashlib

from seekwise.core.chunking import Chunker
from seekwise.core.extract import (
    ExtractionError,
    Family,
    Unsupported,
    reading,
    registry,
)
from seekwise.core.extract.isolate import Reply
from seekwise.core.store import text_digest

DIGEST_BYTES = 32


def portable(chunker: Chunker) -> Chunker:
    """The chunker as a worker gets it: without the token offsets of the last text it chunked here."""
    clone = copy.copy(chunker)
    clone._starts = None
    return clone


def prepare_file(shared: tuple[Chunker, str], path: str, family: Family, limit: int,
                 expect: str | None) -> Reply:
    """("touched", sha256, size) if the bytes hash to `expect` (the held version's: not parsed again);
    else ("ok", document, sha256, size, spans, digests) with a (start, end, line, page) span per chunk
    and their digests end to end; or ("unsupported", reason) / ("error", reason, retry)."""
    return _prepared(shared, path, family, limit, expect, with_ocr=False)


def ocr_file(shared: tuple[Chunker, str], path: str, family: Family, limit: int, expect: str) -> Reply:
    """The OCR pass's job: the file read again with the text of its pictures, as prepare_file answers;
    ("changed",) when its bytes are no longer those the keyword phase read (the next run reads them)."""
    return _prepared(shared, path, family, limit, expect, with_ocr=True)


def _prepared(shared: tuple[Chunker, str], path: str, family: Family, limit: int, expect: str | None,
              with_ocr: bool) -> Reply:
    chunker, chunking_version = shared
    try:
        if expect is not None and not with_ocr:  # perhaps only touched: hash it in blocks before reading it whole
            digest, size = reading.hash_file(path, limit)
            if digest == expect:
                return "touched", digest, size
        data = reading.read_file(path, limit)
        digest, size = hashlib.sha256(data).hexdigest(), len(data)
        if with_ocr and digest != expect:
            return ("changed",)
        if digest == expect and not with_ocr:
            return "touched", digest, size
        doc = registry.extract(path, data, family, with_ocr=with_ocr)
    except Unsupported as exc:
        return "unsupported", exc.reason
    except ExtractionError as exc:
        return "error", exc.reason, exc.retry
    del data
    chunks = chunker.chunk(doc.text, doc.kind, doc.page_starts) if doc.text.strip() else []
    spans = [(c.start, c.end, c.line, c.page) for c in chunks]
    digests = b"".join(text_digest(chunking_version, c.text) for c in chunks)
    return "ok", doc, digest, size, spans, digests
