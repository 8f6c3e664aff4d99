"""One running Seekwise per user and library: a second launch hands its request to the first over a
local socket (QLocalServer: a Unix socket or a Windows named pipe) instead of starting another indexer.

On Unix the socket lives in a folder only we can enter and each end checks the other runs as us
(core.private_socket, shared with the query server that answers `seekwise search`): a fixed name in
/tmp could be taken first by another local user, who would then get our requests and keep us from
starting."""

from __future__ import annotations

import logging
import os
import socket
import sys

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

from seekwise.core import private_socket
from seekwise.core.private_socket import Unavailable, socket_dir

__all__ = ["SingleInstance", "Unavailable", "peer_uid"]

log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024   # a query is short; anything longer is not ours
_socket_problem = private_socket.socket_problem


def peer_uid(sock: QLocalSocket) -> int | None:
    """The uid of the process at the other end of a connected socket (private_socket.peer_uid, on a
    dup of Qt's descriptor: closing it leaves Qt's be)."""
    if not hasattr(socket, "SO_PEERCRED") or sys.platform == "win32":
        return None
    fd = int(sock.socketDescriptor())
    if fd < 0:
        return -1
    try:
        dup = socket.fromfd(fd, socket.AF_UNIX, socket.SOCK_STREAM)
    except OSError:
        return -1
    try:
        return private_socket.peer_uid(dup)
    finally:
        dup.close()


def _foreign(sock: QLocalSocket) -> int | None:
    """The peer's uid when it is known and not ours, else None."""
    uid = peer_uid(sock)
    return uid if uid is not None and uid != private_socket.uid() else None


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
        name = private_socket.socket_name(data_dir)
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
