"""Data files as sentences a person would search: CSV rows as 'column: value', JSON as 'key: value' lines.

Both are bounded (rows, characters) with a note saying where indexing stopped; a file that does not
parse is indexed as the plain text it is.
"""

from __future__ import annotations

import csv
import io
import json

from seekwise.core.extract.base import Document, Family
from seekwise.core.extract.decode import decode

CSV_VERSION = "csv/1"
JSON_VERSION = "json/1"
MAX_ROWS = 200_000
MAX_CHARS = 16 << 20
_DELIMITERS = ",;\t|"
_GAP = object()  # a blank line between the records of a JSON list


# -- CSV ---------------------------------------------------------------------------------------

def read_csv(data: bytes, name: str) -> Document:
    """One line per record, in file order: the header as 'a | b', then 'a: 1 | b: 2' (empty cells left out)."""
    text = decode(data)
    delimiter = "\t" if name.endswith((".tsv", ".tab")) else _sniff_delimiter(text)
    try:
        lines = _rows(text, delimiter)
    except csv.Error:  # a field over csv's size limit, a stray quote in strict spots: keep the text
        return Document(text, "csv", CSV_VERSION)
    return Document("\n".join(lines), "csv", CSV_VERSION)


def _sniff_delimiter(text: str) -> str:
    """The separator most lines hold equally often (a quoted field over two lines must not decide)."""
    head = text[:8192].split("\n")
    if len(text) > 8192:
        head.pop()  # cut short
    lines = [line for line in head[:20] if line.strip()]
    best, best_score = ",", 0
    for d in _DELIMITERS:
        counts: dict[int, int] = {}
        for line in lines:
            n = line.count(d)
            if n:
                counts[n] = counts.get(n, 0) + 1
        score = max((n * lines_with_n for n, lines_with_n in counts.items()), default=0)
        if score > best_score:
            best, best_score = d, score
    return best


def _rows(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[str] = []
    header: list[str] | None = None
    size = 0
    for i, row in enumerate(reader):
        cells = [" ".join(c.split()) for c in row]
        if i == 0 and _looks_like_header(cells):
            header = cells
            line = " | ".join(c for c in cells if c)
        elif header is not None:
            line = " | ".join(f"{header[k]}: {c}" if k < len(header) and header[k] else c
                              for k, c in enumerate(cells) if c)
        else:
            line = " | ".join(c for c in cells if c)
        out.append(line)
        size += len(line) + 1
        if i + 1 >= MAX_ROWS or size > MAX_CHARS:
            out.append(f"[only the first {i + 1} rows are indexed]")
            break
    return out


def _looks_like_header(cells: list[str]) -> bool:
    """Names, not data: every cell filled, none a number, no two the same."""
    filled = [c for c in cells if c]
    return len(filled) == len(cells) >= 2 and len(set(filled)) == len(filled) and \
        not any(_is_number(c) for c in filled)


def _is_number(cell: str) -> bool:
    try:
        float(cell.replace(",", "").replace(" ", ""))
    except ValueError:
        return False
    return True


# -- JSON --------------------------------------------------------------------------------------

def read_json(data: bytes, name: str) -> Document:
    """Scalars as 'parent.key: value' lines (the last three keys of the path), records apart."""
    text = decode(data)
    if name.endswith((".jsonl", ".ndjson")):
        out: list[str] = []
        size = 0
        for line in text.split("\n"):
            if not line.strip():
                continue
            value = _parse(line)
            lines = [line] if value is _GAP else _flatten(value, MAX_CHARS - size)
            out += [*lines, ""]
            size += sum(len(x) + 1 for x in lines)
            if size > MAX_CHARS:
                out.append(_cut_note())
                break
        return Document("\n".join(out).strip(), "json", JSON_VERSION)
    value = _parse(text)
    if value is _GAP:
        return Document(text, "json", JSON_VERSION)  # not JSON after all: indexed as the text it is
    return Document("\n".join(_flatten(value, MAX_CHARS)).strip(), "json", JSON_VERSION)


def _parse(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # invalid, too deep, or an integer too long to convert
        return _GAP


def _flatten(value: object, budget: int) -> list[str]:
    """Iterative, so nesting depth costs no stack; stops with a note past `budget` characters."""
    out: list[str] = []
    size = 0
    stack: list[tuple[str, object]] = [("", value)]
    while stack:
        path, value = stack.pop()
        if value is _GAP:
            if out and out[-1]:
                out.append("")
            continue
        if isinstance(value, dict):
            stack.append(("", _GAP))
            stack.extend(reversed([(_join(path, str(k)), v) for k, v in value.items()]))
            continue
        if isinstance(value, list):
            stack.extend(reversed([(path, v) for v in value]))
            continue
        if value is None:
            continue
        shown = value if isinstance(value, str) else json.dumps(value)
        line = f"{path}: {shown}" if path else shown
        out.append(line)
        size += len(line) + 1
        if size > budget:
            out.append(_cut_note())
            break
    while out and not out[-1]:
        out.pop()
    return out


def _join(path: str, key: str) -> str:
    full = f"{path}.{key}" if path else key
    return ".".join(full.split(".")[-3:])


def _cut_note() -> str:
    return f"[only the first {MAX_CHARS >> 20} MB of text are indexed]"


CSV_FAMILY = Family(CSV_VERSION, read_csv, frozenset({".csv", ".tsv", ".tab"}))
JSON_FAMILY = Family(JSON_VERSION, read_json, frozenset({".json", ".jsonl", ".ndjson", ".geojson"}))
