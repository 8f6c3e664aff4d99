"""Arrows point down: core never imports Qt, the GUI or the CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).parents[2] / "app" / "seekwise" / "core"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "seekwise.gui", "seekwise.cli", "seekwise.bench")


def test_no_forbidden_import_statement_in_core():
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert not offenders


def test_core_imports_with_qt_blocked():
    modules = sorted("seekwise.core." + ".".join(p.relative_to(CORE).with_suffix("").parts)
                     for p in CORE.rglob("*.py") if p.name != "__init__.py")
    code = ("import sys\n"
            "for name in ('PySide6', 'PyQt5', 'PyQt6'): sys.modules[name] = None\n"
            f"import importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
            "assert not any(k.startswith(('seekwise.gui', 'seekwise.cli')) for k in sys.modules)\n"
            "print('ok', len(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")
