"""One running Seekwise per user and library: a second launch hands its request to the first over a
local socket (QLocalServer: a Unix socket or a Windows named pipe) instead of starting another indexer."""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import sys

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

MAX_MESSAGE = 64 * 1024   # a query is short; anything longer is not ours


class SingleInstance(QObject):
    """`claim()` once at start: True means we are the first and will get `message_received`; False means
    another instance runs, so `send()` it a request ("show", "show:<query>", "background") and exit."""

    message_received = Signal(str)

    def __init__(self, key: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self._server: QLocalServer | None = None
        self._buffers: dict[QLocalSocket, bytes] = {}

    @staticmethod
    def key_for(data_dir: str | os.PathLike) -> str:
        """Per user and data dir, so two libraries (or two users) run side by side; short, because a Unix
        socket path is limited to about 100 bytes."""
        try:
            user = getpass.getuser()
        except Exception:  # no user name (some containers): the home folder still tells users apart
            user = os.path.expanduser("~")
        where = os.path.normcase(os.path.realpath(os.fspath(data_dir)))
        name = "seekwise-" + hashlib.sha256(f"{user}\0{where}".encode()).hexdigest()[:20]
        runtime = os.environ.get("XDG_RUNTIME_DIR")  # Linux: private to the user, emptied at logout
        if sys.platform != "win32" and runtime and os.path.isdir(runtime) and len(runtime) < 60:
            return os.path.join(runtime, name)
        return name  # a name in the temp dir (Unix) or a named pipe (Windows)

    # -- the first instance --------------------------------------------------------------------

    def claim(self) -> bool:
        """Listen under our key. A socket nobody answers on was left by a crash: it is removed and we
        listen again. False when a live instance answers."""
        if self._server is not None:
            return True
        server = QLocalServer(self)
        # No socket options: with them Qt renames its socket into place, silently replacing a live
        # one, so two instances would both "win". The socket lives in the user's private runtime dir.
        if not server.listen(self.key):
            if server.serverError() != QAbstractSocket.SocketError.AddressInUseError:
                log.warning("cannot listen for other launches (%s); running without", server.errorString())
                server.deleteLater()
                return True  # better two windows than none
            if self._someone_answers():
                server.deleteLater()
                return False
            log.info("removing a stale single-instance socket %s", self.key)
            QLocalServer.removeServer(self.key)
            if not server.listen(self.key):
                if self._someone_answers():  # lost a race with another launch starting right now
                    server.deleteLater()
                    return False
                log.warning("cannot listen for other launches (%s); running without", server.errorString())
                server.deleteLater()
                return True
        server.newConnection.connect(self._accept)
        self._server = server
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

    def _someone_answers(self) -> bool:
        probe = QLocalSocket()
        probe.connectToServer(self.key)
        alive = probe.waitForConnected(500)
        probe.abort()
        return alive

    def _accept(self) -> None:
        while self._server is not None and self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
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
        """Hand `message` (one line) to the running instance; False if none took it."""
        sock = QLocalSocket()
        sock.connectToServer(self.key)
        if not sock.waitForConnected(timeout_ms):
            return False
        payload = message.replace("\r", " ").replace("\n", " ").encode("utf-8") + b"\n"
        sock.write(payload)
        ok = sock.waitForBytesWritten(timeout_ms) or sock.bytesToWrite() == 0
        sock.disconnectFromServer()
        if sock.state() != QLocalSocket.LocalSocketState.UnconnectedState:
            sock.waitForDisconnected(timeout_ms)
        return ok
