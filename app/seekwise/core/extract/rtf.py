"""RTF: the text of the document body, in one linear pass over the control words and groups.

Handles code pages (\\ansicpg and per-font \\fcharset) for \\'hh bytes, \\uN with its \\ucN fallback
skipping, \\binN data, and skips destinations that are not body text (font and colour tables,
styles, document info, pictures, objects, field instructions, anything marked \\*). Group nesting
is bounded: past MAX_DEPTH, deeper groups share their parent's state, so memory stays constant.
"""

from __future__ import annotations

import codecs
import re

from seekwise.core.extract.base import Document, ExtractionError, Family

VERSION = "rtf/1"
EXTENSIONS = frozenset({".rtf"})
MAX_DEPTH = 256

_TOKEN = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])|[\r\n]+|([^\\{}\r\n]+)",
                    re.S)
# Destinations whose content is not body text. Everything written {\*\dest ...} is skipped as well.
_SKIPPED = frozenset({
    "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "objdata", "fldinst", "themedata",
    "colorschememapping", "datastore", "latentstyles", "listtable", "listoverridetable", "rsidtbl",
    "generator", "xmlnstbl", "filetbl", "revtbl", "header", "headerl", "headerr", "headerf", "footer",
    "footerl", "footerr", "footerf", "pntxta", "pntxtb", "private", "nonshppict", "shpinst", "bkmkstart",
    "bkmkend", "xe", "tc", "txe", "userprops", "docvar", "mmathPr", "listpicture", "wgrffmtfilter",
    "pgdsctbl", "protusertbl", "operator", "author", "passwordhash", "sp", "sn", "sv", "falt",
})
_SYMBOLS = {"par": "\n\n", "line": "\n", "tab": "\t", "cell": " | ", "row": "\n", "sect": "\n\n",
            "page": "\n\n", "emdash": "\u2014", "endash": "\u2013", "emspace": " ", "enspace": " ",
            "qmspace": " ", "bullet": "\u2022", "lquote": "\u2018", "rquote": "\u2019",
            "ldblquote": "\u201c", "rdblquote": "\u201d", "zwj": "\u200d", "zwnj": "\u200c",
            "nestcell": " | ", "nestrow": "\n"}
_CONTROL_SYMBOLS = {"\\": "\\", "{": "{", "}": "}", "~": "\u00a0", "_": "\u2011", "-": "", "\t": "\t"}
# \fcharsetN -> code page (Windows font charsets); 0 and 1 mean the document's own (\ansicpg).
_CHARSETS = {0: "", 1: "", 2: "cp1252", 77: "mac-roman", 128: "cp932", 129: "cp949", 130: "johab",
             134: "gbk", 136: "cp950", 161: "cp1253", 162: "cp1254", 163: "cp1258", 177: "cp1255",
             178: "cp1256", 186: "cp1257", 204: "cp1251", 222: "cp874", 238: "cp1250", 255: "cp437"}
_CHARSETS_BY_WORD = {"ansi": "cp1252", "mac": "mac-roman", "pc": "cp437", "pca": "cp850"}
_BLANK_LINES = re.compile(r"[ \t]*\n(?:[ \t]*\n)+[ \t]*")
_ROW_END = re.compile(r"[ \t]*\|[ \t]*(?=\n)")  # the " | " of a row's last \cell


class _Group:
    """What a group inherits and may change: whether its text is shown, \\uc, the font's code page."""

    __slots__ = ("skip", "uc", "codec", "dest")

    def __init__(self, skip: bool, uc: int, codec: str, dest: str) -> None:
        self.skip, self.uc, self.codec, self.dest = skip, uc, codec, dest

    def copy(self) -> _Group:
        return _Group(self.skip, self.uc, self.codec, self.dest)


def read(data: bytes, name: str) -> Document:
    if not data.lstrip()[:5] == b"{\\rtf":
        raise ExtractionError("not an RTF file (no {\\rtf header)")
    return _Parser(data).run()


class _Parser:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.out: list[str] = []
        self.title: list[str] = []
        self.pending = bytearray()       # \'hh bytes waiting to be decoded together (multi-byte code pages)
        self.pending_codec = "cp1252"
        self.default_codec = "cp1252"
        self.fonts: dict[int, str] = {}  # font number -> code page, from the font table
        self.default_font = 0
        self.font_in_table: int | None = None
        self.skip_chars = 0              # fallback characters still to skip after a \uN
        self.group = _Group(False, 1, "cp1252", "")
        self.stack: list[_Group] = []
        self.excess = 0                  # groups opened past MAX_DEPTH

    def run(self) -> Document:
        data = self.data
        pos, n = 0, len(data)
        while pos < n:
            m = _TOKEN.match(data, pos)
            if m is None:  # a lone backslash at the very end
                break
            pos = m.end()
            word, text, brace = m.group(1), m.group(6), m.group(5)
            if text is not None:
                self._text(text)
            elif word is not None:
                pos = self._word(word.decode("ascii"), m.group(2), pos)
            elif brace is not None:
                self._brace(brace == b"{")
            elif m.group(3) is not None:
                self._byte(int(m.group(3), 16))
            elif m.group(4) is not None:
                self._symbol(m.group(4).decode("latin-1"))
            # runs of \r and \n are not text in RTF
        self._flush()
        text = _BLANK_LINES.sub("\n\n", _ROW_END.sub("", "".join(self.out) + "\n")).strip()
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # pair \u surrogates
        title = " ".join("".join(self.title).split()) or None
        return Document(text, "rtf", VERSION, title=title)

    # -- tokens --------------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        if self.group.dest == "title":
            self.title.append(text)
        elif not self.group.skip:
            self.out.append(text)

    def _flush(self) -> None:
        if self.pending:
            text = self.pending.decode(self.pending_codec, errors="replace")
            self.pending.clear()
            self._emit(text)

    def _text(self, raw: bytes) -> None:
        if self.skip_chars:
            cut = min(self.skip_chars, len(raw))
            self.skip_chars -= cut
            raw = raw[cut:]
            if not raw:
                return
        self._flush()
        if self.group.dest == "fonttbl":
            return
        self._emit(raw.decode(self.group.codec, errors="replace"))

    def _byte(self, value: int) -> None:
        if self.skip_chars:
            self.skip_chars -= 1
            return
        if self.pending and self.pending_codec != self.group.codec:
            self._flush()
        self.pending_codec = self.group.codec
        self.pending.append(value)

    def _symbol(self, char: str) -> None:
        if char == "*":
            self.group.skip = True
            return
        if self.skip_chars:
            self.skip_chars -= 1
            return
        self._flush()
        if char in _CONTROL_SYMBOLS:
            self._emit(_CONTROL_SYMBOLS[char])
        elif char in "\r\n":
            self._emit("\n\n")  # "\<newline>" is \par

    def _brace(self, opening: bool) -> None:
        self._flush()
        self.skip_chars = 0
        if opening:
            if len(self.stack) >= MAX_DEPTH:
                self.excess += 1
                return
            self.stack.append(self.group)
            self.group = self.group.copy()
            if self.group.dest == "fonttbl":
                self.font_in_table = None
        else:
            if self.excess:
                self.excess -= 1
                return
            if self.stack:
                self.group = self.stack.pop()

    def _word(self, word: str, arg: bytes | None, pos: int) -> int:
        value = int(arg) if arg is not None else None
        if word == "bin":  # \binN: N raw bytes follow, whatever they look like
            self._flush()
            return min(len(self.data), pos + max(0, value or 0))
        if word == "u" and value is not None:
            self._flush()
            self._emit(chr(value % 65536))
            self.skip_chars = self.group.uc
            return pos
        if self.skip_chars:
            self.skip_chars -= 1
            return pos
        self._flush()
        group = self.group
        if word in _SYMBOLS:
            self._emit(_SYMBOLS[word])
        elif word == "uc" and value is not None:
            group.uc = max(0, min(value, 10))
        elif word == "f" and value is not None:
            if group.dest == "fonttbl":
                self.font_in_table = value
            else:
                group.codec = self.fonts.get(value) or self.default_codec
        elif word == "fcharset" and value is not None and group.dest == "fonttbl":
            codec = _CHARSETS.get(value)
            if codec is not None and self.font_in_table is not None:
                self.fonts[self.font_in_table] = codec
        elif word == "fonttbl":
            group.skip, group.dest = True, "fonttbl"
        elif word == "title" and group.dest == "info":
            group.dest = "title"
        elif word == "info":
            group.skip, group.dest = True, "info"
        elif word in _SKIPPED:
            group.skip = True
        elif word == "ansicpg" and value is not None:
            self.default_codec = group.codec = _codec(f"cp{value}") or self.default_codec
        elif word in _CHARSETS_BY_WORD:
            self.default_codec = group.codec = _CHARSETS_BY_WORD[word]
        elif word == "deff" and value is not None:
            self.default_font = value
        elif word == "plain":
            group.codec = self.fonts.get(self.default_font) or self.default_codec
        return pos


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


FAMILY = Family(VERSION, read, EXTENSIONS, isolated=True, size_factor=4)  # pictures are hex text in RTF
