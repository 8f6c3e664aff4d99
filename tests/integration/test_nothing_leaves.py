"""Nothing leaves the machine: every entry point, traced with strace, sends nothing over the network
and writes nowhere but the library, the settings folder and the temp folder.

The programs run as a user runs them (the `seekwise` and `seekwise-gui` scripts, `python -m
seekwise`, packaging/launcher.py, the bundle's entry script), with the spawned extraction worker
(an RTF file in the corpus needs it), each with a fresh HOME, XDG folders, settings, library and
TMPDIR of its own and no ORT_* variable from outside, so a library's telemetry that switches
itself on (ONNX Runtime's did) shows up as a write under HOME or a DNS query.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from seekwise.core.library import Library

DATA = Path(__file__).parent.parent / "data"
REPO = Path(__file__).resolve().parent.parent.parent
SYSCALLS = ("execve,connect,bind,sendto,sendmsg,sendmmsg,open,openat,creat,mkdir,mkdirat,rename,renameat,renameat2,"
            "unlink,unlinkat,link,linkat,symlink,symlinkat")
WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE"}
# Kernel-local sockets: nothing on them leaves the machine.
LOCAL_SOCKETS = ("UNIX", "NETLINK")
RTF_TOKEN = "Zanzibarquux"


def _strace_mode() -> list[str] | str:
    """strace's options, or why the trace cannot run here."""
    if shutil.which("strace") is None:
        return "strace is not installed (apt-get install strace)"
    last = ""
    for extra in (["--seccomp-bpf"], []):  # seccomp filtering: only the traced calls stop the program
        probe = subprocess.run(["strace", "-f", *extra, "-e", "trace=openat", "-o", os.devnull, "true"],
                               capture_output=True, text=True)
        if probe.returncode == 0:
            return ["strace", "-f", *extra, "-yy", "-e", f"trace={SYSCALLS}"]
        last = probe.stderr.strip()[-300:]
    return f"strace cannot trace here (ptrace not permitted?): {last}"


# -- reading a trace --------------------------------------------------------------------------------

_LINE = re.compile(r"^(\d+)\s+(\w+)\((.*)$")
_FD = re.compile(r"^(?:AT_FDCWD|-?\d+)(?:<(.*)>)?$")


def _split_args(text: str) -> tuple[list[str], str]:
    """strace's argument list at top level, and what follows the closing parenthesis."""
    args, depth, cur, i, quote = [], 0, [], 0, False
    while i < len(text):
        c = text[i]
        if quote:
            cur.append(c)
            if c == "\\":
                cur.append(text[i + 1] if i + 1 < len(text) else "")
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True
            cur.append(c)
        elif c in "{[" or (c == "<" and cur and (cur[-1].isdigit() or cur[-1] == "D")):
            depth += 1
            cur.append(c)
        elif c in "}]>" and depth:
            depth -= 1
            cur.append(c)
        elif c == "," and not depth:
            args.append("".join(cur).strip())
            cur = []
        elif c == ")" and not depth:
            args.append("".join(cur).strip())
            return [a for a in args if a], text[i + 1:]
        else:
            cur.append(c)
        i += 1
    args.append("".join(cur).strip())  # an unfinished call: its arguments are all there
    return [a for a in args if a], ""


def _string(arg: str) -> str:
    body = arg[1:-1] if arg.startswith('"') else arg
    return body.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode(
        "utf-8", "surrogateescape")


def _at(dirfd: str, arg: str, cwd: str) -> str:
    path = _string(arg)
    if os.path.isabs(path):
        return os.path.normpath(path)
    m = _FD.match(dirfd)
    base = m.group(1) if m and m.group(1) else cwd  # a relative path with no known folder: the cwd we gave
    return os.path.normpath(os.path.join(base, path))


@dataclass
class Event:
    pid: int
    call: str
    line: str


def read_trace(path: Path, cwd: str) -> tuple[list[tuple[str, str]], list[Event], set[int]]:
    """(written path, line) pairs, network events (AF_INET/AF_INET6 or an inet socket), and the pids."""
    writes: list[tuple[str, str]] = []
    network: list[Event] = []
    pids: set[int] = set()
    for line in path.read_text(errors="replace").splitlines():
        m = _LINE.match(line)
        if not m or "resumed>" in line:
            continue
        pid, call = int(m.group(1)), m.group(2)
        pids.add(pid)
        args, rest = _split_args(m.group(3).replace(" <unfinished ...>", ""))
        failed_exists = "= -1 EEXIST" in rest
        paths: list[str] = []
        if call in ("open", "creat") and args:
            if call == "creat" or WRITE_FLAGS & set(args[1].split("|")):
                paths.append(_at("AT_FDCWD", args[0], cwd))
        elif call == "openat" and len(args) >= 3:
            if WRITE_FLAGS & set(args[2].split("|")):
                paths.append(_at(args[0], args[1], cwd))
        elif call in ("mkdir", "unlink") and args:
            if not (call == "mkdir" and failed_exists):  # an existing folder: nothing was made
                paths.append(_at("AT_FDCWD", args[0], cwd))
        elif call in ("mkdirat", "unlinkat") and len(args) >= 2:
            if not (call == "mkdirat" and failed_exists):
                paths.append(_at(args[0], args[1], cwd))
        elif call == "rename" and len(args) >= 2:
            paths += [_at("AT_FDCWD", args[0], cwd), _at("AT_FDCWD", args[1], cwd)]
        elif call in ("renameat", "renameat2") and len(args) >= 4:
            paths += [_at(args[0], args[1], cwd), _at(args[2], args[3], cwd)]
        elif call in ("link", "symlink") and len(args) >= 2:
            paths.append(_at("AT_FDCWD", args[1], cwd))
        elif call == "linkat" and len(args) >= 4:
            paths.append(_at(args[2], args[3], cwd))
        elif call == "symlinkat" and len(args) >= 3:
            paths.append(_at(args[1], args[2], cwd))
        elif call in ("connect", "bind", "sendto", "sendmsg", "sendmmsg") and args:
            inet_address = re.search(r"sa_family=AF_INET6?\b", m.group(3)) is not None
            fd = _FD.match(args[0])
            kind = (fd.group(1) or "") if fd else ""
            # "socket:[inode]": strace could not tell the kind; an inet one still shows in its connect().
            inet_socket = bool(kind) and not kind.startswith(LOCAL_SOCKETS) and not kind.startswith("socket:")
            if inet_address or inet_socket:
                network.append(Event(pid, call, line))
        writes += [(p, line) for p in paths]
    return writes, network, pids


def spawned_workers(trace: Path) -> set[int]:
    """Pids of the processes multiprocessing spawned: Python re-run with --multiprocessing-fork."""
    return {int(m.group(1)) for m in re.finditer(r"^(\d+)\s+execve\(.*--multiprocessing-fork",
                                                 trace.read_text(errors="replace"), re.MULTILINE)}


def _first_pid(trace: Path) -> int:
    """The traced command's own pid: strace starts it first, so its exec is the trace's first line."""
    with trace.open() as fh:
        return int(fh.readline().split()[0])


def _inside(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


# -- the sandbox ------------------------------------------------------------------------------------

class Sandbox:
    """Fresh HOME, XDG folders, settings, library, TMPDIR and a copy of the corpus, all under one folder."""

    def __init__(self, base: Path, strace: list[str]) -> None:
        self.base = base
        self.strace = strace
        self.home = base / "home"
        self.xdg = {name: base / "xdg" / name.lower() for name in
                    ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR")}
        self.config = base / "config"
        self.data = base / "data"
        self.tmp = base / "tmp"
        self.cwd = base / "cwd"       # not an allowed folder: a write by relative path is caught
        self.traces = base / "traces"  # strace's own files, never the traced programs'
        self.docs = base / "docs"
        for d in (self.home, *self.xdg.values(), self.config, self.tmp, self.cwd, self.traces):
            d.mkdir(parents=True)
        self.xdg["XDG_RUNTIME_DIR"].chmod(0o700)
        shutil.copytree(DATA / "corpus", self.docs)
        # A family read in the isolation worker, so a spawned worker process is traced too.
        (self.docs / "notes" / "postcard.rtf").write_text(
            r"{\rtf1\ansi{\fonttbl\f0 Times;}\f0 Greetings from " + RTF_TOKEN + r" beach, wish you were here.}")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("XDG_", "SEEKWISE_", "ORT_", "QT_", "DISPLAY", "WAYLAND_", "DBUS_"))}
        self.env.update({k: str(v) for k, v in self.xdg.items()})
        self.env.update(HOME=str(self.home), TMPDIR=str(self.tmp), SEEKWISE_CONFIG_DIR=str(self.config),
                        SEEKWISE_DATA_DIR=str(self.data), PYTHONPATH=os.pathsep.join(sys.path),
                        QT_QPA_PLATFORM="offscreen",
                        # The interpreter's bytecode cache beside the sources is the test checkout's, not
                        # Seekwise's doing (an installed app's site-packages is not writable, the bundle has none).
                        PYTHONDONTWRITEBYTECODE="1")
        # The runtime folder holds the private sockets another `seekwise search` asks (removed at exit:
        # home_files() finds nothing new there afterwards).
        # Seekwise's own state folder holds the private log folder (seekwise.logfile, crashlog).
        self.logs = self.xdg["XDG_STATE_HOME"] / "seekwise"
        self.allowed = [str(self.data), str(self.config), str(self.tmp), str(self.xdg["XDG_RUNTIME_DIR"]),
                        str(self.logs)]
        self._home_before: dict[Path, set[str]] = {}

    def home_files(self) -> set[str]:
        return {str(p) for d in (self.home, *self.xdg.values()) for p in d.rglob("*")
                if not _inside(str(p), [str(self.logs)])}

    def telemetry_folders(self) -> list[Path]:
        """Where ONNX Runtime's telemetry kept its device id and events (it honours XDG_CACHE_HOME)."""
        return [p for p in (self.home / ".cache" / "Microsoft", self.xdg["XDG_CACHE_HOME"] / "Microsoft")
                if p.exists()]

    def traced(self, name: str, argv: list[str]) -> tuple[list[str], Path]:
        trace = self.traces / f"{name}.trace"
        self._home_before[trace] = self.home_files()
        return [*self.strace, "-o", str(trace), *argv], trace

    def run(self, name: str, argv: list[str], timeout: float = 120) -> tuple[subprocess.CompletedProcess, Path]:
        cmd, trace = self.traced(name, argv)
        done = subprocess.run(cmd, env=self.env, cwd=self.cwd, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        return done, trace

    def assert_stayed_home(self, trace: Path, also_allowed: tuple[str, ...] = ()) -> set[int]:
        """No network, no write outside the allowed folders, nothing new under HOME or the XDG folders."""
        writes, network, pids = read_trace(trace, str(self.cwd))
        assert pids, f"empty trace {trace}"
        dns = [e.line for e in network if re.search(r"htons\(53\)|:53\]", e.line)]
        assert not dns, "DNS lookups:\n" + "\n".join(dns[:10])
        assert not network, "network use:\n" + "\n".join(e.line for e in network[:10])
        allowed = [*self.allowed, *also_allowed]
        outside = sorted({f"{p}    <- {line}" for p, line in writes if not _inside(p, allowed)})
        assert not outside, "written outside the library, settings and temp folders:\n" + "\n".join(outside[:20])
        added = sorted(self.home_files() - self._home_before[trace])
        assert not added, f"left in HOME or the XDG folders: {added[:10]}"
        return pids


def _script(name: str) -> list[str]:
    """An installed console script, as a user runs it; else the same entry point through python."""
    path = Path(sys.executable).parent / name
    if path.exists():
        return [str(path)]
    module = "seekwise.gui.launch" if name == "seekwise-gui" else "seekwise.cli"
    return [sys.executable, "-c", f"from {module} import main; raise SystemExit(main())"]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Sandbox:
    """One sandbox, indexed once under strace (the index test reads that trace)."""
    mode = _strace_mode()
    if isinstance(mode, str):
        pytest.skip(mode)
    box = Sandbox(tmp_path_factory.mktemp("offline"), mode)
    box.index_run, box.index_trace = box.run("index", [*_script("seekwise"), "index", str(box.docs)])
    return box


def _lexical(box: Sandbox, word: str) -> set[str]:
    """File names a word finds, read from the library in this (untraced) process, as a second program."""
    with Library(box.data, readonly=True) as lib:
        return {os.path.basename(h.path) for h in lib.search(word, mode="lexical", mark=False)}


# -- the entry points -------------------------------------------------------------------------------

def test_index_with_its_extraction_worker_stays_on_the_machine(sandbox):
    assert "7 indexed" in sandbox.index_run.stdout, sandbox.index_run.stdout
    sandbox.assert_stayed_home(sandbox.index_trace)
    workers = spawned_workers(sandbox.index_trace)
    assert workers, "the extraction worker was not spawned (or not traced)"
    read_by = {int(line.split()[0]) for line in sandbox.index_trace.read_text().splitlines()
               if '/postcard.rtf"' in line}
    assert read_by & workers, "the RTF file was not read in the traced worker"
    assert "postcard.rtf" in _lexical(sandbox, RTF_TOKEN)


def test_search_through_the_bundles_entry_script_stays_on_the_machine(sandbox):
    """packaging/launcher.py is what the frozen executables run; the model loads for a hybrid search."""
    done, trace = sandbox.run("search", [sys.executable, str(REPO / "packaging" / "launcher.py"),
                                         "search", RTF_TOKEN, "beach holiday"])
    assert "postcard.rtf" in done.stdout
    sandbox.assert_stayed_home(trace)


def test_watch_with_edits_stays_on_the_machine(sandbox):
    docs = sandbox.docs
    assert _lexical(sandbox, "invoices") == {"tax-return.txt"} and _lexical(sandbox, "jitter") == {"retry.py"}
    cmd, trace = sandbox.traced("watch", [sys.executable, "-m", "seekwise", "watch"])
    err = sandbox.traces / "watch.stderr"
    with err.open("w") as err_file:
        proc = subprocess.Popen(cmd, env=sandbox.env, cwd=sandbox.cwd, stdout=subprocess.DEVNULL, stderr=err_file)
    try:
        deadline = time.monotonic() + 60
        while "watching" not in err.read_text():
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "watch did not start"
            time.sleep(0.1)
        # Edits from outside: a new file, a changed one, a deleted one, a renamed one. Whether the
        # watcher or the catch-up scan (it runs after watching starts) sees each, all get indexed.
        (docs / "notes" / "kestrel.txt").write_text("Quillfeatherkestrel hovering over the motorway verge.")
        with (docs / "notes" / "tomatoes.txt").open("a") as fh:
            fh.write("\nMarrowgourdling grows beside the tomatoes.\n")
        (docs / "notes" / "tax-return.txt").unlink()
        (docs / "code" / "retry.py").rename(docs / "code" / "backoff.py")
        while not (_lexical(sandbox, "Quillfeatherkestrel") == {"kestrel.txt"}
                   and "tomatoes.txt" in _lexical(sandbox, "Marrowgourdling")
                   and not _lexical(sandbox, "invoices")
                   and _lexical(sandbox, "jitter") == {"backoff.py"}):
            assert proc.poll() is None, err.read_text()
            assert time.monotonic() < deadline, "the edits were not indexed"
            time.sleep(0.3)
        os.kill(_first_pid(trace), signal.SIGINT)  # Ctrl+C to seekwise itself, not to strace
        assert proc.wait(timeout=60) == 0, err.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    sandbox.assert_stayed_home(trace)
    logged = (sandbox.logs / "log" / "seekwise-watch.log").read_text()    # paths, never the files' words
    assert "watch" in logged and "Quillfeatherkestrel" not in logged and "Marrowgourdling" not in logged


def test_gui_start_up_stays_on_the_machine(sandbox):
    probe = subprocess.run([sys.executable, "-c", "from PySide6.QtWidgets import QApplication; QApplication([])"],
                           env=sandbox.env, cwd=sandbox.cwd, capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"Qt cannot start offscreen here: {probe.stderr.strip()[-300:]}")
    shot = sandbox.base / "shot.png"  # asked for on the command line: the one file it may write elsewhere
    _, trace = sandbox.run("gui", [*_script("seekwise-gui"), "--data-dir", str(sandbox.data),
                                   "--query", "deposit", "--screenshot", str(shot)])
    assert shot.stat().st_size > 0
    sandbox.assert_stayed_home(trace, also_allowed=(str(shot),))


def test_no_telemetry_folder_after_every_program_ran(sandbox):
    """Last of the traced tests: whatever ran in this module, ONNX Runtime kept no device id anywhere."""
    assert not sandbox.telemetry_folders()


def test_the_trace_reader_sees_what_it_must(tmp_path):
    """The parser itself, on lines as strace -f -yy prints them (the checks are only as good as it)."""
    lines = [
        '10 openat(AT_FDCWD</c>, "/h/.cache/Microsoft/x/onnxruntime.db", O_RDWR|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0644) = 3',
        '10 openat(AT_FDCWD</c>, "/etc/resolv.conf", O_RDONLY|O_CLOEXEC <unfinished ...>',
        '10 openat(AT_FDCWD</c>, "/h/.config/x.ini", O_WRONLY|O_CREAT <unfinished ...>',
        '10 openat(5</d/ann>, "hnsw.bin.tmp", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 6</d/ann/hnsw.bin.tmp>',
        '11 renameat2(AT_FDCWD</c>, "rel", 7</e>, "x, y", RENAME_NOREPLACE) = 0',
        '11 mkdir("/h/exists", 0777) = -1 EEXIST (File exists)',
        '11 connect(8<UDP:[10.0.0.2:4000->10.255.255.53:53]>, {sa_family=AF_INET, sin_port=htons(53), '
        'sin_addr=inet_addr("10.255.255.53")}, 16) = 0',
        '11 sendto(8<UDP:[10.0.0.2:4000->10.255.255.53:53]>, "\\371\\300", 50, MSG_NOSIGNAL, NULL, 0) = 50',
        '12 connect(3<UNIX-STREAM:[1->2]>, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0',
        '12 sendmsg(4<NETLINK:[ROUTE:9]>, {msg_name={sa_family=AF_NETLINK}}, 0) = 20',
        '12 <... openat resumed>) = 9',
        '12 +++ exited with 0 +++',
    ]
    trace = tmp_path / "sample.trace"
    trace.write_text("\n".join(lines) + "\n")
    writes, network, pids = read_trace(trace, "/c")
    assert [p for p, _ in writes] == ["/h/.cache/Microsoft/x/onnxruntime.db", "/h/.config/x.ini", "/d/ann/hnsw.bin.tmp",
                                      "/c/rel", "/e/x, y"]
    assert [e.call for e in network] == ["connect", "sendto"]
    assert pids == {10, 11, 12}


def test_the_bundles_entry_script_turns_telemetry_off_before_importing_anything_of_ours():
    """The frozen executables run packaging/launcher.py: it must not rely on seekwise being imported
    first (PyInstaller's own start-up code runs before it)."""
    code = ("import os, runpy, sys; os.environ.pop('ORT_DISABLE_TELEMETRY', None); "
            f"runpy.run_path({str(REPO / 'packaging' / 'launcher.py')!r}, run_name='launcher'); "
            "print(os.environ.get('ORT_DISABLE_TELEMETRY'), 'seekwise' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "False"]
