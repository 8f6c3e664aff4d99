"""Risky formats are extracted in a worker process with a time and memory limit, as Recoll does.

One persistent worker (spawned lazily, reused across files, replaced after a crash, a timeout or
RECYCLE_AFTER files) reads the file itself, so large files never cross the pipe; only the path goes
in and the Document comes back. A file that hangs the parser is killed with its worker after the
time limit; one that blows the address-space cap gets a MemoryError in the worker, or crashes it.
Either way the indexer records a reason and goes on with the next file.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection, wait

from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 30.0         # per file, plus SECONDS_PER_MB of it: a 2,000-page manual is legitimately slow
SECONDS_PER_MB = 1.0           # PDFium reads about 2-3 MB of PDF a second here (a 2-core laptop)
DEFAULT_MEMORY_MB = 2048       # address space, so it includes the interpreter and PDFium (~150 MB)
RECYCLE_AFTER = 2000           # files; a long-lived worker's heap only grows
START_SECONDS = 60.0           # for a worker to start and import the readers (a cold disk is slow)
_ENV_SECONDS = "SEEKWISE_EXTRACT_SECONDS"
_ENV_MEMORY = "SEEKWISE_EXTRACT_MEMORY_MB"


class Isolator:
    """Extracts files in one worker process at a time; thread-safe (callers take turns)."""

    def __init__(self, time_limit: float | None = None, memory_mb: int | None = None,
                 recycle_after: int = RECYCLE_AFTER) -> None:
        self.time_limit = time_limit if time_limit is not None else _env_float(_ENV_SECONDS, DEFAULT_SECONDS)
        self.memory_mb = memory_mb if memory_mb is not None else int(_env_float(_ENV_MEMORY, DEFAULT_MEMORY_MB))
        self.recycle_after = recycle_after
        self.spawns = 0            # workers started so far (tests and the benchmark read it)
        self.spawn_seconds = 0.0   # time spent starting them
        self._lock = threading.Lock()
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._served = 0
        self._owner = os.getpid()

    def time_allowed(self, size: int) -> float:
        """Seconds a file of `size` bytes may take."""
        return self.time_limit + SECONDS_PER_MB * size / 2**20

    def extract_file(self, path: str, family: Family, limit: int) -> tuple[Document, str, int]:
        """(Document, sha256 of the bytes it came from, their size), read and extracted in the worker.

        Raises Unsupported or ExtractionError with a reason, like registry.extract and reading.read_file.
        """
        try:
            allowed = self.time_allowed(os.stat(path).st_size)
        except OSError:
            allowed = self.time_limit  # the worker will say what is wrong with the file
        with self._lock:
            conn = self._connection()
            try:
                conn.send((family, path, limit))
            except (OSError, ValueError):  # the worker died between files (killed from outside)
                self._stop()
                conn = self._connection()
                conn.send((family, path, limit))
            if not conn.poll(allowed):
                log.warning("extraction of %s took longer than %.0f s; stopping its worker", path, allowed)
                self._stop()
                raise ExtractionError(f"extraction took longer than {allowed:.0f} s")
            try:
                reply = conn.recv()
            except (EOFError, OSError):
                reason = self._crash_reason()
                log.warning("%s on %s", reason, path)
                raise ExtractionError(reason) from None
            self._served += 1
            status, *rest = reply
            if status == "memory" or self._served >= self.recycle_after:
                self._stop()  # after a MemoryError the worker ends itself; make sure of it
            if status == "ok":
                doc, digest, size = rest
                return doc, digest, size
            if status == "unsupported":
                raise Unsupported(rest[0])
            raise ExtractionError(rest[0], retry=bool(rest[1:] and rest[1]))

    def close(self) -> None:
        with self._lock:
            self._stop()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    # -- the worker's life ---------------------------------------------------------------------

    def _connection(self) -> Connection:
        if self._owner != os.getpid():  # we were forked: the worker belongs to the parent
            self._proc, self._conn, self._owner = None, None, os.getpid()
        if self._conn is None or self._proc is None or not self._proc.is_alive():
            self._stop()
            self._start()
        assert self._conn is not None
        return self._conn

    def _start(self) -> None:
        t0 = time.monotonic()
        context = multiprocessing.get_context("spawn")  # never fork: the indexer has threads (ONNX Runtime)
        parent, child = context.Pipe()
        proc = context.Process(target=serve, args=(child, self.memory_mb << 20), daemon=True,
                               name="seekwise-extract")
        try:
            proc.start()
        except OSError as exc:
            parent.close()
            raise ExtractionError(f"cannot start the extraction worker ({exc.strerror or exc})", retry=True) from exc
        finally:
            child.close()  # only the worker holds its end: its death is an EOF here
        self._proc, self._conn, self._served = proc, parent, 0
        self.spawns += 1
        # Wait until it is ready, so a file's time limit never pays for the worker's start.
        try:
            ready = parent.poll(START_SECONDS) and parent.recv() == ("ready",)
        except (EOFError, OSError):
            ready = False
        self.spawn_seconds += time.monotonic() - t0
        if not ready:
            self._stop()
            raise ExtractionError("the extraction worker did not start", retry=True)

    def _stop(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc, self._conn = None, None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5)

    def _crash_reason(self) -> str:
        proc = self._proc
        code = None
        if proc is not None:
            proc.join(2)
            code = proc.exitcode
        self._stop()
        if code is not None and code < 0:
            try:
                return f"extractor crashed ({signal.Signals(-code).name})"
            except ValueError:
                pass
        return "extractor crashed"


# -- the worker --------------------------------------------------------------------------------

def serve(conn: Connection, memory_bytes: int) -> None:
    """The worker's loop: (family, path, limit) in, ('ok', doc, sha256, size) or (status, reason) out."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole process group; the parent decides
    _die_with_parent()
    _limit_memory(memory_bytes)
    from seekwise.core.extract import registry  # noqa: F401 - every reader imported before the first file

    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        except Exception as exc:  # noqa: BLE001 - a family the worker cannot import (unpickling failed)
            conn.send(("error", f"extractor unavailable ({type(exc).__name__})"))
            continue
        if request is None:
            return
        try:
            conn.send(_extract(*request))
            continue
        except MemoryError:
            pass
        except (BrokenPipeError, ConnectionResetError):
            return  # the parent died while we extracted: no one to answer, and nothing to say on stderr
        # Out of memory while extracting or sending the text back: the heap may be in any state,
        # so the worker ends and the parent starts a fresh one for the next file.
        conn.send(("memory", f"needs more than the {memory_bytes >> 20} MB of memory extraction may use"))
        return


def _extract(family: Family, path: str, limit: int) -> tuple:
    from seekwise.core.extract import reading, registry

    try:
        data = reading.read_file(path, limit)
        return "ok", registry.extract(path, data, family), hashlib.sha256(data).hexdigest(), len(data)
    except Unsupported as exc:
        return "unsupported", exc.reason
    except ExtractionError as exc:
        return "error", exc.reason, exc.retry


def _die_with_parent() -> None:
    """Only the parent enforces the time limit: if it dies (SIGKILL, a crash) while a parser is stuck
    in a loop, nothing else would ever stop this process. A thread waits for the parent's end."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="seekwise-parent-watch", daemon=True).start()


def _limit_memory(nbytes: int) -> None:
    """Cap the worker's address space (POSIX); elsewhere the time limit alone must do."""
    try:
        import resource
    except ImportError:
        return
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = nbytes if hard == resource.RLIM_INFINITY else min(nbytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError, AttributeError):
        log.debug("cannot cap the extraction worker's memory here")


def _env_float(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


# -- one worker per process, shared by every indexer in it -------------------------------------

_shared: Isolator | None = None
_shared_lock = threading.Lock()


def shared() -> Isolator:
    """The process's isolator (limits from SEEKWISE_EXTRACT_SECONDS / SEEKWISE_EXTRACT_MEMORY_MB)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Isolator()
        return _shared


def configure(time_limit: float | None = None, memory_mb: int | None = None) -> Isolator:
    """Replace the shared isolator with one of these limits (its old worker is stopped)."""
    global _shared
    with _shared_lock:
        old, _shared = _shared, Isolator(time_limit, memory_mb)
    if old is not None:
        old.close()
    return _shared
