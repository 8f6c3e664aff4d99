"""Where a Seekwise process listens for its own user, and how both ends check they talk to that user.

A local socket of ours lives in a folder only we can enter ($XDG_RUNTIME_DIR, else a 0700
`seekwise-<uid>` in the temp dir): a fixed name in /tmp could be taken first by another local user,
who would then get our queries (private) and keep us from listening. Where the OS tells (Linux:
SO_PEERCRED), each end also checks the other runs as us. The GUI's single-instance socket (Qt) and
the query server that answers `seekwise search` (core.query_server, plain sockets) both follow this.
No Qt and no numpy here: the command line's client side imports it before anything heavy."""

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

log = logging.getLogger(__name__)

MAX_DIR = 70              # a Unix socket path is limited to 104-108 bytes; our names take 30 of them


class Unavailable(Exception):
    """The socket cannot be used safely (a folder or socket of another user, a folder others can
    enter): the caller runs on its own and says so."""


def uid() -> int:
    return os.getuid()


def not_private(path: str, *, others_may_enter: bool = False) -> str:
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
    if st.st_uid != uid():
        return f"{path} belongs to another user (uid {st.st_uid})"
    mode = stat.S_IMODE(st.st_mode)
    if mode & (0o022 if others_may_enter else 0o077):
        return f"{path} is open to other users (mode {mode:04o}; it should be 0700)"
    return ""


def socket_dir(temp_dir: str | None = None) -> str:
    """The folder for our sockets: $XDG_RUNTIME_DIR when it is ours and private, else our own 0700
    `seekwise-<uid>` in the temp dir, created if missing. Raises Unavailable when that one is not
    ours or not private (then it is not used: someone may be waiting there for our requests)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and len(runtime) < MAX_DIR:
        why = not_private(runtime, others_may_enter=True)  # systemd makes it 0700; not writable by others suffices
        if not why:
            return runtime
        log.warning("not using XDG_RUNTIME_DIR for Seekwise's sockets: %s", why)
    base = temp_dir or tempfile.gettempdir()
    folder = os.path.join(base, f"seekwise-{uid()}")
    if len(folder) >= MAX_DIR:        # a long $TMPDIR: the socket path would not fit
        folder = f"/tmp/seekwise-{uid()}"
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
    why = not_private(folder)
    if why:
        raise Unavailable(why)
    return folder


def socket_name(data_dir: str | os.PathLike, purpose: str = "") -> str:
    """A name per user, library and purpose ('' for the single-instance socket; a short word, since
    the path must fit MAX_DIR plus this name in a Unix socket address)."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name (some containers): the home folder still tells users apart
        user = os.path.expanduser("~")
    where = os.path.normcase(os.path.realpath(os.fspath(data_dir)))
    if not purpose:
        return "seekwise-" + hashlib.sha256(f"{user}\0{where}".encode()).hexdigest()[:20]
    digest = hashlib.sha256(f"{user}\0{where}\0{purpose}".encode()).hexdigest()
    return f"seekwise-{purpose}-{digest[:14]}"


def socket_problem(path: str) -> str:
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
    if st.st_uid != uid():
        return f"the socket {path} belongs to another user (uid {st.st_uid})"
    return ""


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket. Linux: SO_PEERCRED (-1 if
    it cannot be read: treated as not us). None where the OS does not tell this way (macOS, BSD):
    there the private folder is the guard, since nobody else can reach the socket."""
    if not hasattr(socket, "SO_PEERCRED") or sys.platform == "win32":
        return None
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        return -1
    _pid, peer, _gid = struct.unpack("3i", creds)
    return peer


def foreign_uid(sock: socket.socket) -> int | None:
    """The peer's uid when it is known and not ours, else None."""
    peer = peer_uid(sock)
    return peer if peer is not None and peer != uid() else None
