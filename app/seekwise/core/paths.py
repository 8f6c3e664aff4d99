"""Every on-disk location of a library comes from here, so tests and users can move it whole."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

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

    def ensure(self) -> "LibraryPaths":
        """Create the data dir readable by its owner only (it holds the text of private files)."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            os.chmod(self.root, 0o700)
        except OSError:  # e.g. a folder on a filesystem without modes
            pass
        return self

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
    def lexical(self) -> Path:
        return self.root / "lexical.sqlite"
