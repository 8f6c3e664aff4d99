"""`seekwise search` answered by the Seekwise already running on the library (the desktop app or
`seekwise watch`), whose model and indexes are loaded: a search there takes milliseconds, where a
fresh process spends a second loading them.

One Unix socket per user and library, in the private folder core.private_socket picks (the rules
of the GUI's single-instance socket), served from a thread: one JSON line in (the query and every
search option), one JSON line out (the hits, as Library.search returned them). Both ends check the
other runs as us. The client gives up quietly (None) whenever anything is off, and the caller then
searches on its own, so a running instance can only make a search faster, never different.

This module and what it imports load no numpy, no model and no index: the command line's client
side costs a Python start."""

from __future__ import annotations

import json
import logging
import os
import selectors
import socket
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING

from seekwise.core.errors import SeekwiseError
from seekwise.core.private_socket import Unavailable, foreign_uid, socket_dir, socket_name, socket_problem
from seekwise.core.search import Hit, Passage, SearchFilters

if TYPE_CHECKING:
    from seekwise.core.library import Library

log = logging.getLogger(__name__)

PROTOCOL = 1
CONNECT_TIMEOUT_S = 0.25   # a live server accepts at once; longer means there is none worth waiting for
REPLY_TIMEOUT_S = 30.0     # its first search may load the model and the indexes
IO_TIMEOUT_S = 5.0         # the server's patience with a client that does not send its request
MAX_REQUEST = 64 * 1024    # a query and its options are short; anything longer is not ours
MODEL_ENV = "SEEKWISE_MODEL"   # embedding.resolve.MODEL_ENV (importing it would load numpy)


def socket_path(data_dir: str | os.PathLike) -> str:
    """The query socket of the library at `data_dir` (absolute). Unavailable where there are no Unix
    sockets or no private folder for one."""
    if not hasattr(socket, "AF_UNIX"):
        raise Unavailable("this system has no Unix sockets")
    return os.path.join(socket_dir(), socket_name(data_dir, "search"))


@dataclass(frozen=True)
class SearchRequest:
    """Everything that decides a search's result, as the command line was given it. `model` is the
    model spec the caller would open the library with (None: the default), folders are absolute."""

    query: str
    k: int = 10
    mode: str = "hybrid"
    dense: str | None = None
    oversample: int = 4
    ef: int = 96
    model: str | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)

    @classmethod
    def from_json(cls, data: dict) -> "SearchRequest":
        filters = SearchFilters(**{**data["filters"], "folders": tuple(data["filters"]["folders"]),
                                   "types": tuple(data["filters"]["types"])})
        return cls(**{**data, "filters": filters})


@dataclass
class SearchReply:
    hits: list[Hit]
    files: int          # the library's counts, for saying why nothing was found
    chunks: int
    root: str
    share: float        # of passages with a vector, as the running library counts them

    def meaning_share(self) -> float:
        """As Library.meaning_share, so what says 'meaning covers part' reads either."""
        return self.share


def effective_model(spec: str | None) -> str | None:
    """The model spec as resolve_model would read it here, made independent of the server's working
    folder and environment: the explicit spec, else $SEEKWISE_MODEL; a folder as its real path."""
    spec = spec or os.environ.get(MODEL_ENV) or None
    if spec and os.path.isdir(os.path.expanduser(spec)):
        return os.path.realpath(os.path.expanduser(spec))
    return spec


# -- the client: `seekwise search` ---------------------------------------------------------------

def ask(data_dir: str | os.PathLike, request: SearchRequest, *, connect_timeout: float = CONNECT_TIMEOUT_S,
        reply_timeout: float = REPLY_TIMEOUT_S) -> SearchReply | None:
    """The running Seekwise's answer, or None when none answers (or it cannot answer this exactly as
    a search here would): then search locally. A SeekwiseError it reports is raised, as a local
    search would have raised it."""
    try:
        path = socket_path(data_dir)
    except Unavailable as exc:
        log.debug("no query server: %s", exc)
        return None
    if not os.path.exists(path) or socket_problem(path):
        return None
    payload = json.dumps({"v": PROTOCOL, "request": asdict(request)}).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(connect_timeout)
            sock.connect(path)
            if foreign_uid(sock) is not None:
                log.warning("the process on %s runs as another user: not asking it", path)
                return None
            sock.settimeout(reply_timeout)
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)
            raw = _read_all(sock)
    except OSError as exc:   # none listening (a stale socket), gone meanwhile, or too slow
        log.debug("query server %s: %s", path, exc)
        return None
    try:
        answer = json.loads(raw)
        if answer.get("v") != PROTOCOL:
            return None
        if "error" in answer:
            raise SeekwiseError(answer["error"])
        if "declined" in answer:
            log.debug("the query server declined: %s", answer["declined"])
            return None
        reply = SearchReply([_hit(h) for h in answer["hits"]], answer["files"], answer["chunks"], answer["root"],
                            answer["meaning_share"])
        log.debug("answered by the Seekwise running on this library (%s)", path)
        return reply
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.debug("unreadable answer from %s: %s", path, exc)
        return None


def _read_all(sock: socket.socket) -> bytes:
    parts = []
    while chunk := sock.recv(1 << 16):
        parts.append(chunk)
    return b"".join(parts)


def _passage(data: dict) -> Passage:
    return Passage(**{**data, "marks": tuple(tuple(m) for m in data["marks"])})


def _hit(data: dict) -> Hit:
    return Hit(**{**data, "best": _passage(data["best"]), "others": [_passage(p) for p in data["others"]]})


# -- the server: the desktop app and `seekwise watch` -----------------------------------------------

class QueryServer:
    """Answers searches on `library` from a thread until stop(). start() is False (and `problem`
    says why) when it cannot listen: another live server on the library, an unsafe folder."""

    def __init__(self, library: Library, path: str | None = None) -> None:
        self.library = library
        self.path = path
        self.problem = ""
        self._listener: socket.socket | None = None
        self._inode: int | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None   # stop() writes, the thread wakes
        self._thread: threading.Thread | None = None
        self._models: dict[str | None, str] = {}
        self.answered = 0

    def start(self) -> bool:
        try:
            self.path = self.path or socket_path(self.library.paths.root)
            self._listener = self._listen(self.path)
        except (Unavailable, OSError) as exc:
            self.problem = str(exc)
            log.info("not answering command-line searches: %s", exc)
            return False
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name="seekwise-query-server", daemon=True)
        self._thread.start()
        return True

    def _listen(self, path: str) -> socket.socket:
        why = socket_problem(path)
        if why:
            raise Unavailable(why)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                listener.bind(path)
            except OSError:
                if _answers(path):
                    raise Unavailable(f"another Seekwise answers searches on this library ({path})") from None
                os.unlink(path)          # left by a process that died: ours (socket_problem said so)
                listener.bind(path)
            os.chmod(path, 0o600)
            listener.listen(16)
            self._inode = os.stat(path).st_ino
        except BaseException:
            listener.close()
            raise
        return listener

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening and remove the socket (if it is still the one we made); a search being
        answered finishes first."""
        if self._thread is not None:
            self._wake[1].send(b"x")
            self._thread.join(timeout)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            try:
                if self.path and os.stat(self.path).st_ino == self._inode:
                    os.unlink(self.path)
            except OSError:
                pass
        if self._wake is not None:
            for end in self._wake:
                end.close()
            self._wake = None

    def _serve(self) -> None:
        wake = self._wake[0]
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            sel.register(wake, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select():
                    if key.fileobj is wake:
                        return
                    try:
                        conn, _ = self._listener.accept()
                    except OSError as exc:
                        log.debug("accept: %s", exc)
                        continue
                    with conn:
                        self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        uid = foreign_uid(conn)
        if uid is not None:   # only reachable if the folder's guard failed: say so, read nothing
            log.warning("ignoring a connection from another user (uid %s) on %s", uid, self.path)
            return
        try:
            conn.settimeout(IO_TIMEOUT_S)
            raw = b""
            while b"\n" not in raw and len(raw) <= MAX_REQUEST:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                raw += chunk
            if len(raw) > MAX_REQUEST:
                return
            conn.settimeout(REPLY_TIMEOUT_S)
            conn.sendall(self._encode(self.answer(raw)) + b"\n")
        except OSError as exc:
            log.debug("a command-line search went away: %s", exc)

    @staticmethod
    def _encode(reply: dict) -> bytes:
        try:
            return json.dumps(reply, default=_fields).encode()
        except (TypeError, ValueError) as exc:   # a bug: the client searches on its own, the thread goes on
            log.warning("a command-line search's answer could not be written (%s); it runs on its own", exc)
            return json.dumps({"v": PROTOCOL, "declined": f"failed: {exc}"}).encode()

    def answer(self, raw: bytes) -> dict:
        """The reply to one request line: hits, an error to show, or why the client should search
        on its own (declined). Hits stay dataclasses: json.dumps(default=_fields) writes them."""
        try:
            message = json.loads(raw)
            if message.get("v") != PROTOCOL:
                return {"v": PROTOCOL, "declined": f"protocol {message.get('v')!r}"}
            request = SearchRequest.from_json(message["request"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            return {"v": PROTOCOL, "declined": f"unreadable request: {exc}"}
        lib = self.library
        try:
            why = self._differs(request)
            if why:
                return {"v": PROTOCOL, "declined": why}
            hits = lib.search(request.query, k=request.k, mode=request.mode, dense=request.dense,
                              filters=request.filters, oversample=request.oversample)
            counts = lib.store.counts() if not hits else {"files": 0, "chunks": 0}
            reply = {"v": PROTOCOL, "hits": hits, "files": counts["files"],
                     "chunks": counts["chunks"], "root": str(lib.paths.root),
                     "meaning_share": lib.meaning_share() if request.mode != "lexical" else 1.0}
            self.answered += 1
            return reply
        except SeekwiseError as exc:
            return {"v": PROTOCOL, "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - the client searches on its own and reports it properly
            log.warning("a command-line search failed here (%s); it runs on its own", exc, exc_info=True)
            return {"v": PROTOCOL, "declined": f"failed: {exc}"}

    def _differs(self, request: SearchRequest) -> str:
        """Why this library would not give the result the client would ('' when it would): another
        model, another HNSW breadth."""
        if request.ef != self.library.ef:
            return f"this Seekwise searches with ef {self.library.ef}, not {request.ef}"
        if request.model not in self._models:
            from seekwise.core.embedding import DEFAULT_MODEL_ID, resolve_model
            try:
                self._models[request.model] = resolve_model(request.model or DEFAULT_MODEL_ID,
                                                            self.library.paths.models).version_id
            except SeekwiseError as exc:   # the client's own search will say so, in its words
                return f"no such model here: {exc}"
        if self._models[request.model] != self.library.model_version:
            return f"this Seekwise uses another model ({self.library.model_version})"
        return ""


def _fields(obj: object) -> dict:
    """A hit or passage as JSON writes it: what asdict gives, without its deep copy of every mark
    and score (that took longer than the rest of the reply)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def _answers(path: str) -> bool:
    """Whether a live process listens on the socket at `path` (else it is a dead one's leftover)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(CONNECT_TIMEOUT_S)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True
