"""Arrows point down: core never imports Qt, the GUI, the CLI or the benchmarks (seekwise.devtools),
and the product (core, cli, gui) does not load the benchmarks when it starts: the frozen app has none."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).parents[2] / "app"
CORE = APP / "seekwise" / "core"
GUI = APP / "seekwise" / "gui"
QT = ("PySide6", "PyQt5", "PyQt6")
ABOVE_CORE = ("seekwise.gui", "seekwise.cli", "seekwise.devtools")
FORBIDDEN = QT + ABOVE_CORE


def module_name(path: Path) -> str:
    parts = path.relative_to(APP).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module the import statements of `module` may load, as absolute names: `from seekwise
    import cli` names seekwise.cli too, and `from ..cli import x` is resolved against the package."""
    package = module if is_package else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names |= {base} | {f"{base}.{a.name}" for a in node.names}
    return names


def is_forbidden(name: str) -> bool:
    """A whole module name or one below it: seekwise.devtools.vecbench is, seekwise.devtoolsy is not."""
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_the_rule_catches_every_way_of_naming_a_forbidden_module():
    source = ("from ... import devtools\nfrom ...cli import main\nfrom seekwise import gui\n"
              "import seekwise.devtools.vecbench\nimport PySide6.QtCore\n"
              "from seekwise.core import search\nfrom .. import errors\nfrom . import pdf\nimport seekwise.guide\n")
    found = {n for n in imported_names(source, "seekwise.core.extract.reading") if is_forbidden(n)}
    assert found == {"seekwise.devtools", "seekwise.cli", "seekwise.cli.main", "seekwise.gui",
                     "seekwise.devtools.vecbench", "PySide6.QtCore"}


def test_no_forbidden_import_statement_in_core():
    offenders = [f"{path.relative_to(CORE)}: {name}" for path in CORE.rglob("*.py")
                 for name in imported_names(path.read_text(), module_name(path), path.name == "__init__.py")
                 if is_forbidden(name)]
    assert not offenders


def test_core_imports_with_qt_blocked():
    modules = sorted(module_name(p) for p in CORE.rglob("*.py") if p.name != "__init__.py")
    code = ("import sys\n"
            f"for name in {QT!r}: sys.modules[name] = None\n"
            f"import importlib\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"assert not [k for k in sys.modules if any(k == f or k.startswith(f + '.') for f in {ABOVE_CORE!r})]\n"
            "print('ok', len(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok")


def test_the_product_loads_no_benchmark_when_it_starts():
    """Every module of core and gui, the CLI with its parser built: none of it loads seekwise.devtools
    (the CLI imports a benchmark's module only once its command is parsed)."""
    modules = sorted(module_name(p) for folder in (CORE, GUI) for p in folder.rglob("*.py")) + ["seekwise.cli"]
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "sys.modules['seekwise.cli'].build_parser()\n"
            "print([k for k in sys.modules if k == 'seekwise.devtools' or k.startswith('seekwise.devtools.')],"
            " len(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    loaded, count = out.stdout.rsplit(" ", 1)
    assert loaded == "[]" and int(count) > 100   # the product did load: Qt, the library, the CLI


# The GUI speaks the facade's vocabulary: core.library (and core.frontend when no library is open),
# the search's data types, and plain modules that hold no index. Anything else it needs becomes a
# public method there first, so the GUI never re-implements a search step or reads the store.
GUI_MAY_IMPORT = frozenset({
    "seekwise.core",                 # the package itself, as in `from seekwise.core import power`
    "seekwise.core.library",         # the facade: Library, LibraryStatus, FileStatus, PassageContext
    "seekwise.core.frontend",        # with no library open: model checks, counting readable files
    "seekwise.core.search",          # data types and pure helpers: Hit, Passage, SearchFilters, snippet
    "seekwise.core.service",         # the background indexer the app runs, and its status
    "seekwise.core.query_server",    # answers the CLI's searches from the running app
    "seekwise.core.private_socket",  # the single-instance socket's folder
    "seekwise.core.repair",          # the repair view's actions on a damaged library
    "seekwise.core.settings",        # the settings file
    "seekwise.core.paths",           # where the data and config folders are
    "seekwise.core.errors",
    "seekwise.core.wording",
    "seekwise.core.under",
    "seekwise.core.power",
    "seekwise.core.idle",
})
LIBRARY_INTERNALS = frozenset({"store", "derived", "encoder", "tokens", "chunker"})
LIBRARY_WRITES = frozenset({"add_root", "remove_root", "drop_root", "forget", "clear", "rebuild", "index",
                            "acquire_writer", "writing", "make_indexer"})


def core_imports_not_allowed(source: str, module: str) -> set[str]:
    """The core modules `module`'s imports name beyond GUI_MAY_IMPORT: `from seekwise.core import
    store` names seekwise.core.store, while `from seekwise.core.library import Library` names a
    member of an allowed module, so a name counts as allowed when the module it comes from is."""
    found = set()
    for name in imported_names(source, module):
        if not (name == "seekwise.core" or name.startswith("seekwise.core.")):
            continue
        parent = name.rpartition(".")[0]
        if name in GUI_MAY_IMPORT or (parent in GUI_MAY_IMPORT and parent != "seekwise.core"):
            continue
        found.add(name)
    return found


def internal_reach_ins(source: str) -> list[tuple[int, str]]:
    """(line, attribute) for every `x.store`, `x.derived`, `x.encoder`... whatever `x` is: the GUI
    has no business with a Library's insides, and no GUI object of its own goes by those names."""
    return sorted((node.lineno, node.attr) for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Attribute) and node.attr in LIBRARY_INTERNALS)


def test_the_gui_rule_catches_core_internals_however_named():
    source = ("from seekwise.core import power, store\nfrom seekwise.core.library import Library\n"
              "import seekwise.core.derived\nfrom seekwise.core.embedding import resolve_model\n"
              "from ..core.scanner import scan\nfrom seekwise.core.search import Hit\nimport seekwise.core.idle\n"
              "from seekwise.core.extract.registry import is_supported\n")
    assert core_imports_not_allowed(source, "seekwise.gui.window") == {
        "seekwise.core.store", "seekwise.core.derived", "seekwise.core.embedding",
        "seekwise.core.embedding.resolve_model", "seekwise.core.scanner", "seekwise.core.scanner.scan",
        "seekwise.core.extract.registry", "seekwise.core.extract.registry.is_supported"}


def test_the_gui_rule_catches_reach_ins_on_any_object():
    source = ("rec = lib.store.get_file(path)\nself.library.encoder.get()\ngetattr(lib, 'x').derived\n"
              "lib.search('q')\nstore = 1\nlib.restore()\n")
    assert internal_reach_ins(source) == [(1, "store"), (2, "encoder"), (3, "derived")]


def test_the_gui_imports_only_the_public_core():
    offenders = [f"{path.relative_to(GUI)}: {name}" for path in GUI.rglob("*.py")
                 for name in sorted(core_imports_not_allowed(path.read_text(), module_name(path)))]
    assert not offenders


def test_the_gui_reaches_into_no_library_internals():
    offenders = [f"{path.relative_to(GUI)}:{line}: .{attr}" for path in GUI.rglob("*.py")
                 for line, attr in internal_reach_ins(path.read_text())]
    assert not offenders


def library_writes(source: str) -> list[tuple[int, str]]:
    """(line, method) for every write called on a Library (`lib.x()`, `self.library.x()`,
    `Library.x`): the GUI writes through its IndexService, the one writer, never beside it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in LIBRARY_WRITES:
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if name in ("lib", "library", "Library"):
                found.append((node.lineno, node.attr))
    return sorted(found)


def test_the_write_rule_catches_library_writes_however_reached():
    source = ("lib.add_root(f)\nself.library.clear()\nrun(Library.rebuild)\nself.writer.add_root(f)\n"
              "self.folder_list.clear()\nlib.roots()\n")
    assert library_writes(source) == [(1, "add_root"), (2, "clear"), (3, "rebuild")]


def test_the_gui_writes_only_through_the_service():
    offenders = [f"{path.relative_to(GUI)}:{line}: .{name}" for path in GUI.rglob("*.py")
                 for line, name in library_writes(path.read_text())]
    assert not offenders
