"""A library of a few thousand real chunks, made from the Python standard library this test run uses.

Every machine that runs the tests has these files: the standard library's own .py sources, copied as
they are, and their docstrings (read with `ast`, never imported) written out as Markdown, HTML and
plain text. Files are picked deterministically (sorted names, fixed budgets), spread over a few
folders, and given mtimes spread over three years, so size-dependent paths (ANN recall, binary
candidates, filters that keep a small share of the library) have something to bite on.

A made-up word, PLANTED, is appended at the very end of every fourth file: the one chunk that
holds it is rarely the file's best passage for a query, which is what `-word` must still exclude.
"""

from __future__ import annotations

import ast
import html
import os
import shutil
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

PLANTED = "quillomarsh"          # no English suffix for Porter to strip; in no real file
DAY = 86400

# (folder in the corpus, stdlib package or module names, character budget). Sources are copied;
# docstring pages are generated. Budgets aim at ~3,000 chunks in all.
CODE = (("code/json", ["json"], 60_000),
        ("code/http", ["http"], 90_000),
        ("code/email", ["email"], 110_000),
        ("code/logging", ["logging"], 90_000),
        ("code/concurrent", ["concurrent"], 60_000),
        ("code/wsgiref", ["wsgiref"], 60_000),
        ("code/misc", ["shlex.py", "textwrap.py", "fnmatch.py", "glob.py", "bisect.py", "heapq.py",
                       "sched.py", "queue.py", "getopt.py", "netrc.py", "colorsys.py", "graphlib.py"], 80_000))
# Docstring pages: every public top-level module of the standard library (sorted), dealt in turn to
# Markdown, HTML and plain text, a few sections each, until the budget is spent.
DOC_KINDS = (("docs/markdown", ".md"), ("docs/reference", ".html"), ("notes", ".txt"))
DOC_BUDGET = 560_000
DOC_SECTIONS = 16
EXTRA_TEXT = ("idlelib/README.txt", "idlelib/TODO.txt", "idlelib/extend.txt", "idlelib/CREDITS.txt")


@dataclass
class CorpusFile:
    rel: str          # path under the corpus root, '/'-separated
    mtime: float
    planted: bool


@dataclass
class LargeCorpus:
    root: Path
    files: dict[str, CorpusFile] = field(default_factory=dict)

    def path(self, rel: str) -> str:
        return os.path.join(os.path.realpath(self.root), *rel.split("/"))


def stdlib() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def _sources(names: list[str]) -> list[Path]:
    base = stdlib()
    out: list[Path] = []
    for name in names:
        p = base / name
        if p.is_dir():
            out += sorted(q for q in p.rglob("*.py") if "__pycache__" not in q.parts and "test" not in q.parts)
        elif p.is_file():
            out.append(p)
    return out


def _docstrings(module: str) -> list[tuple[str, str]]:
    """(heading, docstring) of a stdlib module and its public classes and functions, read with ast."""
    base = stdlib()
    path = base / f"{module}.py"
    if not path.is_file():
        path = base / module / "__init__.py"
    if not path.is_file():
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError):
        return []
    out = []
    doc = ast.get_docstring(tree)
    if doc:
        out.append((module, doc))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            doc = ast.get_docstring(node)
            if doc and len(doc) > 80:
                out.append((f"{module}.{node.name}", doc))
    return out


def _render(module: str, sections: list[tuple[str, str]], ext: str) -> str:
    if ext == ".md":
        return "\n\n".join(f"{'#' if i == 0 else '##'} {head}\n\n{doc}" for i, (head, doc) in enumerate(sections)) + "\n"
    if ext == ".html":
        body = "\n".join(f"<h{1 if i == 0 else 2}>{html.escape(head)}</h{1 if i == 0 else 2}>\n"
                         + "\n".join(f"<p>{html.escape(par)}</p>" for par in doc.split("\n\n"))
                         for i, (head, doc) in enumerate(sections))
        return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(module)}</title></head>"
                f"\n<body>\n{body}\n</body></html>\n")
    return "\n\n".join(f"{head}\n{'=' * len(head)}\n\n{doc}" for head, doc in sections) + "\n"


def _plant(text: str, ext: str) -> str:
    line = f"Filed under {PLANTED} for the archive."
    if ext == ".py":
        return text.rstrip("\n") + f"\n\n# {line}\n"
    if ext == ".html":
        return text.replace("</body>", f"<p>{line}</p>\n</body>")
    return text.rstrip("\n") + f"\n\n{line}\n"


def build(root: Path, now: float | None = None) -> LargeCorpus:
    """Write the corpus under `root` (which must not exist) and return what is where."""
    now = time.time() if now is None else now
    root.mkdir(parents=True)
    texts: dict[str, str] = {}
    for folder, names, budget in CODE:
        used = 0
        for src in _sources(names):
            text = src.read_text(encoding="utf-8", errors="replace")
            if used and used + len(text) > budget:
                continue
            rel = f"{folder}/{src.relative_to(stdlib()).as_posix().replace('/', '_')}"
            texts[rel] = text
            used += len(text)
    copied = {n for _, names, _ in CODE for n in names}
    modules = sorted(p.stem for p in stdlib().glob("*.py") if not p.name.startswith("_") and p.name not in copied)
    used = 0
    for module in modules:
        sections = _docstrings(module)
        if len(sections) < 2:
            continue
        folder, ext = DOC_KINDS[len([r for r in texts if r.startswith(("docs/", "notes/"))]) % len(DOC_KINDS)]
        text = _render(module, sections[:DOC_SECTIONS], ext)
        texts[f"{folder}/{module}{ext}"] = text
        used += len(text)
        if used >= DOC_BUDGET:
            break
    for extra in EXTRA_TEXT:
        src = stdlib() / extra
        if src.is_file():
            texts[f"notes/idle-{src.name}"] = src.read_text(encoding="utf-8", errors="replace")
    corpus = LargeCorpus(root)
    for i, rel in enumerate(sorted(texts)):
        ext = os.path.splitext(rel)[1]
        planted = i % 4 == 1
        text = _plant(texts[rel], ext) if planted else texts[rel]
        dest = root.joinpath(*rel.split("/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8")
        mtime = now - ((i * 7919) % 1100 + 1) * DAY   # 1 day to 3 years ago, scattered
        os.utime(dest, (mtime, mtime))
        corpus.files[rel] = CorpusFile(rel, mtime, planted)
    return corpus


if __name__ == "__main__":   # python tests/largecorpus.py DEST: write it, say how big
    import sys
    dest = Path(sys.argv[1])
    shutil.rmtree(dest, ignore_errors=True)
    c = build(dest)
    size = sum((dest / r).stat().st_size for r in c.files)
    print(len(c.files), "files", size, "bytes")
