"""The .deb, proven on this machine: build, install, use (CLI and GUI) under a clean HOME, purge.

Root, dpkg and apt-get are needed and the machine's package set is changed, so it runs only on
request: `SEEKWISE_PACKAGING_TESTS=1 python -m pytest tests/packaging -v -p no:cacheprovider`.
SEEKWISE_PACKAGING_REUSE=1 installs an existing dist/seekwise_<version>_amd64.deb instead of
building one (packaging/build_linux.sh takes a few minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

import makedocs
from seekwise import __version__

ROOT = Path(__file__).resolve().parents[2]
DEB = ROOT / "dist" / f"seekwise_{__version__}_amd64.deb"
BIN = Path("/usr/bin")

pytestmark = pytest.mark.skipif(
    os.environ.get("SEEKWISE_PACKAGING_TESTS") != "1" or sys.platform != "linux"
    or not hasattr(os, "geteuid") or os.geteuid() != 0
    or not all(shutil.which(t) for t in ("dpkg", "dpkg-deb", "apt-get", "readelf")),
    reason="packaging test: set SEEKWISE_PACKAGING_TESTS=1 and run as root with dpkg and apt-get")


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} -> {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def status_of(package: str) -> str:
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return proc.stdout if proc.returncode == 0 else "not known"


@pytest.fixture(scope="module")
def deb() -> Path:
    if os.environ.get("SEEKWISE_PACKAGING_REUSE") == "1" and DEB.is_file():
        return DEB
    env = {**os.environ, "SEEKWISE_NO_LINTIAN": "1"}
    run(["bash", str(ROOT / "packaging" / "build_linux.sh")], env=env, timeout=3600)
    assert DEB.is_file()
    return DEB


@pytest.fixture(scope="module")
def installed(deb: Path):
    """Install with apt (which pulls the Depends), yield the package's file list, purge at the end."""
    assert "installed" not in status_of("seekwise").split()[-1:], "seekwise is already installed here"
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "install", "-y", "--no-install-recommends", str(deb)], env=apt_env, timeout=1800)
    files = run(["dpkg", "-L", "seekwise"]).stdout.split("\n")
    yield [Path(f) for f in files if f.startswith("/")]
    if status_of("seekwise") != "not known":  # a test failed before the purge test ran
        subprocess.run(["apt-get", "remove", "--purge", "-y", "seekwise"], env=apt_env, capture_output=True)


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> dict[str, str]:
    """A clean HOME: no XDG variables, so every default path lands inside it."""
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "SEEKWISE_", "QT_", "PYTHON"))}
    env.update(HOME=str(home), PATH="/usr/bin:/bin", LANG="C.UTF-8", QT_QPA_PLATFORM="offscreen")
    return env


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> Path:
    """The small corpus plus a PDF and a DOCX, which the bundle must extract in its spawned worker."""
    dest = tmp_path_factory.mktemp("docs") / "docs"
    shutil.copytree(ROOT / "tests" / "data" / "corpus", dest)
    (dest / "lease-terms.pdf").write_bytes(makedocs.pdf(
        ["Lease terms\nThe landlord holds the security bond until the keys are returned.\n"
         "The bond is refunded within fourteen days of the end of the lease."]))
    (dest / "garden-plan.docx").write_bytes(makedocs.docx(
        makedocs.w_p("Garden plan") + makedocs.w_p("Plant the courgettes out in late May, after the last frost.")))
    return dest


def test_installed_layout(installed):
    assert Path("/opt/seekwise/seekwise").is_file() and Path("/opt/seekwise/seekwise-gui").is_file()
    assert (BIN / "seekwise").resolve() == Path("/opt/seekwise/seekwise")
    assert (BIN / "seekwise-gui").resolve() == Path("/opt/seekwise/seekwise-gui")
    share = Path("/usr/share")
    for path in ("applications/seekwise.desktop", "metainfo/app.seekwise.Seekwise.metainfo.xml",
                 "icons/hicolor/scalable/apps/seekwise.svg", "icons/hicolor/16x16/apps/seekwise.png",
                 "icons/hicolor/512x512/apps/seekwise.png"):
        assert share / path in installed, path


def test_version(installed, user):
    assert run([str(BIN / "seekwise"), "--version"], env=user).stdout.strip() == f"seekwise {__version__}"


def test_index_and_search(installed, user, docs):
    home = Path(user["HOME"])
    run([str(BIN / "seekwise"), "index", str(docs), "--quiet"], env=user)
    status = json.loads(run([str(BIN / "seekwise"), "status", "--json"], env=user).stdout)
    text = json.dumps(status)
    assert str(home / ".local" / "share" / "seekwise") in text        # the data dir follows HOME
    assert "/opt/seekwise/" in text                                   # the bundled model, found frozen

    def first(query: str) -> str:
        out = run([str(BIN / "seekwise"), "search", "--json", "-k", "3", query], env=user).stdout
        return Path(json.loads(out.splitlines()[0])["path"]).name

    assert first("how do I get my deposit back") in ("tenancy-agreement.txt", "lease-terms.pdf")
    assert first("when is the security bond refunded") == "lease-terms.pdf"       # PDF: worker process
    assert first("when to plant courgettes") == "garden-plan.docx"                # DOCX: worker process


def execs(log: Path) -> list[tuple[int, str, dict[str, str]]]:
    """(pid, program, environment) of every execve in an `strace -f -v -e trace=execve` log."""
    import re

    found = []
    for line in log.read_text().splitlines():
        pid, _, call = line.partition(" ")
        if not call.startswith("execve(") or not pid.isdigit():
            continue
        tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\[|\]', call)
        program, lists, current = tokens[0][1:-1], [], None
        for tok in tokens[1:]:
            if tok == "[":
                current = []
            elif tok == "]":
                lists.append(current)
            elif current is not None:
                current.append(tok[1:-1])
            if len(lists) == 2:
                break
        env = dict(e.split("=", 1) for e in lists[1] if "=" in e)
        found.append((int(pid), program, env))
    return found


@pytest.mark.skipif(not shutil.which("strace"), reason="strace shows the environment each program starts with")
@pytest.mark.parametrize("outer", [None, "/usr/local/lib/seekwise-test"])
def test_programs_it_starts_get_the_systems_library_path(installed, user, docs, tmp_path, outer):
    """The bootloader puts /opt/seekwise/_internal first in LD_LIBRARY_PATH; programs Seekwise starts
    (xdg-open, a PDF viewer) must not inherit it, while the bundle's own spawned extraction worker
    (here: the PDF and the DOCX) must still get it. /proc/PID/environ would not tell: it shows a
    process's environment as it started, not as the launcher changed it; strace shows what each
    child is given. The launcher's /bin/sh hop is such a child started with the user's environment."""
    env = dict(user)
    if outer:
        env["LD_LIBRARY_PATH"] = outer
    log = tmp_path / "execve.log"
    proc = run(["strace", "-f", "-qq", "-v", "-s", "4096", "-e", "trace=execve", "-o", str(log),
                str(BIN / "seekwise"), "index", "--data-dir", str(tmp_path / "lib"), "--quiet", str(docs)], env=env)
    assert " 0 failed" in proc.stdout + proc.stderr
    calls = execs(log)
    main_pid = calls[0][0]
    children = [(prog, e) for pid, prog, e in calls if pid != main_pid]  # not the bootloader's own re-exec
    outside = [(prog, e) for prog, e in children if not prog.startswith("/opt/seekwise/")]
    bundle = [(prog, e) for prog, e in children if prog == "/opt/seekwise/seekwise"]
    assert outside and bundle, calls
    for prog, e in outside:
        assert e.get("LD_LIBRARY_PATH") == outer, (prog, e.get("LD_LIBRARY_PATH"))
        assert "LD_LIBRARY_PATH_ORIG" not in e
    for prog, e in bundle:
        assert e.get("LD_LIBRARY_PATH") == ":".join(filter(None, ["/opt/seekwise/_internal", outer])), e


def test_gui_screenshot(installed, user, docs, tmp_path):
    png = tmp_path / "window.png"
    run([str(BIN / "seekwise-gui"), "--screenshot", str(png), "--query", "how do I get my deposit back"],
        env=user, timeout=180)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1180, 740) and len(data) > 20_000   # a rendered window, not a blank
    shutil.copy(png, ROOT / "dist" / "installed-window.png")       # to look at


def test_purge_leaves_nothing(installed):
    run(["apt-get", "remove", "--purge", "-y", "seekwise"], env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    assert status_of("seekwise") == "not known" or "not-installed" in status_of("seekwise")
    assert not Path("/opt/seekwise").exists()
    assert not os.path.lexists(BIN / "seekwise") and not os.path.lexists(BIN / "seekwise-gui")
    left = [p for p in installed if os.path.lexists(p) and not p.is_dir()]
    left += [p for p in installed if p.is_dir() and (str(p).startswith("/opt/seekwise")
                                                      or p.name == "seekwise")]
    assert not left, f"left behind: {left[:10]}"
