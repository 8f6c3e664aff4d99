"""The user's exclusions and file types reach real index runs (Library, IndexService, the CLI);
clearing and rebuilding the index through the service's worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from seekwise.core import settings
from seekwise.core.library import Library
from seekwise.core.service import IndexService
from seekwise.core.settings import Settings

APP = Path(__file__).parents[2] / "app"


def indexed(lib: Library) -> set[str]:
    return {os.path.relpath(rec.path, lib.roots()[0]) for rec in lib.store.iter_files()} if lib.roots() else set()


def test_exclusions_and_file_types_leave_files_out(tmp_path, corpus):
    root = str(corpus.resolve())
    prefs = Settings(excludes={root: ["code/", "tomatoes.*"]}, skip_types=["html"])
    with Library(tmp_path / "lib", threads=2, ignore=prefs.ignore_rules()) as lib:
        lib.index([corpus])
        got = indexed(lib)
        assert "tenancy-agreement.txt" in got and "notes/sourdough.md" in got
        assert not {"code/retry.py", "notes/tomatoes.txt", "notes/bicycle.html"} & got
        assert not [h for h in lib.search("bicycle", k=10, mode="lexical") if h.path.endswith("bicycle.html")]
        # lifting the rules brings them in; setting them again takes them out of the library
        lib.ignore = Settings().ignore_rules()
        lib.index()
        assert {"code/retry.py", "notes/tomatoes.txt", "notes/bicycle.html"} <= indexed(lib)
        lib.ignore = prefs.ignore_rules()
        report = lib.index()
        assert report.files_removed == 3 and "code/retry.py" not in indexed(lib)


def test_service_takes_new_rules_and_clears_and_rebuilds(tmp_path, corpus):
    with Library(tmp_path / "lib", threads=2) as lib:
        lib.add_root(corpus)
        with IndexService(lib, watch=False) as service:
            assert service.wait_idle(120)
            assert "code/retry.py" in indexed(lib)
            service.set_ignore(Settings(skip_types=["code"]).ignore_rules())
            assert service.wait_idle(60)
            assert "code/retry.py" not in indexed(lib) and "tenancy-agreement.txt" in indexed(lib)

            service.pause()  # jobs run even while paused
            vectors = lib.store.counts()["vectors"]
            service.run_exclusive(Library.rebuild).result(60)
            assert lib.store.counts()["files"] == 0 and lib.store.counts()["vectors"] == vectors
            assert lib.roots() == [str(corpus.resolve())]
            assert not (lib.paths.root / "ann").exists()
            service.resume()
            service.rescan()
            assert service.wait_idle(60)
            assert service.state().last_report.chunks_embedded == 0  # everything came from the cache
            assert lib.search("deposit refund when moving home", k=3)[0].path.endswith("tenancy-agreement.txt")

            service.run_exclusive(Library.clear).result(60)
            assert lib.roots() == [] and lib.store.counts() == {"files": 0, "chunks": 0, "vectors": 0, "problems": 0}
            assert lib.search("deposit", k=3) == []


def test_cli_index_honours_saved_settings(tmp_path, corpus):
    conf = tmp_path / "conf"
    settings.save(Settings(excludes={str(corpus.resolve()): ["notes/"]}), settings.settings_path(conf))
    env = dict(os.environ, PYTHONPATH=str(APP), SEEKWISE_CONFIG_DIR=str(conf))
    env.pop("SEEKWISE_DATA_DIR", None)
    out = subprocess.run([sys.executable, "-m", "seekwise", "index", "--data-dir", str(tmp_path / "lib"),
                          "--threads", "2", "-q", str(corpus)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    with Library(tmp_path / "lib", readonly=True) as lib:
        assert indexed(lib) == {"tenancy-agreement.txt", "code/retry.py"}
