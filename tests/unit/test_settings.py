"""Settings: TOML round-trip, unknown keys kept, a damaged file set aside, rules built from them."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import tomllib

from hypothesis import given, settings as hsettings, strategies as st

from seekwise.core import settings
from seekwise.core.paths import CONFIG_DIR_ENV
from seekwise.core.settings import Settings


def test_defaults_when_there_is_no_file(tmp_path):
    s = settings.load(tmp_path / "settings.toml")
    assert s == Settings() and s.problem == ""


def test_round_trip_with_every_field(tmp_path):
    path = tmp_path / "cfg" / "settings.toml"
    s = Settings(excludes={"/home/ann/Docs": ["*.log", "drafts/"], 'C:\\Users\\ann "x"': ["tmp*"]},
                 gitignore=True, skip_types=["pdf", "docx"], model="/opt/models/e5", background_threads=3,
                 pause_on_battery=False, hotkey="Meta+Space", start_at_login=True, data_dir="/data/sw")
    settings.save(s, path)
    back = settings.load(path)
    assert back == s and back.problem == ""
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # the temp file was renamed


def test_config_dir_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "conf"))
    settings.save(Settings(hotkey="Ctrl+Shift+F"))
    assert (tmp_path / "conf" / "settings.toml").is_file()
    assert settings.load().hotkey == "Ctrl+Shift+F"


def test_unknown_keys_survive_a_save(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('hotkey = "Alt+F1"\nfuture_flag = true\n[window]\nwidth = 800\n'
                    'when = 2026-01-02T03:04:05\n[window.inner]\nx = [1, 2.5]\n')
    s = settings.load(path)
    assert s.hotkey == "Alt+F1" and s.extra["window"]["width"] == 800
    s.hotkey = "Alt+F2"
    settings.save(s, path)
    data = tomllib.loads(path.read_text())
    assert data["hotkey"] == "Alt+F2" and data["future_flag"] is True
    assert data["window"] == {"width": 800, "when": dt.datetime(2026, 1, 2, 3, 4, 5), "inner": {"x": [1, 2.5]}}


def test_a_damaged_file_is_set_aside_and_defaults_used(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('hotkey = "Ctrl+\nthis is not toml ===')
    s = settings.load(path)
    assert s == Settings()
    assert "damaged" in s.problem and str(path) + ".bad" in s.problem
    assert (tmp_path / "settings.toml.bad").read_text().startswith('hotkey = "Ctrl+')
    assert not path.exists()
    settings.save(s, path)  # the next save writes a good file again
    assert settings.load(path).problem == ""


def test_binary_garbage_is_damaged_too(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert "damaged" in settings.load(path).problem


def test_a_wrong_type_keeps_the_default_and_says_so(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('background_threads = "many"\nskip_types = "pdf"\ngitignore = true\n')
    s = settings.load(path)
    assert s.background_threads == 1 and s.skip_types == [] and s.gitignore is True
    assert "background_threads" in s.problem and "skip_types" in s.problem


def test_rules_from_settings(tmp_path):
    docs = tmp_path / "docs"
    s = Settings(excludes={str(docs): ["drafts/", "*.log"]}, skip_types=["pdf"], gitignore=True)
    rules = s.ignore_rules()
    m = rules.matcher(str(docs))
    assert m.ignored_entry(str(docs / "drafts"), True)
    assert m.ignored_entry(str(docs / "a.log"), False)
    assert m.ignored_entry(str(docs / "paper.PDF"), False)
    assert not m.ignored_entry(str(docs / "notes.txt"), False)
    other = rules.matcher(str(tmp_path / "other"))  # patterns are per folder; types are everywhere
    assert not other.ignored_entry(str(tmp_path / "other" / "a.log"), False)
    assert other.ignored_entry(str(tmp_path / "other" / "b.pdf"), False)
    assert rules.gitignore


def test_library_dir_and_model_precedence(monkeypatch):
    monkeypatch.delenv("SEEKWISE_DATA_DIR", raising=False)
    monkeypatch.delenv("SEEKWISE_MODEL", raising=False)
    s = Settings(data_dir="/data/sw", model="e5")
    assert s.library_dir("/explicit") == "/explicit" and s.library_dir() == "/data/sw"
    assert s.model_spec("m") == "m" and s.model_spec() == "e5"
    monkeypatch.setenv("SEEKWISE_DATA_DIR", "/env")
    monkeypatch.setenv("SEEKWISE_MODEL", "envmodel")
    assert s.library_dir() is None and s.model_spec() is None  # the environment wins; core reads it
    assert Settings().library_dir() is None


_keys = st.text(min_size=0, max_size=8)
_unknown_keys = _keys.filter(lambda key: key not in settings.to_dict(Settings()))
_scalars = st.one_of(st.booleans(), st.integers(-2**63, 2**63 - 1), st.text(max_size=20),
                     st.floats(allow_nan=False), st.datetimes(), st.dates())
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                         st.dictionaries(_keys, inner, max_size=3)), max_leaves=8)


@hsettings(max_examples=150, deadline=None)
@given(st.dictionaries(_unknown_keys, _values, max_size=5))
def test_any_unknown_keys_survive_a_save_and_load(data):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "settings.toml")
        settings.save(settings.from_dict(data), path)
        back = settings.load(path)
        with open(path, "rb") as fh:
            written = tomllib.load(fh)
    assert back.problem == "" and back.extra == data
    assert {key: written[key] for key in data} == data
