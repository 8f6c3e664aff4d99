"""XML from untrusted files, parsed as a stream by defusedxml: no DTD, no entity expansion, no tree."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Protocol

from seekwise.core.extract.base import ExtractionError

ENTITIES = "XML with a DTD or entity declarations (refused: a possible entity-expansion attack)"


class Target(Protocol):
    """What the parser calls: tags are '{namespace}local', attributes a dict keyed the same way."""

    def start(self, tag: str, attrs: dict[str, str]) -> None: ...
    def end(self, tag: str) -> None: ...
    def data(self, text: str) -> None: ...


def parse(blocks: Iterable[bytes], target: Target, what: str, allow_doctype: bool = False) -> None:
    """Feed `blocks` of one XML document to `target`; ExtractionError names `what` when it is broken.

    Office XML never has a DOCTYPE, so any is refused; EPUB's XHTML and OPF may carry a plain one
    (allow_doctype), but never entity declarations or external references.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    parser = DefusedXMLParser(target=target, forbid_dtd=not allow_doctype, forbid_entities=True,
                              forbid_external=True)
    try:
        for block in blocks:
            parser.feed(block)
        parser.close()
    except DefusedXmlException as exc:
        raise ExtractionError(ENTITIES) from exc
    except (ParseError, UnicodeError, ValueError, LookupError) as exc:  # LookupError: an unknown encoding
        raise ExtractionError(f"damaged XML in {what}") from exc
    except RecursionError as exc:
        raise ExtractionError(f"XML nested too deeply in {what}") from exc


@functools.lru_cache(maxsize=4096)  # a document uses a few dozen tag names, a hundred thousand times
def local(tag: str) -> str:
    """'{urn:...}p' -> 'p'."""
    return tag.rsplit("}", 1)[-1]
