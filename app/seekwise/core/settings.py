"""The user's choices (folders' exclusions, file types, model, threads, hotkey, ...) as a TOML file.

TOML because people open it in an editor; read with tomllib, written with tomli-w. Keys we do not
know are written back as read, so a newer version's settings survive an older one. Writes are
atomic (a temp file renamed over the old one). A file we cannot read is moved aside to
`settings.toml.bad` and the defaults are used, with the reason in `Settings.problem`: never a crash.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from seekwise.core.paths import DATA_DIR_ENV, default_config_dir

if TYPE_CHECKING:   # loaded where used: `seekwise search` reads the settings and needs neither
    from seekwise.core.ignore import IgnoreRules

log = logging.getLogger(__name__)

FILE_NAME = "settings.toml"
DEFAULT_HOTKEY = "Ctrl+Alt+Space"


@dataclass
class Settings:
    """Defaults are what a fresh install does. `extra` holds keys this version does not know."""

    excludes: dict[str, list[str]] = field(default_factory=dict)  # folder -> glob patterns (see core.ignore)
    gitignore: bool = False              # also honour .gitignore files inside the folders
    skip_types: list[str] = field(default_factory=list)  # format families left out: "pdf", "docx", ...
    model: str = ""                      # model id or folder; "" = the bundled one
    background_threads: int = 1          # model threads while indexing in the background
    pause_on_battery: bool = True
    hotkey: str = DEFAULT_HOTKEY
    start_at_login: bool = False
    data_dir: str = ""                   # "" = the platform's data folder (or SEEKWISE_DATA_DIR)
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    problem: str = field(default="", compare=False)  # why the file was not (fully) read; not saved

    def ignore_rules(self) -> IgnoreRules:
        """What scans and the watcher leave out, from these settings."""
        from seekwise.core.ignore import IgnoreRules

        return IgnoreRules(gitignore=self.gitignore, folders=self.excludes, skip_families=self.skip_types)

    def library_dir(self, explicit: str | os.PathLike | None = None) -> str | None:
        """The data dir to open: an explicit one, else SEEKWISE_DATA_DIR, else ours, else None (default)."""
        if explicit:
            return os.fspath(explicit)
        if os.environ.get(DATA_DIR_ENV):
            return None  # LibraryPaths reads it
        return self.data_dir or None

    def model_spec(self, explicit: str | None = None) -> str | None:
        """--model, else SEEKWISE_MODEL (resolve_model reads it), else ours, else the bundled one."""
        if explicit:
            return explicit
        if os.environ.get("SEEKWISE_MODEL"):
            return None
        return self.model or None


_KNOWN = {f.name: f for f in fields(Settings) if f.name not in ("extra", "problem")}


def settings_path(config_dir: str | os.PathLike | None = None) -> Path:
    return Path(config_dir) / FILE_NAME if config_dir else default_config_dir() / FILE_NAME


def load(path: str | os.PathLike | None = None) -> Settings:
    """The saved settings, or the defaults (no file yet, or one we cannot read: see `problem`)."""
    path = Path(path) if path else settings_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings()
    except OSError as exc:
        return Settings(problem=f"Cannot read the settings file {path} ({exc}); using the defaults.")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        bad = path.with_name(path.name + ".bad")
        try:
            os.replace(path, bad)
            kept = f"it was kept as {bad}"
        except OSError as move_exc:
            kept = f"it could not be moved aside ({move_exc})"
        message = f"The settings file {path} is damaged ({exc}); {kept} and the defaults are used."
        log.warning("%s", message)
        return Settings(problem=message)
    return from_dict(data)


def from_dict(data: dict[str, Any]) -> Settings:
    """Known keys with the right types are taken, others are kept in `extra`; a wrong type is reported."""
    settings = Settings()
    wrong = []
    for key, value in data.items():
        if key not in _KNOWN:
            settings.extra[key] = value
            continue
        checked = _check(key, value)
        if checked is None:
            wrong.append(key)
        else:
            setattr(settings, key, checked)
    if wrong:
        settings.problem = f"Settings ignored (wrong kind of value): {', '.join(sorted(wrong))}."
        log.warning("%s", settings.problem)
    return settings


def _check(key: str, value: Any) -> Any:
    default = getattr(Settings(), key)
    if key == "excludes":
        if isinstance(value, dict) and all(isinstance(v, list) and all(isinstance(p, str) for p in v)
                                           for v in value.values()):
            return {str(k): list(v) for k, v in value.items()}
        return None
    if isinstance(default, list):
        return list(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else None
    if isinstance(default, bool):
        return value if isinstance(value, bool) else None
    if isinstance(default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None
    return value if isinstance(value, str) else None


def to_dict(settings: Settings) -> dict[str, Any]:
    out = {name: getattr(settings, name) for name in _KNOWN}
    for key, value in settings.extra.items():
        out.setdefault(key, value)
    return out


def save(settings: Settings, path: str | os.PathLike | None = None) -> Path:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    import tempfile

    import tomli_w

    path = Path(path) if path else settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = tomli_w.dumps(to_dict(settings))
    fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def file_types() -> list[tuple[str, list[str]]]:
    """Every format family the indexer reads, with its file name endings, for a settings page."""
    from seekwise.core.extract.registry import FAMILIES

    return [(family.name, sorted(family.extensions)) for family in FAMILIES]
