"""What the settings dialog may do to the library, in one place: through the running IndexService
when there is one (it owns the writer lock), else straight on the Library. Every method may be slow:
the dialog calls them off the GUI thread."""

from __future__ import annotations

from seekwise.core.frontend import IgnoreRules, ModelManifest, check_model
from seekwise.core.library import Library
from seekwise.core.paths import LibraryPaths
from seekwise.core.service import IndexService

JOB_TIMEOUT_S = 600.0


class LibraryBackend:
    """The Library-like facade SettingsDialog works over (tests may hand it any object with these)."""

    def __init__(self, library: Library, service: IndexService | None = None) -> None:
        self.library = library
        self.service = service

    def roots(self) -> list[str]:
        return self.library.roots()

    def add_root(self, folder: str) -> str:
        return self.service.add_root(folder) if self.service else self.library.add_root(folder)

    def remove_root(self, folder: str) -> None:
        if self.service:
            self.service.remove_root(folder)
        else:
            self.library.remove_root(folder)

    def model(self) -> ModelManifest:
        """The model the open library uses (the bundled one unless the settings chose another)."""
        return self.library.manifest

    def check_model(self, spec: str) -> ModelManifest:
        """The manifest of a model id or folder; raises ModelError with the reason when unusable."""
        return self.library.check_model(spec)

    def apply_rules(self, rules: IgnoreRules) -> None:
        """New exclusions and file types: rescans every folder so the library follows them."""
        if self.service:
            self.service.set_ignore(rules)
        else:
            self.library.ignore = rules

    def rebuild(self) -> None:
        """Re-read every file into fresh indexes (nothing is embedded twice: the vector cache stays)."""
        if self.service:
            self.service.run_exclusive(Library.rebuild).result(JOB_TIMEOUT_S)
            self.service.rescan()
        else:
            self.library.rebuild()
            self.library.index()

    problem = ""      # set when there is no library: the dialog then offers only what needs none

    def clear(self) -> None:
        """Forget every folder and everything indexed (the files themselves are untouched)."""
        if self.service:
            self.service.run_exclusive(Library.clear).result(JOB_TIMEOUT_S)
        else:
            self.library.clear()


class NoLibraryBackend:
    """The library did not open (a broken model, an unusable data folder): what can be fixed without
    it (the model, the data location) stays editable; folders and the index wait for a library."""

    def __init__(self, problem: str, data_dir: str | None = None) -> None:
        self.problem = f"The library did not open: {problem}"
        self.library = None
        self.service = None
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
