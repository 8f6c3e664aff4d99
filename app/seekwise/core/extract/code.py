"""Source code: kept verbatim (names, comments and docstrings are what people search for)."""

from __future__ import annotations

from seekwise.core.extract.base import Document
from seekwise.core.extract.decode import decode_text

VERSION = "code/1"
LANGUAGES = {
    ".py": "python", ".pyw": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".tsx": "typescript",
    ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala", ".groovy": "groovy",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp",
    ".cs": "csharp", ".go": "go", ".rs": "rust", ".rb": "ruby", ".php": "php", ".swift": "swift",
    ".m": "objective-c", ".mm": "objective-c", ".sh": "shell", ".bash": "shell", ".zsh": "shell",
    ".fish": "shell", ".ps1": "powershell", ".bat": "batch", ".cmd": "batch", ".sql": "sql",
    ".r": "r", ".jl": "julia", ".lua": "lua", ".pl": "perl", ".pm": "perl", ".hs": "haskell",
    ".ml": "ocaml", ".mli": "ocaml", ".fs": "fsharp", ".clj": "clojure", ".ex": "elixir",
    ".exs": "elixir", ".erl": "erlang", ".dart": "dart", ".vue": "vue", ".svelte": "svelte",
    ".css": "css", ".scss": "scss", ".sass": "sass", ".less": "less", ".el": "elisp", ".vim": "vim",
    ".zig": "zig", ".nim": "nim", ".f90": "fortran", ".cmake": "cmake", ".gradle": "groovy",
    ".proto": "protobuf", ".graphql": "graphql", ".tf": "terraform",
}
NAMES = {"makefile": "make", "dockerfile": "docker", "cmakelists.txt": "cmake", "rakefile": "ruby",
         "gemfile": "ruby", "justfile": "just", "vagrantfile": "ruby"}


def extract(data: bytes, language: str | None) -> Document:
    return Document(decode_text(data), "code", VERSION, language=language)
