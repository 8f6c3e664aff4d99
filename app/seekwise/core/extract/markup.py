"""reStructuredText and Org: their headings become '# ' lines (what the chunker splits sections on).

Every line stays where it was, as in Markdown, so a hit's line number is the file's. Markup a reader
does not see (targets, comments, drawers, #+ keywords, link syntax) is blanked or reduced to its text.
"""

from __future__ import annotations

import re

from seekwise.core.extract.base import Document, Family
from seekwise.core.extract.decode import decode

RST_VERSION = "rst/1"
ORG_VERSION = "org/1"

# -- reStructuredText --------------------------------------------------------------------------

_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1{2,}[ \t]*")
_RST_TARGET = re.compile(r"\.\.[ \t]+(?:_[^:]*:|\|[^|]+\|)|\.\.[ \t]*$")  # ".. _x: url", ".. |sub| ...", ".."
_RST_COMMENT = re.compile(r"\.\.[ \t]+(?![\w:.+-]+::|\[)")                # ".. text" that is no directive
_RST_LINK = re.compile(r"`([^`<\n]+?)\s*<[^>\n]*>`__?")                    # `text <url>`_
_RST_ROLE = re.compile(r":[\w.+-]+:`([^`\n]+)`")                          # :role:`text`
_RST_LITERAL = re.compile(r"``([^`\n]+)``")


def read_rst(data: bytes, name: str) -> Document:
    """Section titles (underlined, or over- and underlined) as '#' lines, levels in order of first use."""
    lines = decode(data).split("\n")
    levels: dict[tuple[str, bool], int] = {}
    title: str | None = None
    n = len(lines)
    i = 0
    while i < n:
        line = lines[i]
        over = _ADORNMENT.fullmatch(line)
        if over and i + 2 < n and lines[i + 1].strip() and _ADORNMENT.fullmatch(lines[i + 2]) \
                and lines[i + 2].strip()[0] == line[0]:
            heading, style, span = lines[i + 1].strip(), (line[0], True), 3
        elif line.strip() and not line[0].isspace() and i + 1 < n and (i == 0 or not lines[i - 1].strip()) \
                and not over and _underlines(lines[i + 1], line):
            heading, style, span = line.strip(), (lines[i + 1][0], False), 2
        else:
            lines[i] = _rst_inline(line)
            i += 1
            continue
        level = levels.setdefault(style, len(levels) + 1)
        heading = _rst_inline(heading)
        title = title or (heading if level == 1 else None)
        line = "#" * min(level, 6) + " " + heading
        lines[i:i + span] = [line, ""] if span == 2 else ["", line, ""]  # as many lines as before
        i += span
    return Document("\n".join(lines), "rst", RST_VERSION, title=title)


def _underlines(adornment: str, text: str) -> bool:
    """An underline: one punctuation character repeated, not much shorter than the title."""
    return bool(_ADORNMENT.fullmatch(adornment)) and len(adornment.rstrip()) * 2 >= len(text.strip())


def _rst_inline(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(".."):
        if _RST_TARGET.match(stripped) or _RST_COMMENT.match(stripped):
            return ""
        return line
    if "`" in line:
        line = _RST_LITERAL.sub(r"\1", _RST_ROLE.sub(r"\1", _RST_LINK.sub(r"\1", line)))
    return line


# -- Org ---------------------------------------------------------------------------------------

_ORG_HEADLINE = re.compile(r"(\*+)[ \t]+(.*)")
_ORG_TAGS = re.compile(r"[ \t]+:[\w@#%:]+:[ \t]*$")
_ORG_KEYWORD = re.compile(r"[ \t]*#\+(\w+)(?:\[[^\]\n]*\])?:?[ \t]*(.*)", re.I)
_ORG_DRAWER = re.compile(r"[ \t]*:([\w-]+):[ \t]*$")
_ORG_LINK = re.compile(r"\[\[([^\]\n]*)\](?:\[([^\]\n]*)\])?\]")


def read_org(data: bytes, name: str) -> Document:
    """Headlines ('** x') as '## x', source and example blocks as fences, settings and drawers blanked."""
    lines = decode(data).split("\n")
    title: str | None = None
    in_block = False
    in_drawer = False
    ends = [i for i, line in enumerate(lines) if line.strip().upper() == ":END:"]
    last_end = ends[-1] if ends else -1  # a ":NAME:" line opens a drawer only if an ":END:" follows
    for i, line in enumerate(lines):
        keyword = _ORG_KEYWORD.match(line)
        if keyword:
            key, value = keyword.group(1).lower(), keyword.group(2).strip()
            if key in ("begin_src", "begin_example") and not in_block:
                lines[i], in_block = "```" + (value.split()[0] if key == "begin_src" and value else ""), True
            elif key in ("end_src", "end_example") and in_block:
                lines[i], in_block = "```", False
            elif in_block:
                continue
            elif key == "title" and value:
                title = title or value
                lines[i] = value
            else:
                lines[i] = ""
            continue
        if in_block:
            continue
        drawer = _ORG_DRAWER.fullmatch(line)
        if drawer and (in_drawer or (drawer.group(1).upper() != "END" and i < last_end)):
            in_drawer = drawer.group(1).upper() != "END"
            lines[i] = ""
            continue
        if in_drawer:
            lines[i] = ""
            continue
        if line.lstrip().startswith("#") and (line.lstrip()[1:2] in (" ", "\t", "")):
            lines[i] = ""  # "# a comment"
            continue
        if "[[" in line:
            line = _ORG_LINK.sub(lambda m: m.group(2) or m.group(1), line)
        head = _ORG_HEADLINE.fullmatch(line)
        if head:
            line = "#" * min(len(head.group(1)), 6) + " " + _ORG_TAGS.sub("", head.group(2)).strip()
        lines[i] = line
    return Document("\n".join(lines), "org", ORG_VERSION, title=title)


RST_FAMILY = Family(RST_VERSION, read_rst, frozenset({".rst", ".rest"}))
ORG_FAMILY = Family(ORG_VERSION, read_org, frozenset({".org"}))
