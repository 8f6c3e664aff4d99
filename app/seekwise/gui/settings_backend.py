"""What the settings dialog may do to the library, in one place. Reads come from the Library; every
write goes through the IndexService, the front end's one writer (it does them itself whether or not
its worker runs yet). Every method may be slow: the dialog calls them off the GUI thread."""

from __future__ import annotations

from seekwise.core.frontend import IgnoreRules, ModelManifest, check_model
from seekwise.core.library import Library
from seekwise.core.paths import LibraryPaths
from seekwise.core.service import IndexService


class LibraryBackend:
    """The Library-like facade SettingsDialog works over (tests may hand it any object with these)."""

    def __init__(self, library: Library, writer: IndexService) -> None:
        self.library = library
        self.writer = writer

    def roots(self) -> list[str]:
        return self.library.roots()

    def add_root(self, folder: str) -> str:
        return self.writer.add_root(folder)

    def remove_root(self, folder: str) -> None:
        self.writer.remove_root(folder)

    def model(self) -> ModelManifest:
        """The model the open library uses (the bundled one unless the settings chose another)."""
        return self.library.manifest

    def check_model(self, spec: str) -> ModelManifest:
        """The manifest of a model id or folder; raises ModelError with the reason when unusable."""
        return self.library.check_model(spec)

    def apply_rules(self, rules: IgnoreRules) -> None:
        """New exclusions and file types: rescans every folder so the library follows them."""
        self.writer.set_ignore(rules)

    def rebuild(self) -> None:
        """Re-read every file into fresh indexes (nothing is embedded twice: the vector cache stays)."""
        self.writer.rebuild()

    problem = ""      # set when there is no library: the dialog then offers only what needs none

    def clear(self) -> None:
        """Forget every folder and everything indexed (the files themselves are untouched)."""
        self.writer.clear()


class NoLibraryBackend:
    """The library did not open (a broken model, an unusable data folder): what can be fixed without
    it (the model, the data location) stays editable; folders and the index wait for a library."""

    def __init__(self, problem: str, data_dir: str | None = None) -> None:
        self.problem = f"The library did not open: {problem}"
        self.library = None
        self.writer = None
        self._data_dir = LibraryPaths.resolve(data_dir).root

    def roots(self) -> list[str]:
        return []

    def model(self) -> ModelManifest:
        """Nothing is in use: the bundled (default) model, what the dialog's 'bundled' choice means."""
        return check_model(None, self._data_dir)

    def check_model(self, spec: str) -> ModelManifest:
        return check_model(spec, self._data_dir)

    def apply_rules(self, rules: IgnoreRules) -> None:
        pass          # read from the settings file when the library opens

    def _refuse(self, *_: object) -> None:
        raise RuntimeError(self.problem)

    add_root = remove_root = rebuild = clear = _refuse
