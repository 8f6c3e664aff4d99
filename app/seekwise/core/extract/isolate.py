"""Files are read and parsed in worker processes with a time and memory limit, as Recoll does.

A worker (spawned on demand, reused across files, replaced after a crash, a timeout or RECYCLE_AFTER
files) runs one job at a time: a module-level function and its arguments go in, its reply comes back.
The job opens the file itself, so large files never cross the pipe: only the path goes in and what was
made of it comes back. A job that hangs is killed with its worker after the time limit; one that blows
the address-space cap gets a MemoryError in the worker, or crashes it. Either way the caller gets a
reason and goes on with the next file.

Isolator: one worker, one file at a time (tools and tests). Pool: a worker per core for the indexer,
jobs handed out by a thread while the caller commits, replies in the caller's order within a bounded
look-ahead, so memory stays bounded and what is committed does not depend on which worker was faster.

A reply is a tuple: ("ok", values...), ("unsupported", reason), ("error", reason, retry) or
("memory", reason); `unwrap` turns it into the values or the exception the reader would have raised.
"""

from __future__ import annotations

import collections
import hashlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import TypeVar

from seekwise.core.extract.base import Document, ExtractionError, Family, Unsupported

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 30.0         # per file, plus SECONDS_PER_MB of it: a 2,000-page manual is legitimately slow
SECONDS_PER_MB = 1.0           # PDFium reads about 2-3 MB of PDF a second here (a 2-core laptop)
DEFAULT_MEMORY_MB = 2048       # address space, so it includes the interpreter, PDFium and the tokenizer
RECYCLE_AFTER = 2000           # files; a long-lived worker's heap only grows
START_SECONDS = 60.0           # for a worker to start and import the readers (a cold disk is slow)
LOOKAHEAD_FILES = 256          # files handed out ahead of the one the caller waits for...
LOOKAHEAD_BYTES = 128 << 20    # ...and at most this many bytes of them (the first always goes)
_ENV_SECONDS = "SEEKWISE_EXTRACT_SECONDS"
_ENV_MEMORY = "SEEKWISE_EXTRACT_MEMORY_MB"
_ENV_WORKERS = "SEEKWISE_EXTRACT_WORKERS"

T = TypeVar("T")
Reply = tuple


def unwrap(reply: Reply) -> list:
    """The values of an "ok" reply; otherwise the Unsupported or ExtractionError it stands for."""
    status, *rest = reply
    if status == "ok":
        return rest
    if status == "unsupported":
        raise Unsupported(rest[0])
    raise ExtractionError(rest[0], retry=bool(rest[1:] and rest[1]))


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Job:
    """A Pool's work for one item: the job function's arguments, and the file's size (its time limit
    grows with it, and the look-ahead counts it)."""

    args: tuple
    size: int = 0
    seconds: float = 0.0  # allowed beyond what its size earns (OCR: a time per page)


# -- one worker process --------------------------------------------------------------------------

class _Worker:
    """A worker process and its pipe: started on demand, handed one job at a time, killed at will."""

    def __init__(self, memory_mb: int, threads: int) -> None:
        self.memory_mb, self.threads = memory_mb, threads
        self.proc: multiprocessing.process.BaseProcess | None = None
        self.conn: Connection | None = None
        self.served = 0
        self.ready = False
        self.loading = False                   # it is loading a shared object, then says so
        self.shared_key: bytes | None = None   # which shared object the worker holds
        self.job: tuple[int, Job] | None = None  # a Pool's ticket and job while it has one
        self.deadline = 0.0
        self.restarted = False                 # its job already survived one dead worker

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    def start(self) -> None:
        """Spawn the process; it says ("ready",) once it has imported the readers."""
        context = multiprocessing.get_context("spawn")  # never fork: the indexer has threads (ONNX Runtime)
        parent, child = context.Pipe()
        proc = context.Process(target=serve, args=(child, self.memory_mb << 20, self.threads), daemon=True,
                               name="seekwise-extract")
        try:
            proc.start()
        except OSError as exc:
            parent.close()
            raise ExtractionError(f"cannot start the extraction worker ({exc.strerror or exc})", retry=True) from exc
        finally:
            child.close()  # only the worker holds its end: its death is an EOF here
        self.proc, self.conn, self.served, self.ready, self.shared_key = proc, parent, 0, False, None

    def take_ready(self) -> bool:
        """Read the worker's first word (its pipe is readable); False if it died instead."""
        assert self.conn is not None
        try:
            self.ready = self.conn.recv() == ("ready",)
        except (EOFError, OSError):
            self.ready = False
        return self.ready

    def send(self, fn: Callable, args: tuple, shared: tuple[bytes, bytes] | None = None) -> bool:
        """Hand over a job; or first the run's shared object if this worker lacks it (False: send the
        job again once the worker has said ("loaded",), so its time limit never pays for the loading).
        OSError or ValueError: the worker died since its last job."""
        assert self.conn is not None
        if shared is not None and self.shared_key != shared[0]:
            self.conn.send(("shared", shared[1]))
            self.shared_key = shared[0]
            self.loading = True
            return False
        self.conn.send(("job", fn, args, shared is not None))
        return True

    def take_loaded(self) -> bool:
        """Read the worker's word after a shared object (its pipe is readable); False if it died."""
        assert self.conn is not None
        self.loading = False
        try:
            return self.conn.recv() == ("loaded",)
        except (EOFError, OSError):
            return False

    def reply(self) -> Reply:
        """The job's reply (its pipe is readable), or the reason the worker died instead."""
        assert self.conn is not None
        try:
            reply = self.conn.recv()
        except (EOFError, OSError):
            return "error", self.crash_reason(), False
        self.served += 1
        if reply[0] == "memory":
            self.stop()  # after a MemoryError the worker ends itself; make sure of it
        return reply

    def stop(self) -> None:
        proc, conn = self.proc, self.conn
        self.proc, self.conn, self.ready, self.shared_key, self.loading = None, None, False, None, False
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5)

    def crash_reason(self) -> str:
        proc = self.proc
        code = None
        if proc is not None:
            proc.join(2)
            code = proc.exitcode
        self.stop()
        if code is not None and code < 0:
            try:
                return f"extractor crashed ({signal.Signals(-code).name})"
            except ValueError:
                pass
        return "extractor crashed"


def _too_slow(allowed: float) -> Reply:
    return "error", f"extraction took longer than {allowed:.0f} s", False


_NOT_STARTED: Reply = ("error", "the extraction worker did not start", True)


class _Limits:
    def __init__(self, time_limit: float | None, memory_mb: int | None) -> None:
        self.time_limit = time_limit if time_limit is not None else _env_float(_ENV_SECONDS, DEFAULT_SECONDS)
        self.memory_mb = memory_mb if memory_mb is not None else int(_env_float(_ENV_MEMORY, DEFAULT_MEMORY_MB))

    def time_allowed(self, size: int) -> float:
        """Seconds a file of `size` bytes may take."""
        return self.time_limit + SECONDS_PER_MB * size / 2**20


# -- one worker, one file at a time --------------------------------------------------------------

class Isolator(_Limits):
    """Extracts files in one worker process at a time; thread-safe (callers take turns)."""

    def __init__(self, time_limit: float | None = None, memory_mb: int | None = None,
                 recycle_after: int = RECYCLE_AFTER) -> None:
        super().__init__(time_limit, memory_mb)
        self.recycle_after = recycle_after
        self.spawns = 0            # workers started so far (tests and the benchmark read it)
        self.spawn_seconds = 0.0   # time spent starting them
        self._lock = threading.Lock()
        self._worker = _Worker(self.memory_mb, threads=0)
        self._owner = os.getpid()

    def extract_file(self, path: str, family: Family, limit: int) -> tuple[Document, str, int]:
        """(Document, sha256 of the bytes it came from, their size), read and extracted in the worker.

        Raises Unsupported or ExtractionError with a reason, like registry.extract and reading.read_file.
        """
        try:
            size = os.stat(path).st_size
        except OSError:
            size = 0  # the worker will say what is wrong with the file
        doc, digest, size = unwrap(self.run(extract_job, (family, path, limit), size, path))
        return doc, digest, size

    def run(self, fn: Callable, args: tuple, size: int = 0, what: str = "") -> Reply:
        """One job in the worker, within the time allowed for `size` bytes."""
        allowed = self.time_allowed(size)
        with self._lock:
            try:
                worker = self._ready()
                try:
                    worker.send(fn, args)
                except (OSError, ValueError):  # the worker died between files (killed from outside)
                    worker.stop()
                    worker = self._ready()
                    worker.send(fn, args)
            except ExtractionError as exc:
                return "error", exc.reason, exc.retry
            assert worker.conn is not None
            if not worker.conn.poll(allowed):
                log.warning("extraction of %s took longer than %.0f s; stopping its worker", what, allowed)
                worker.stop()
                return _too_slow(allowed)
            reply = worker.reply()
            if _crashed(reply):
                log.warning("%s on %s", reply[1], what)
            if worker.served >= self.recycle_after:
                worker.stop()
            return reply

    def close(self) -> None:
        with self._lock:
            self._worker.stop()

    @property
    def running(self) -> bool:
        return self._worker.alive

    @property
    def pid(self) -> int | None:
        return self._worker.proc.pid if self._worker.alive and self._worker.proc else None

    def _ready(self) -> _Worker:
        if self._owner != os.getpid():  # we were forked: the worker belongs to the parent
            self._worker, self._owner = _Worker(self.memory_mb, threads=0), os.getpid()
        worker = self._worker
        if worker.alive and worker.ready:
            return worker
        worker.stop()
        t0 = time.monotonic()
        worker.start()
        self.spawns += 1
        # Wait until it is ready, so a file's time limit never pays for the worker's start.
        assert worker.conn is not None
        ready = worker.conn.poll(START_SECONDS) and worker.take_ready()
        self.spawn_seconds += time.monotonic() - t0
        if not ready:
            worker.stop()
            raise ExtractionError(_NOT_STARTED[1], retry=True)
        return worker


# -- a worker per core, results in order ---------------------------------------------------------

class Pool(_Limits):
    """`workers` processes (default: one per core) for the indexer's files; one map at a time."""

    def __init__(self, workers: int | None = None, time_limit: float | None = None, memory_mb: int | None = None,
                 recycle_after: int = RECYCLE_AFTER, keep: int = 1) -> None:
        super().__init__(time_limit, memory_mb)
        self.size = max(1, workers or int(_env_float(_ENV_WORKERS, cores())))
        self.recycle_after = recycle_after
        self.keep = keep          # workers left running between maps (a service's next file starts at once)
        self.spawns = 0           # workers started so far (tests and the benchmark read it)
        self._threads = max(1, cores() // self.size)  # the tokenizer's threads in each worker
        self._workers = [_Worker(self.memory_mb, self._threads) for _ in range(self.size)]
        self._lock = threading.Lock()
        self._owner = os.getpid()

    def map(self, fn: Callable, items: Iterable[T], plan: Callable[[T], Job | Reply],
            shared: object = None) -> Iterator[tuple[T, Reply]]:
        """(item, reply) for each item, in order. `plan(item)`, called in this thread a little ahead of
        its turn, gives the Job (run as fn(shared, *job.args), or fn(*job.args) without `shared`) or a
        reply of its own (nothing for a worker to do). `shared` (the chunker) is pickled once and sent
        to each worker once. Leaving the loop early kills the workers busy with files no one will take.
        """
        if not self._lock.acquire(blocking=False):  # another library of this process is indexing
            spare = Pool(self.size, self.time_limit, self.memory_mb, self.recycle_after, keep=0)
            try:
                yield from spare.map(fn, items, plan, shared)
            finally:
                spare.close()
            return
        try:
            if self._owner != os.getpid():  # we were forked: the workers belong to the parent
                self._workers = [_Worker(self.memory_mb, self._threads) for _ in range(self.size)]
                self._owner = os.getpid()
            run = _Run(self, fn, shared)
            try:
                pending: collections.deque[tuple[T, int | Reply, int]] = collections.deque()
                ahead = 0  # bytes of the pending jobs
                source = iter(items)
                more = True
                while True:
                    while more and (not pending or (len(pending) < LOOKAHEAD_FILES and ahead < LOOKAHEAD_BYTES)):
                        try:
                            item = next(source)
                        except StopIteration:
                            more = False
                            break
                        job = plan(item)
                        if isinstance(job, Job):
                            pending.append((item, run.submit(job), job.size))
                            ahead += job.size
                        else:
                            pending.append((item, job, 0))
                    if not pending:
                        return
                    item, got, size = pending.popleft()
                    ahead -= size
                    yield item, run.take(got) if isinstance(got, int) else got
            finally:
                run.close()
        finally:
            self._lock.release()

    def release_idle(self) -> None:
        """Stop the workers kept between maps (a long meaning phase needs none; the next map starts
        them again). Nothing while a map runs."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            for worker in self._workers:
                worker.stop()
        finally:
            self._lock.release()

    def pids(self) -> list[int]:
        """The live workers' process ids (for tests: none may outlive the indexer)."""
        return [w.proc.pid for w in self._workers if w.alive and w.proc is not None and w.proc.pid]

    def close(self) -> None:
        # A map left suspended (its caller raised mid-loop and a traceback keeps the generator alive)
        # holds the lock: its workers are stopped all the same, never waited for.
        locked = self._lock.acquire(timeout=1.0)
        try:
            for worker in self._workers:
                worker.stop()
        finally:
            if locked:
                self._lock.release()


class _Run:
    """One map's hand-out thread: queued jobs go to idle workers, replies come back by ticket."""

    def __init__(self, pool: Pool, fn: Callable, shared: object) -> None:
        self.pool, self.fn = pool, fn
        blob = None if shared is None else pickle.dumps(shared, protocol=pickle.HIGHEST_PROTOCOL)
        self.shared = None if blob is None else (hashlib.sha256(blob).digest(), blob)
        self._queue: collections.deque[tuple[int, Job]] = collections.deque()
        self._replies: dict[int, Reply] = {}
        self._tickets = 0
        self._cond = threading.Condition()
        self._stop = False
        self._error: BaseException | None = None
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._thread = threading.Thread(target=self._loop, name="seekwise-extract-pool", daemon=True)
        self._thread.start()

    # -- the caller's side ---------------------------------------------------------------------

    def submit(self, job: Job) -> int:
        with self._cond:
            ticket = self._tickets
            self._tickets += 1
            self._queue.append((ticket, job))
        self._wake()
        return ticket

    def take(self, ticket: int) -> Reply:
        with self._cond:
            while ticket not in self._replies:
                if self._error is not None:
                    raise self._error
                self._cond.wait(0.5)
            return self._replies.pop(ticket)

    def close(self) -> None:
        with self._cond:
            self._stop = True
        self._wake()
        self._thread.join()
        self._wake_r.close()
        self._wake_w.close()
        kept = 0
        for worker in self.pool._workers:
            if worker.job is not None or not worker.ready:   # busy with a file no one will take, or unborn
                worker.job = None
                worker.stop()
            elif worker.alive and kept < self.pool.keep:
                kept += 1
            else:
                worker.stop()

    def _wake(self) -> None:
        try:
            self._wake_w.send_bytes(b"")
        except OSError:
            pass  # closed: the run is over

    # -- the thread ----------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            self._work()
        except BaseException as exc:
            log.exception("the extraction pool failed")
            with self._cond:
                self._error = exc
                self._cond.notify_all()

    def _work(self) -> None:
        workers = self.pool._workers
        while True:
            handed: list[_Worker] = []
            with self._cond:
                if self._stop:
                    return
                for worker in workers:  # idle ready workers first, then unborn ones
                    if self._queue and worker.job is None and worker.ready and worker.alive:
                        worker.job = self._queue.popleft()
                        handed.append(worker)
                for worker in workers:
                    if self._queue and worker.job is None and not (worker.ready and worker.alive):
                        worker.job = self._queue.popleft()
                        handed.append(worker)
            for worker in handed:
                worker.restarted = False
                self._hand(worker)
            busy = [w for w in workers if w.job is not None and w.conn is not None]
            now = time.monotonic()
            timeout = max(0.0, min(w.deadline for w in busy) - now) if busy else None
            readable = wait([w.conn for w in busy] + [self._wake_r], timeout)
            if self._wake_r in readable:
                while self._wake_r.poll():
                    self._wake_r.recv_bytes()
            now = time.monotonic()
            for worker in busy:
                if worker.conn in readable:
                    self._heard(worker)
                elif now >= worker.deadline:
                    self._overdue(worker)

    def _hand(self, worker: _Worker) -> None:
        """Send the worker its job, starting it first if it is not running."""
        if worker.ready and worker.alive:
            self._send(worker)
            return
        worker.stop()
        try:
            worker.start()
        except ExtractionError as exc:
            self._done(worker, ("error", exc.reason, exc.retry))
            return
        self.pool.spawns += 1
        worker.deadline = time.monotonic() + START_SECONDS

    def _send(self, worker: _Worker) -> None:
        assert worker.job is not None
        _, job = worker.job
        try:
            sent = worker.send(self.fn, job.args, self.shared)
        except (OSError, ValueError):  # the worker died between files (killed from outside)
            worker.stop()
            if worker.restarted:
                self._done(worker, _NOT_STARTED)
                return
            worker.restarted = True
            self._hand(worker)
            return
        worker.deadline = time.monotonic() + (self.pool.time_allowed(job.size) + job.seconds if sent else START_SECONDS)

    def _heard(self, worker: _Worker) -> None:
        if not worker.ready or worker.loading:
            if worker.take_loaded() if worker.ready else worker.take_ready():
                self._send(worker)
            else:
                worker.stop()
                self._done(worker, _NOT_STARTED)
            return
        reply = worker.reply()
        if _crashed(reply):
            log.warning("%s on %s", reply[1], _what(worker))
        if worker.served >= self.pool.recycle_after:
            worker.stop()
        self._done(worker, reply)

    def _overdue(self, worker: _Worker) -> None:
        assert worker.job is not None
        if not worker.ready or worker.loading:
            worker.stop()
            self._done(worker, _NOT_STARTED)
            return
        allowed = self.pool.time_allowed(worker.job[1].size) + worker.job[1].seconds
        log.warning("extraction of %s took longer than %.0f s; stopping its worker", _what(worker), allowed)
        worker.stop()
        self._done(worker, _too_slow(allowed))

    def _done(self, worker: _Worker, reply: Reply) -> None:
        assert worker.job is not None
        ticket, _ = worker.job
        worker.job = None
        with self._cond:
            self._replies[ticket] = reply
            self._cond.notify_all()


def _crashed(reply: Reply) -> bool:
    return reply[0] == "error" and str(reply[1]).startswith("extractor crashed")


def _what(worker: _Worker) -> str:
    args = worker.job[1].args if worker.job else ()
    return str(args[0]) if args else "a file"


# -- the worker --------------------------------------------------------------------------------

def serve(conn: Connection, memory_bytes: int, threads: int = 0) -> None:
    """The worker's loop: ("shared", pickled object) to keep for the jobs that follow (answered with
    ("loaded",)), ("job", fn, args, with_shared) to answer with fn's reply, None to end. `threads` (0: their defaults) caps the native
    libraries' threads, so a worker per core does not start a thread per core each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole process group; the parent decides
    if threads:
        os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
        os.environ["RAYON_NUM_THREADS"] = os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    _die_with_parent()
    _limit_memory(memory_bytes)
    from seekwise.core.extract import registry  # noqa: F401 - every reader imported before the first file

    conn.send(("ready",))
    shared: object = None
    while True:
        try:
            request = conn.recv()
            if request is None:
                return
            if request[0] == "shared":
                shared = _load(request[1])
                conn.send(("loaded",))
                continue
            conn.send(_answer(request, shared))
        except (EOFError, OSError):
            return  # the parent is gone (or died while we extracted: no one to answer, nothing to say)
        except MemoryError:
            break
        except Exception as exc:  # noqa: BLE001 - a job the worker cannot import (unpickling failed)
            conn.send(("error", f"extractor unavailable ({type(exc).__name__})", True))
    # Out of memory while extracting or sending the text back: the heap may be in any state,
    # so the worker ends and the parent starts a fresh one for the next file.
    conn.send(("memory", f"needs more than the {memory_bytes >> 20} MB of memory extraction may use"))


class _Unavailable:
    def __init__(self, reason: str) -> None:
        self.reason = reason


def _load(blob: bytes) -> object:
    try:
        return pickle.loads(blob)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - its module cannot be imported here: every job says so
        traceback.print_exc()
        return _Unavailable(f"extractor unavailable ({type(exc).__name__})")


def _answer(request: tuple, shared: object) -> Reply:
    _, fn, args, with_shared = request
    if with_shared and isinstance(shared, _Unavailable):
        return "error", shared.reason, True
    try:
        return fn(shared, *args) if with_shared else fn(*args)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug in a job must cost one file, not the worker
        traceback.print_exc()
        return "error", f"could not extract text (unexpected {type(exc).__name__})", False


def extract_job(family: Family, path: str, limit: int) -> Reply:
    """The Isolator's job: read the file and extract its text."""
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


# -- one pool per process, shared by every indexer in it -------------------------------------

_shared: Pool | None = None
_shared_lock = threading.Lock()


def shared() -> Pool:
    """The process's pool (SEEKWISE_EXTRACT_WORKERS / _SECONDS / _MEMORY_MB; default a worker per core)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Pool()
        return _shared


def configure(time_limit: float | None = None, memory_mb: int | None = None, workers: int | None = None) -> Pool:
    """Replace the shared pool with one of these limits (its old workers are stopped)."""
    global _shared
    with _shared_lock:
        old, _shared = _shared, Pool(workers, time_limit, memory_mb)
    if old is not None:
        old.close()
    return _shared
