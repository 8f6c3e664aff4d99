"""Source code: kept verbatim (names, comments and docstrings are what people search for)."""

from __future__ import annotations

import os

from seekwise.core.extract.base import Document, Family
from seekwise.core.extract.decode import decode

VERSION = "code/1"
LANGUAGES = {
    ".py": "python", ".pyw": "python", ".pyi": "python", ".pyx": "cython", ".js": "javascript",
    ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript",
    ".mts": "typescript", ".cts": "typescript", ".tsx": "typescript", ".java": "java", ".kt": "kotlin",
    ".kts": "kotlin", ".scala": "scala", ".groovy": "groovy", ".gradle": "groovy", ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp", ".cs": "csharp",
    ".go": "go", ".rs": "rust", ".rb": "ruby", ".php": "php", ".swift": "swift", ".m": "objective-c",
    ".mm": "objective-c", ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".fish": "shell",
    ".ps1": "powershell", ".psm1": "powershell", ".bat": "batch", ".cmd": "batch", ".sql": "sql", ".r": "r",
    ".jl": "julia", ".lua": "lua", ".pl": "perl", ".pm": "perl", ".hs": "haskell", ".ml": "ocaml",
    ".mli": "ocaml", ".fs": "fsharp", ".clj": "clojure", ".cljs": "clojure", ".ex": "elixir",
    ".exs": "elixir", ".erl": "erlang", ".hrl": "erlang", ".dart": "dart", ".vue": "vue",
    ".svelte": "svelte", ".css": "css", ".scss": "scss", ".sass": "sass", ".less": "less", ".el": "elisp",
    ".vim": "vim", ".zig": "zig", ".nim": "nim", ".f90": "fortran", ".cmake": "cmake",
    ".proto": "protobuf", ".graphql": "graphql", ".tf": "terraform", ".nix": "nix", ".asm": "assembly",
    ".s": "assembly", ".vhd": "vhdl", ".tcl": "tcl", ".awk": "awk",
}
NAMES = {
    "makefile": "make", "gnumakefile": "make", "makefile.in": "make", "makefile.am": "make",
    "dockerfile": "docker", "containerfile": "docker", "cmakelists.txt": "cmake", "rakefile": "ruby",
    "gemfile": "ruby", "vagrantfile": "ruby", "justfile": "just", "jenkinsfile": "groovy",
    ".bashrc": "shell", ".bash_profile": "shell", ".zshrc": "shell", ".profile": "shell",
}


def language_of(name: str) -> str | None:
    """The language a lower-case file name says, or None."""
    return NAMES.get(name) or LANGUAGES.get(os.path.splitext(name)[1])


def read(data: bytes, name: str) -> Document:
    """Decoded, kept as is, with the language the name says."""
    return Document(decode(data), "code", VERSION, language=language_of(name))


FAMILY = Family(VERSION, read, frozenset(LANGUAGES), frozenset(NAMES))
