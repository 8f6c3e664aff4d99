"""One running Seekwise per user and library: a second launch hands its request to the first over a
local socket (QLocalServer: a Unix socket or a Windows named pipe) instead of starting another indexer.

On Unix the socket lives in a folder only we can enter ($XDG_RUNTIME_DIR, else a 0700 `seekwise-<uid>`
in the temp dir): a fixed name in /tmp could be taken first by another local user, who would then get our
requests and keep us from starting. Where the OS tells (Linux: SO_PEERCRED), each end also checks the
other runs as us."""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import socket
import stat
import struct
import sys
import tempfile

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024   # a query is short; anything longer is not ours
MAX_DIR = 70              # a Unix socket path is limited to 104-108 bytes; our name takes 30 of them


class Unavailable(Exception):
    """The socket cannot be used safely (a folder or socket of another user, a folder others can
    enter): the caller runs on its own and says so."""


def _uid() -> int:
    return os.getuid()


def _not_private(path: str, *, others_may_enter: bool = False) -> str:
    """Why `path` is no place for our socket ('' when it is): it must be a real folder (lstat: not a
    symlink someone could point elsewhere) of ours that nobody else can write in (nor, for our own
    folder, enter)."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return f"cannot check {path}: {exc.strerror}"
    if stat.S_ISLNK(st.st_mode):
        return f"{path} is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return f"{path} is not a folder"
    if st.st_uid != _uid():
        return f"{path} belongs to another user (uid {st.st_uid})"
    mode = stat.S_IMODE(st.st_mode)
    if mode & (0o022 if others_may_enter else 0o077):
        return f"{path} is open to other users (mode {mode:04o}; it should be 0700)"
    return ""


def socket_dir(temp_dir: str | None = None) -> str:
    """The folder for our socket: $XDG_RUNTIME_DIR when it is ours and private, else our own 0700
    `seekwise-<uid>` in the temp dir, created if missing. Raises Unavailable when that one is not
    ours or not private (then it is not used: someone may be waiting there for our requests)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and len(runtime) < MAX_DIR:
        why = _not_private(runtime, others_may_enter=True)  # systemd makes it 0700; not writable by others suffices
        if not why:
            return runtime
        log.warning("not using XDG_RUNTIME_DIR for the single-instance socket: %s", why)
    base = temp_dir or tempfile.gettempdir()
    folder = os.path.join(base, f"seekwise-{_uid()}")
    if len(folder) >= MAX_DIR:        # a long $TMPDIR: the socket path would not fit
        folder = f"/tmp/seekwise-{_uid()}"
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass                          # checked below, as found
    except OSError as exc:
        raise Unavailable(f"cannot create {folder}: {exc.strerror}") from exc
    else:
        try:
            os.chmod(folder, 0o700, follow_symlinks=False)  # a umask such as 0277 would leave it unwritable
        except (OSError, NotImplementedError):
            pass
    why = _not_private(folder)
    if why:
        raise Unavailable(why)
    return folder


def _socket_problem(path: str) -> str:
    """Why the file at our socket path is not to be talked to or removed ('' when it is ours or absent)."""
    if sys.platform == "win32" or not os.path.isabs(path):
        return ""                     # a named pipe: no file to check
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ""
    except OSError as exc:
        return f"cannot check {path}: {exc.strerror}"
    if not stat.S_ISSOCK(st.st_mode):
        return f"{path} is not a socket"
    if st.st_uid != _uid():
        return f"the socket {path} belongs to another user (uid {st.st_uid})"
    return ""


def peer_uid(sock: QLocalSocket) -> int | None:
    """The uid of the process at the other end of a connected socket. Linux: SO_PEERCRED (-1 if it
    cannot be read: treated as not us). None where the OS does not tell this way (macOS, BSD,
    Windows): there the private folder is the guard, since nobody else can reach the socket."""
    if not hasattr(socket, "SO_PEERCRED") or sys.platform == "win32":
        return None
    fd = int(sock.socketDescriptor())
    if fd < 0:
        return -1
    try:
        dup = socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM)   # a dup: closing it leaves Qt's fd be
        try:
            creds = dup.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        finally:
            dup.close()
        _pid, uid, _gid = struct.unpack("3i", creds)
        return uid
    except OSError:
        return -1


def _foreign(sock: QLocalSocket) -> int | None:
    """The peer's uid when it is known and not ours, else None."""
    uid = peer_uid(sock)
    return uid if uid is not None and uid != _uid() else None


class SingleInstance(QObject):
    """`claim()` once at start: True means we are the first and will get `message_received`; False means
    another instance runs, so `send()` it a request ("show", "show:<query>", "background") and exit."""

    message_received = Signal(str)

    def __init__(self, key: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}
        self.problem = ""         # why claim() or send() could not use the socket, for the user

    @staticmethod
    def key_for(data_dir: str | os.PathLike, *, temp_dir: str | None = None) -> str:
        """Per user and data dir, so two libraries (or two users) run side by side; a path in our
        private folder (socket_dir) on Unix. Raises Unavailable when there is no safe folder."""
        try:
            user = getpass.getuser()
        except Exception:  # no user name (some containers): the home folder still tells users apart
            user = os.path.expanduser("~")
        where = os.path.normcase(os.path.realpath(os.fspath(data_dir)))
        name = "seekwise-" + hashlib.sha256(f"{user}\0{where}".encode()).hexdigest()[:20]
        if sys.platform == "win32":
            return name  # a named pipe
        return os.path.join(socket_dir(temp_dir), name)

    # -- the first instance --------------------------------------------------------------------

    def claim(self) -> bool:
        """Listen under our key. A socket nobody answers on was left by a crash: it is removed and we
        listen again. False when a live instance of ours answers. True without listening (and
        `problem` says why) when the name cannot be used: better two windows than none."""
        if self._server is not None:
            return True
        self.problem = ""
        server = QLocalServer(self)
        # No socket options: with them Qt renames its socket into place, silently replacing a live
        # one, so two instances would both "win". The socket lives in a folder only we can enter.
        if not server.listen(self.key):
            if server.serverError() != QAbstractSocket.SocketError.AddressInUseError:
                return self._alone(server, f"cannot listen on {self.key} ({server.errorString()})")
            why = _socket_problem(self.key)
            if why:
                return self._alone(server, why)
            answer = self._probe()
            if answer == "ours":
                server.deleteLater()
                return False
            if answer:
                return self._alone(server, answer)
            log.info("removing a stale single-instance socket %s", self.key)
            QLocalServer.removeServer(self.key)
            if not server.listen(self.key):
                answer = _socket_problem(self.key) or self._probe()
                if answer == "ours":  # lost a race with another launch starting right now
                    server.deleteLater()
                    return False
                return self._alone(server, answer or f"cannot listen on {self.key} ({server.errorString()})")
        server.newConnection.connect(self._accept)
        self._server = server
        return True

    def _alone(self, server: QLocalServer, why: str) -> bool:
        log.info("single instance: %s; running without", why)   # the caller tells the user
        self.problem = why
        server.deleteLater()
        return True

    def release(self) -> None:
        """Stop listening (on quit), so the next launch starts at once."""
        for sock in list(self._buffers):
            self._finish(sock)
        if self._server is not None:
            self._server.close()
            self._server.deleteLater()
            self._server = None

    @property
    def server_name(self) -> str:
        """Where we listen (a socket path on Unix), '' before claim()."""
        return self._server.fullServerName() if self._server is not None else ""

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def _probe(self) -> str:
        """'' when nobody answers under our key, 'ours' when an instance of ours does, else why not."""
        probe = QLocalSocket()
        probe.connectToServer(self.key)
        if not probe.waitForConnected(500):
            return ""
        uid = _foreign(probe)
        probe.abort()
        return "ours" if uid is None else f"the process on {self.key} runs as another user (uid {uid})"

    def _accept(self) -> None:
        while self._server is not None and self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            uid = _foreign(sock)
            if uid is not None:       # only reachable if the folder's guard failed: say so, read nothing
                log.warning("ignoring a connection from another user (uid %s) on %s", uid, self.key)
                sock.abort()
                sock.deleteLater()
                continue
            self._buffers[sock] = b""
            # Bound slots, not lambdas: Qt drops them when either side is destroyed, so a socket torn
            # down with the server never calls back into a half-deleted object.
            sock.readyRead.connect(self._on_ready_read)
            sock.disconnected.connect(self._on_disconnected)
            self._read(sock)  # the sender may have written (and gone) before we connected the signals
            if sock.state() != QLocalSocket.LocalSocketState.ConnectedState:
                self._finish(sock)

    @Slot()
    def _on_ready_read(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._read(sock)

    @Slot()
    def _on_disconnected(self) -> None:
        sock = self.sender()
        if isinstance(sock, QLocalSocket):
            self._finish(sock)

    def _read(self, sock: QLocalSocket) -> None:
        if sock not in self._buffers:
            return
        data = self._buffers[sock] + bytes(sock.readAll().data())
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            self._deliver(line)
        if len(data) > MAX_MESSAGE:
            log.warning("dropping an over-long message from another launch")
            data = b""
            sock.abort()
        if sock in self._buffers:
            self._buffers[sock] = data

    def _finish(self, sock: QLocalSocket) -> None:
        if sock not in self._buffers:
            return
        self._read(sock)
        rest = self._buffers.pop(sock, b"")
        sock.readyRead.disconnect(self._on_ready_read)
        sock.disconnected.disconnect(self._on_disconnected)
        if rest.strip():
            self._deliver(rest)
        sock.deleteLater()

    def _deliver(self, raw: bytes) -> None:
        message = raw.decode("utf-8", errors="replace").strip()
        if message:
            self.message_received.emit(message)

    # -- a later launch ------------------------------------------------------------------------

    def send(self, message: str, timeout_ms: int = 2000) -> bool:
        """Hand `message` (one line) to the running instance; False if none took it, or if what
        answers is not ours (then `problem` says so): a query is private."""
        why = _socket_problem(self.key)
        if why:
            self.problem = why
            return False
        sock = QLocalSocket()
        sock.connectToServer(self.key)
        if not sock.waitForConnected(timeout_ms):
            return False
        uid = _foreign(sock)
        if uid is not None:
            self.problem = f"the process on {self.key} runs as another user (uid {uid})"
            sock.abort()
            return False
        payload = message.replace("\r", " ").replace("\n", " ").encode("utf-8") + b"\n"
        sock.write(payload)
        ok = sock.waitForBytesWritten(timeout_ms) or sock.bytesToWrite() == 0
        sock.disconnectFromServer()
        if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            sock.waitForDisconnected(timeout_ms)
        return ok
