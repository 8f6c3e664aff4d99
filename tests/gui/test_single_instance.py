"""One instance per library: a second claim fails and its message reaches the first, in-process and
from another process; a socket left by a crashed instance is recovered. And nothing leaves the machine's
user: the socket lives in a private folder, another user's folder, socket or process is never talked to
(nor makes the GUI exit silently), and SIGTERM leaves no socket behind."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from seekwise.gui import launch as gui_launch
from seekwise.gui.single_instance import SingleInstance, Unavailable

APP = str(Path(__file__).parents[2] / "app")

SECOND_LAUNCH = """
import sys
from PySide6.QtCore import QCoreApplication
from seekwise.gui.single_instance import SingleInstance
app = QCoreApplication([])
me = SingleInstance(sys.argv[1])
if me.claim():
    print("first")
else:
    print("sent" if me.send(sys.argv[2]) else "not sent")
"""

CRASHING_FIRST = """
import os, sys
from PySide6.QtCore import QCoreApplication
from seekwise.gui.single_instance import SingleInstance
app = QCoreApplication([])
me = SingleInstance(sys.argv[1])
assert me.claim()
print(me.server_name, flush=True)
os._exit(0)   # like a crash: nothing is cleaned up
"""


def run(script: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=APP, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_key_depends_on_the_data_dir(tmp_path):
    a, b = SingleInstance.key_for(tmp_path / "a"), SingleInstance.key_for(tmp_path / "b")
    assert a != b and a == SingleInstance.key_for(tmp_path / "a") and len(a) < 100


def test_two_in_one_process(qtbot, tmp_path):
    key = SingleInstance.key_for(tmp_path)
    first, second = SingleInstance(key), SingleInstance(key)
    assert first.claim() and first.listening
    assert not second.claim()
    with qtbot.waitSignal(first.message_received, timeout=5000) as got:
        assert second.send("show:deposit back")
    assert got.args == ["show:deposit back"]
    with qtbot.waitSignals([first.message_received] * 2, timeout=5000):
        assert second.send("background")
        assert second.send("show")
    first.release()
    assert second.claim()  # the first let go: the next launch is the first


def test_a_second_process_hands_over_its_request(qtbot, tmp_path):
    key = SingleInstance.key_for(tmp_path)
    first = SingleInstance(key)
    assert first.claim()
    with qtbot.waitSignal(first.message_received, timeout=30000) as got:
        proc = run(SECOND_LAUNCH, key, "show:how do I get my deposit back")
    out, err = proc.communicate(timeout=60)
    assert out.strip() == "sent", err
    assert got.args == ["show:how do I get my deposit back"]
    first.release()
    proc = run(SECOND_LAUNCH, key, "show")  # nobody listens now: that launch becomes the first
    out, err = proc.communicate(timeout=60)
    assert out.strip() == "first", err


def test_a_socket_left_by_a_crash_is_recovered(qtbot, tmp_path):
    key = SingleInstance.key_for(tmp_path)
    proc = run(CRASHING_FIRST, key)
    out, err = proc.communicate(timeout=60)
    assert out.strip(), err
    if sys.platform != "win32":  # a named pipe dies with its process; a Unix socket file stays
        assert Path(out.strip()).exists()
    survivor, other = SingleInstance(key), SingleInstance(key)
    assert survivor.claim()
    with qtbot.waitSignal(survivor.message_received, timeout=5000):
        assert other.send("show")
    survivor.release()


# -- nothing leaves the machine: the socket is ours and talks only to us ---------------------------

NOBODY = 65534
needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="acting as another user (nobody) needs root")
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_PEERCRED is Linux's")
unix_only = pytest.mark.skipif(sys.platform == "win32", reason="a named pipe has no folder or socket file")


@pytest.fixture
def short_tmp(tmp_path, monkeypatch):
    """A temp dir with a short path (a socket path must fit in ~104 bytes) and no XDG_RUNTIME_DIR,
    as on a machine without a login session; also Python's temp dir for this test (after tmp_path,
    which must not land in it)."""
    base = tempfile.mkdtemp(prefix="sw-", dir="/tmp")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", base)
    yield Path(base)
    shutil.rmtree(base, ignore_errors=True)


def listener(path: Path) -> socket.socket:
    """A squatter: a live Unix socket anyone may connect to."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    os.chmod(path, 0o777)
    sock.listen(8)
    sock.setblocking(False)
    return sock


def drained(sock: socket.socket) -> bytes:
    """What squatters were sent (connections waiting in their backlog included)."""
    got = b""
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return got
        conn.settimeout(1)
        try:
            while chunk := conn.recv(4096):
                got += chunk
        except OSError:
            pass
        conn.close()


def as_nobody(body) -> tuple[int, int]:
    """Fork a child that becomes uid nobody and runs body(write_fd); returns (pid, read_fd). The child
    only uses the os and socket modules (no Qt after fork) and always _exits."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            code = body(w)
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def reap(qtbot, pid: int, timeout: int = 20000) -> int:
    status = {}

    def done() -> bool:
        got, code = os.waitpid(pid, os.WNOHANG)
        if got:
            status["code"] = os.waitstatus_to_exitcode(code)
        return bool(got)
    qtbot.waitUntil(done, timeout=timeout)
    return status["code"]


def read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 4096):
        out += chunk
    os.close(fd)
    return out


def open_folder(base: Path) -> Path:
    """A folder anyone may enter, where only the uid checks stand between us and another user."""
    os.chmod(base, 0o711)
    folder = base / "shared"
    folder.mkdir()
    os.chmod(folder, 0o777)
    return folder


@unix_only
def test_a_private_folder_is_created_0700(short_tmp, tmp_path):
    old = os.umask(0o277)            # a umask that would leave the folder unwritable: mode is set, not hoped for
    try:
        key = SingleInstance.key_for(tmp_path / "lib")
    finally:
        os.umask(old)
    folder = short_tmp / f"seekwise-{os.getuid()}"
    st = os.lstat(folder)
    assert Path(key).parent == folder and stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == os.getuid() and len(key) < 100
    me = SingleInstance(key)
    assert me.claim() and me.listening and me.server_name == key
    me.release()
    assert not Path(key).exists()    # a clean quit leaves nothing behind


@unix_only
def test_a_private_runtime_dir_is_used_and_an_open_one_is_not(short_tmp, tmp_path, monkeypatch):
    runtime = short_tmp / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert Path(SingleInstance.key_for(tmp_path / "lib")).parent == runtime
    os.chmod(runtime, 0o777)         # others may plant a socket there: our own folder instead
    assert Path(SingleInstance.key_for(tmp_path / "lib")).parent == short_tmp / f"seekwise-{os.getuid()}"


SQUATS = ["open to other users", "a symbolic link", pytest.param("another user's", marks=needs_root)]


@unix_only
@pytest.mark.parametrize("squat", SQUATS)
def test_a_squatted_folder_is_not_used(qtbot, short_tmp, tmp_path, squat, capsys):
    data_dir = tmp_path / "lib"
    name = Path(SingleInstance.key_for(data_dir, temp_dir=str(tmp_path))).name   # the name, from a clean folder
    folder = short_tmp / f"seekwise-{os.getuid()}"
    if squat == "a symbolic link":   # to a private-looking folder someone else picked
        (short_tmp / "elsewhere").mkdir(mode=0o700)
        folder.symlink_to(short_tmp / "elsewhere")
    else:
        folder.mkdir()
        os.chmod(folder, 0o777 if squat == "open to other users" else 0o700)
        if squat == "another user's":
            os.chown(folder, NOBODY, NOBODY)
    squatter = listener(folder / name)
    try:
        with pytest.raises(Unavailable, match=str(folder)):
            SingleInstance.key_for(data_dir)
        instance = gui_launch._claim_instance(str(data_dir), "show:my tax return")
        assert instance is None      # not False: this launch runs (on its own) instead of leaving
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "cannot use the single-instance socket" in err[0] and str(folder) in err[0]
        assert drained(squatter) == b""
    finally:
        squatter.close()


@unix_only
def test_a_socket_file_of_another_kind_is_neither_used_nor_removed(short_tmp, tmp_path):
    key = SingleInstance.key_for(tmp_path / "lib")
    Path(key).write_text("not a socket")
    me = SingleInstance(key)
    assert me.claim() and not me.listening and "not a socket" in me.problem
    assert not me.send("show") and Path(key).read_text() == "not a socket"


@needs_root
@linux_only
def test_the_server_ignores_another_user(qtbot, short_tmp):
    key = str(open_folder(short_tmp) / "seekwise-test")
    first = SingleInstance(key)
    assert first.claim()
    os.chmod(key, 0o777)             # reachable by anyone: only SO_PEERCRED guards it now
    got: list[str] = []
    first.message_received.connect(got.append)

    def intrude(w: int) -> int:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(key)
        try:
            sock.sendall(b"show:what the other user searches for\n")
            closed = sock.recv(1) == b""         # the server hung up on us...
        except (ConnectionResetError, BrokenPipeError):
            closed = True                        # ...unread data and all, or before we wrote
        except OSError:
            closed = False
        os.write(w, b"closed" if closed else b"kept")
        return 0
    pid, r = as_nobody(intrude)
    assert reap(qtbot, pid) == 0
    assert read_all(r) == b"closed"
    with qtbot.waitSignal(first.message_received, timeout=5000):
        assert SingleInstance(key).send("show")   # our own launches still get through
    assert got == ["show"]
    first.release()


@needs_root
@linux_only
@pytest.mark.parametrize("socket_file", ["theirs", "chowned to us"])
def test_a_launch_tells_nothing_to_another_users_server(qtbot, short_tmp, socket_file):
    """Another user listening on our name: claim() does not give way to it (so the GUI does not exit
    0) and send() writes nothing, whether the socket file shows it (lstat) or only the peer's
    credentials do (SO_PEERCRED)."""
    key = str(open_folder(short_tmp) / "seekwise-test")

    def squat(w: int) -> int:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(key)
        os.chmod(key, 0o777)
        server.listen(8)
        os.write(w, b"ready\n")
        while True:
            conn, _ = server.accept()
            conn.settimeout(5)
            try:
                while chunk := conn.recv(4096):
                    os.write(w, chunk)
            except OSError:
                pass
            conn.close()
    pid, r = as_nobody(squat)
    try:
        assert os.read(r, 6) == b"ready\n"
        if socket_file == "chowned to us":
            os.chown(key, os.getuid(), os.getgid(), follow_symlinks=False)
        assert os.lstat(key).st_uid == (NOBODY if socket_file == "theirs" else os.getuid())
        me = SingleInstance(key)
        assert me.claim() and not me.listening and "another user" in me.problem
        other = SingleInstance(key)
        assert not other.send("show:my bank statements")
        assert "another user" in other.problem and "65534" in other.problem
        assert Path(key).exists()    # and the squatter's socket is not removed as if stale
        time.sleep(0.3)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    assert read_all(r) == b""        # not a byte reached the other user


@needs_root
@unix_only
def test_a_dead_socket_of_another_user_is_not_taken_over(qtbot, short_tmp):
    """Nobody answers, but the socket file is not ours: not "stale" to remove (lstat says whose it is)."""
    key = str(open_folder(short_tmp) / "seekwise-test")

    def leave_a_socket(w: int) -> int:
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind(key)
        return 0
    pid, r = as_nobody(leave_a_socket)
    assert reap(qtbot, pid) == 0 and os.lstat(key).st_uid == NOBODY
    read_all(r)
    me = SingleInstance(key)
    assert me.claim() and not me.listening and "belongs to another user" in me.problem
    assert os.lstat(key).st_uid == NOBODY


# -- a real seekwise-gui: a squatted folder, SIGTERM ------------------------------------------------

def gui_env(tmp_path: Path, temp_dir: Path) -> dict[str, str]:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    env.update(PYTHONPATH=APP, QT_QPA_PLATFORM="offscreen", HOME=str(home), TMPDIR=str(temp_dir),
               SEEKWISE_CONFIG_DIR=str(tmp_path / "config"))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):
        env[var] = str(home / sub)
        os.makedirs(env[var], exist_ok=True)
    return env


def launch(env: dict[str, str], data_dir: Path, err: Path, *extra: str) -> subprocess.Popen:
    script = Path(sys.executable).parent / "seekwise-gui"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "seekwise.gui.launch"]
    with open(err, "w") as stderr:
        return subprocess.Popen([*cmd, "--data-dir", str(data_dir), "--no-index", *extra], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)


def wait_for(what, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@unix_only
def test_sigterm_removes_the_socket_and_the_next_launch_is_first(short_tmp, tmp_path):
    env, data_dir = gui_env(tmp_path, short_tmp), tmp_path / "lib"
    key = Path(SingleInstance.key_for(data_dir))          # the GUI's, as its temp dir is the same
    first = launch(env, data_dir, tmp_path / "first.err")
    try:
        wait_for(lambda: key.is_socket() or first.poll() is not None)
        assert first.poll() is None, (tmp_path / "first.err").read_text()
        time.sleep(1)                # well into start-up (the library opening), not only at its end
        assert stop(first) == 0, (tmp_path / "first.err").read_text()
    finally:
        stop(first)
    assert not key.exists() and not os.path.lexists(key)
    second = launch(env, data_dir, tmp_path / "second.err")
    try:
        wait_for(lambda: key.is_socket() or second.poll() is not None)
        assert second.poll() is None, (tmp_path / "second.err").read_text()   # the first instance now
        third = launch(env, data_dir, tmp_path / "third.err", "--show")
        assert third.wait(60) == 0 and second.poll() is None                 # it took the third's request
        assert stop(second) == 0
    finally:
        stop(second)
    assert not os.path.lexists(key)


@unix_only
def test_a_squatted_folder_does_not_make_the_gui_exit_silently(short_tmp, tmp_path):
    """The reported case: someone else's socket waits under our name. The launch must neither hand
    it our request nor exit 0 without a window: it says so on stderr and runs."""
    env, data_dir = gui_env(tmp_path, short_tmp), tmp_path / "lib"
    name = Path(SingleInstance.key_for(data_dir, temp_dir=str(tmp_path))).name
    folder = short_tmp / f"seekwise-{os.getuid()}"
    folder.mkdir()
    os.chmod(folder, 0o777)
    if os.geteuid() == 0:
        os.chown(folder, NOBODY, NOBODY)
    squatters = [listener(folder / name), listener(short_tmp / name)]   # the new place and the old one
    err = tmp_path / "gui.err"
    gui = launch(env, data_dir, err)
    try:
        wait_for(lambda: "single-instance" in err.read_text() or gui.poll() is not None)
        lines = [line for line in err.read_text().splitlines() if "single-instance" in line]
        assert gui.poll() is None and len(lines) == 1 and str(folder) in lines[0], err.read_text()
        time.sleep(1)
        assert gui.poll() is None    # still running: a window, not a silent exit
        assert stop(gui) == 0
    finally:
        stop(gui)
        got = [drained(s) for s in squatters]
        for s in squatters:
            s.close()
    assert got == [b"", b""]
