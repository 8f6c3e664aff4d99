"""Every on-disk location of a library comes from here, so tests and users can move it whole."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from seekwise.core.errors import StoreError

log = logging.getLogger(__name__)

APP_NAME = "seekwise"
DATA_DIR_ENV = "SEEKWISE_DATA_DIR"
CONFIG_DIR_ENV = "SEEKWISE_CONFIG_DIR"


def default_data_dir() -> Path:
    """The platform's per-user data folder, unless SEEKWISE_DATA_DIR says otherwise."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_dir() -> Path:
    """Where the user's settings live (platform config folder), unless SEEKWISE_CONFIG_DIR says otherwise."""
    env = os.environ.get(CONFIG_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class LibraryPaths:
    """The files of one library, all under one data directory."""

    root: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike | None = None) -> "LibraryPaths":
        root = Path(data_dir).expanduser() if data_dir else default_data_dir()
        return cls(root.absolute())

    # What Seekwise keeps in a data dir: a folder holding only these is (what is left of) a library.
    OWN_NAMES = ("store.lmdb", "store.lmdb-lock", "writer.lock", "ann", "lexical.sqlite", "lexical.sqlite-wal",
                 "lexical.sqlite-shm", "models", "folders.json", "folders.json.tmp", "repair-salvage.started",
                 "verified-models.json")

    def ensure(self) -> "LibraryPaths":
        """Make the data dir, readable by its owner only (it holds the text of private files). A folder
        that exists is the user's: its modes are left alone, and one holding other files is refused."""
        self.check()
        if not self.root.exists():
            self.root.mkdir(parents=True, mode=0o700)
            try:
                os.chmod(self.root, 0o700)          # mkdir's mode is filtered by the umask
            except OSError:  # e.g. a folder on a filesystem without modes
                pass
        elif not self.store.exists() and not self.is_own_leftovers():
            raise StoreError(f"{self.root} is not a Seekwise library and is not empty: choose an empty or "
                             "new folder for the library.")
        return self

    def check(self) -> None:
        """A data dir that cannot be one (a file, a folder under a file) is said plainly."""
        for place in (self.root, *self.root.parents):
            if place.exists() or place.is_symlink():
                if not place.is_dir():
                    what = "the data dir" if place == self.root else f"a folder above the data dir {self.root}"
                    raise StoreError(f"{place} is a file, not a folder, so it cannot be {what}: choose a "
                                     "folder for the library (--data-dir).")
                return

    def is_own_leftovers(self) -> bool:
        """Only files Seekwise makes (or none): a new library may start here."""
        try:
            names = os.listdir(self.root)
        except OSError:
            return False
        return all(n in self.OWN_NAMES or ".damaged" in n or n.startswith(("seekwise-salvage-", "verified-models.json"))
                   for n in names)

    def has_indexes(self) -> bool:
        """The derived indexes are there: a library was built here, so an empty store is damage."""
        return self.lexical.exists() or (self.root / "ann").is_dir()

    @property
    def store(self) -> Path:
        return self.root / "store.lmdb"

    @property
    def writer_lock(self) -> Path:
        return self.root / "writer.lock"

    @property
    def models(self) -> Path:
        """Where a user can drop model folders of their own."""
        return self.root / "models"

    def ann_dir(self, model_version: str) -> Path:
        return self.root / "ann" / model_version

    @property
    def verified_models(self) -> Path:
        """Which model files hashed right, and as what (embedding.manifest.verify_files): derived."""
        return self.root / "verified-models.json"

    @property
    def lexical(self) -> Path:
        return self.root / "lexical.sqlite"


def drop_derived(paths: "LibraryPaths") -> None:
    """Delete the indexes derived from the store (the ANN folder, the keyword index and its WAL): they
    are rebuilt from it. A file held open elsewhere (Windows) is left: it is reconciled instead."""
    import shutil   # here, as in set_aside and save_json_quietly: `seekwise search` imports this module

    shutil.rmtree(paths.root / "ann", ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        target = Path(str(paths.lexical) + suffix)
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        except OSError as exc:
            log.info("cannot delete %s: %s", target, exc)


def set_aside(path: Path) -> Path:
    """Rename a damaged derived file or folder to NAME.damaged (replacing an older one): kept to look
    at, out of the way of the one rebuilt in its place."""
    import shutil

    aside = path.with_name(path.name + ".damaged")
    if aside.is_dir() and not aside.is_symlink():
        shutil.rmtree(aside, ignore_errors=True)
    elif aside.exists() or aside.is_symlink():
        aside.unlink()
    os.replace(path, aside)
    return aside


def make_folder(folder: Path, root: Path) -> None:
    """mkdir -p for a derived folder under the data dir, setting aside any file in its way."""
    for place in [folder, *folder.parents]:
        if place == root or root not in place.parents:
            break
        if (place.exists() or place.is_symlink()) and not place.is_dir():
            set_aside(place)
    folder.mkdir(parents=True, exist_ok=True)


def save_json_quietly(path: Path, data: object) -> bool:
    """Write a small derived record atomically (a reader never sees half of it); False, with nothing
    left behind, where the folder cannot be written: the record is only a saving, never the truth."""
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        log.debug("%s not saved: %s", path, exc)
        return False
    return True
