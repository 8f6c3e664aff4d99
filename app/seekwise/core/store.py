"""LMDB, the one source of truth: files, chunks, the vector cache and meta, written in whole batches."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import struct
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lmdb
import numpy as np

from seekwise.core.errors import DiskFull, StoreError

log = logging.getLogger(__name__)

# 2: chunk records may carry a page number. Schema 1 records are valid schema 2 records (page 0), so a
# schema 1 store is upgraded in place by the first writer; the bump keeps older Seekwise versions,
# which would misread a paged record, out of an upgraded store.
SCHEMA_VERSION = 2
_UPGRADABLE = frozenset({1})
INITIAL_MAP_SIZE = 1 << 30
_CHUNK_HEAD = struct.Struct("<32sIII")  # text digest, start, end, line
_PAGED = 0x8000_0000  # set in the path length: a 4-byte page number follows the path
_ID = struct.Struct(">Q")  # big-endian so LMDB's byte order is numeric order


def text_digest(chunking_version: str, text: str) -> bytes:
    """The model-independent half of a vector key."""
    return hashlib.sha256(f"{chunking_version}\0{text}".encode("utf-8", "surrogatepass")).digest()


def vector_key(model_version: str, digest: bytes) -> bytes:
    return model_version.encode() + b":" + digest


def encode_id(chunk_id: int) -> bytes:
    return _ID.pack(chunk_id)


def decode_id(raw: bytes) -> int:
    return _ID.unpack(raw)[0]


@dataclass
class FileRecord:
    """What we know of one file; status is ok, empty, skipped (not a format we read) or error."""

    path: str
    size: int
    mtime_ns: int
    sha256: str = ""
    status: str = "ok"
    reason: str = ""
    kind: str = ""
    extractor: str = ""
    chunking: str = ""
    chunk_ids: list[int] = field(default_factory=list)
    indexed_at: float = 0.0

    def encode(self) -> bytes:
        data = asdict(self)
        del data["path"]
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, path: str, raw: bytes) -> "FileRecord":
        return cls(path=path, **json.loads(raw))


@dataclass(frozen=True)
class ChunkRecord:
    id: int
    path: str
    start: int
    end: int
    line: int
    text: str
    digest: bytes
    page: int = 0  # 1-based page where the chunk starts; 0 when the file has no pages

    def encode(self) -> bytes:
        """Head, path length, path, [page], text. A chunk without a page encodes as in schema 1."""
        path = os.fsencode(self.path)
        if self.page:
            middle = struct.pack("<I", len(path) | _PAGED) + path + struct.pack("<I", self.page)
        else:
            middle = struct.pack("<I", len(path)) + path
        return (_CHUNK_HEAD.pack(self.digest, self.start, self.end, self.line) + middle
                + self.text.encode("utf-8", "surrogatepass"))

    @classmethod
    def decode(cls, chunk_id: int, raw: bytes) -> "ChunkRecord":
        digest, start, end, line = _CHUNK_HEAD.unpack_from(raw)
        off = _CHUNK_HEAD.size
        (plen,) = struct.unpack_from("<I", raw, off)
        off += 4
        page = 0
        paged = plen & _PAGED
        plen &= ~_PAGED
        path = os.fsdecode(bytes(raw[off:off + plen]))
        off += plen
        if paged:
            (page,) = struct.unpack_from("<I", raw, off)
            off += 4
        text = bytes(raw[off:]).decode("utf-8", "surrogatepass")
        return cls(chunk_id, path, start, end, line, text, bytes(digest), page)


@dataclass
class NewChunk:
    """A chunk waiting for its id: the indexer hands these over with their file."""

    start: int
    end: int
    line: int
    text: str
    digest: bytes
    page: int = 0


@dataclass
class FileChange:
    record: FileRecord
    chunks: list[NewChunk] = field(default_factory=list)


@dataclass
class CommitResult:
    added: list[tuple[int, bytes]]  # (chunk id, text digest)
    removed: list[int]
    generation: int


class _Gate:
    """Lets many short reads run while a map resize waits for them to finish."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._resizing = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._resizing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._resizing = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._resizing = False
                self._cond.notify_all()


class Store:
    """One LMDB environment. Writes come from one writer; reads are short and may run in any thread."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly and not self.path.exists():
            raise StoreError(f"No library at {self.path.parent} (nothing indexed yet)")
        self.env = _envs.acquire(self.path, readonly)
        self._closed = False
        self._gate = _envs.gate(self.path)
        self._write_lock = _envs.write_lock(self.path)
        self._adopt_map_size()
        names = (b"files", b"problems", b"chunks", b"vectors", b"meta")
        try:
            if self.env.flags()["readonly"]:
                # Read-only handles are opened in LMDB's own transaction: one opened in ours dies with it.
                handles = [self.env.open_db(n, create=False) for n in names]
            else:
                with self.env.begin(write=True) as txn:
                    handles = [self.env.open_db(n, txn=txn, create=True) for n in names]
        except lmdb.NotFoundError as exc:
            raise StoreError(f"The library store {self.path} is incomplete; index again to repair it") from exc
        self.files, self.problems, self.chunks, self.vectors, self.meta = handles
        with self.read() as txn:
            self._check_schema(txn)
        if not self.readonly and txn_needs_schema(self):
            self._write(lambda t: t.put(b"schema", str(SCHEMA_VERSION).encode(), db=self.meta))

    def _adopt_map_size(self) -> None:
        """Take the larger of our default and what another process already grew the map to."""
        size = max(self.env.info()["map_size"], INITIAL_MAP_SIZE)
        if not self.env.flags()["readonly"] and size != self.env.info()["map_size"]:
            with self._gate.exclusive():
                self.env.set_mapsize(size)

    def _check_schema(self, txn: lmdb.Transaction) -> None:
        raw = txn.get(b"schema", db=self.meta)
        if raw is None:
            return
        found = int(raw)
        if found > SCHEMA_VERSION:
            raise StoreError(f"This library was written by a newer Seekwise (schema {found}, "
                             f"this one reads {SCHEMA_VERSION}); update Seekwise or use another data dir.")
        if found < SCHEMA_VERSION and found not in _UPGRADABLE:
            raise StoreError(f"This library has an old schema ({found}); run 'seekwise index --rebuild'.")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            _envs.release(self.path)

    # -- reading -------------------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[lmdb.Transaction]:
        """A short read transaction; adopts a map another process grew."""
        with self._gate.read():
            try:
                txn = self.env.begin(buffers=False)
            except lmdb.MapResizedError:
                self.env.set_mapsize(0)
                txn = self.env.begin(buffers=False)
            try:
                yield txn
            finally:
                txn.abort()

    def get_meta(self, key: str, default: object = None) -> object:
        with self.read() as txn:
            raw = txn.get(key.encode(), db=self.meta)
        return json.loads(raw) if raw is not None else default

    def generation(self) -> int:
        return int(self.get_meta("generation", 0))

    def get_file(self, path: str) -> FileRecord | None:
        with self.read() as txn:
            raw = txn.get(os.fsencode(path), db=self.files)
        return FileRecord.decode(path, raw) if raw is not None else None

    def iter_files(self, prefix: str | None = None, txn: lmdb.Transaction | None = None) -> Iterator[FileRecord]:
        """Records under a folder (prefix ends with a separator), in byte order of their path."""
        if txn is None:
            with self.read() as own:
                yield from self.iter_files(prefix, own)
            return
        key = os.fsencode(prefix) if prefix else b""
        cur = txn.cursor(db=self.files)
        if not cur.set_range(key):
            return
        for raw_path, raw in cur:
            if not raw_path.startswith(key):
                break
            yield FileRecord.decode(os.fsdecode(raw_path), raw)

    def file_stats(self, prefix: str | None = None) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns), the whole of what a no-change re-index must compare."""
        out: dict[str, tuple[int, int]] = {}
        for rec in self.iter_files(prefix):
            out[rec.path] = (rec.size, rec.mtime_ns)
        return out

    def problems_list(self, limit: int = 50) -> list[tuple[str, str, str]]:
        """(path, status, reason) of files that were skipped or failed."""
        out = []
        with self.read() as txn:
            for raw_path, raw in txn.cursor(db=self.problems):
                data = json.loads(raw)
                out.append((os.fsdecode(raw_path), data["status"], data["reason"]))
                if len(out) >= limit:
                    break
        return out

    def get_chunks(self, ids: Iterable[int]) -> list[ChunkRecord]:
        out = []
        with self.read() as txn:
            for cid in ids:
                raw = txn.get(encode_id(cid), db=self.chunks)
                if raw is not None:
                    out.append(ChunkRecord.decode(cid, raw))
        return out

    def get_digests(self, ids: Iterable[int]) -> list[bytes | None]:
        """Text digests of chunks (None for ids that are gone): the vector keys, without the text."""
        keys = [encode_id(cid) for cid in ids]
        with self.read() as txn:
            found = txn.cursor(db=self.chunks).getmulti(keys)
        if len(found) == len(keys):
            return [raw[:32] for _, raw in found]
        by_key = dict(found)
        return [by_key[k][:32] if k in by_key else None for k in keys]

    def chunk_digests(self) -> tuple[np.ndarray, list[bytes]]:
        """Every chunk id with its text digest: what an ANN index is rebuilt or reconciled from."""
        ids: list[int] = []
        digests: list[bytes] = []
        with self.read() as txn:
            for raw_id, raw in txn.cursor(db=self.chunks):
                ids.append(decode_id(raw_id))
                digests.append(bytes(raw[:32]))
        return np.asarray(ids, dtype=np.int64), digests

    def get_vectors(self, model_version: str, digests: Iterable[bytes], dims: int) -> np.ndarray:
        """Vectors for digests in order; a missing one is a row of NaN (caller decides)."""
        prefix = model_version.encode() + b":"
        keys = [prefix + d for d in digests]
        with self.read() as txn:
            pairs = txn.cursor(db=self.vectors).getmulti(keys)
        if len(pairs) == len(keys):  # all present (the usual case): one copy, no per-row work
            return np.frombuffer(b"".join(raw for _, raw in pairs), dtype=np.float32).reshape(len(keys), dims).copy()
        found = dict(pairs)
        out = np.full((len(keys), dims), np.nan, dtype=np.float32)
        for i, k in enumerate(keys):
            raw = found.get(k)
            if raw is not None:
                out[i] = np.frombuffer(raw, dtype=np.float32)
        return out

    def missing_vectors(self, model_version: str, digests: Iterable[bytes]) -> set[bytes]:
        prefix = model_version.encode() + b":"
        with self.read() as txn:
            return {d for d in digests if txn.get(prefix + d, db=self.vectors) is None}

    def counts(self) -> dict[str, int]:
        with self.read() as txn:
            return {name: txn.stat(db)["entries"] for name, db in
                    (("files", self.files), ("chunks", self.chunks), ("vectors", self.vectors),
                     ("problems", self.problems))}

    def size_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    # -- writing -------------------------------------------------------------------------------

    def _write(self, fn):  # noqa: ANN001, ANN202 - internal
        """Run fn(txn) in one write transaction, growing the map and retrying when it is full."""
        if self.readonly:
            raise StoreError("The library was opened read-only")
        with self._write_lock:
            while True:
                try:
                    with self.env.begin(write=True) as txn:
                        result = fn(txn)
                    return result
                except lmdb.MapFullError:
                    self._grow()
                except lmdb.MapResizedError:
                    self.env.set_mapsize(0)
                except (lmdb.DiskError, OSError) as exc:
                    if getattr(exc, "errno", None) == errno.ENOSPC or "No space" in str(exc):
                        raise DiskFull(f"The disk holding {self.path} is full; the last batch was not "
                                       "saved, everything before it is safe.") from exc
                    raise StoreError(f"Cannot write the library store {self.path}: {exc}") from exc

    def _grow(self) -> None:
        with self._gate.exclusive():
            new_size = self.env.info()["map_size"] * 2
            log.info("store full, growing map to %d MiB", new_size >> 20)
            self.env.set_mapsize(new_size)

    def put_meta(self, key: str, value: object) -> None:
        def fn(txn: lmdb.Transaction) -> None:
            txn.put(key.encode(), json.dumps(value).encode(), db=self.meta)
        self._write(fn)

    def commit(self, changes: list[FileChange], removed_paths: Iterable[str],
               vectors: dict[bytes, np.ndarray], model_version: str,
               touched: Iterable[FileRecord] = (), vectors_pending: bool | None = None) -> CommitResult:
        """One transaction: new vectors, then each file's old chunks out and new chunks in, then its record."""
        removed_paths = list(removed_paths)

        def fn(txn: lmdb.Transaction) -> CommitResult:
            prefix = model_version.encode() + b":"
            for digest, vec in vectors.items():
                txn.put(prefix + digest, np.asarray(vec, dtype=np.float32).tobytes(), db=self.vectors)
            next_id = int(json.loads(txn.get(b"next_id", b"1", db=self.meta)))
            added: list[tuple[int, bytes]] = []
            removed: list[int] = []
            for path in removed_paths:
                removed.extend(self._drop_file(txn, path))
            for change in changes:
                rec = change.record
                removed.extend(self._drop_file(txn, rec.path))
                rec.chunk_ids = []
                for ch in change.chunks:
                    cid = next_id
                    next_id += 1
                    txn.put(encode_id(cid), ChunkRecord(cid, rec.path, ch.start, ch.end, ch.line,
                                                        ch.text, ch.digest, ch.page).encode(), db=self.chunks)
                    rec.chunk_ids.append(cid)
                    added.append((cid, ch.digest))
                key = os.fsencode(rec.path)
                txn.put(key, rec.encode(), db=self.files)
                if rec.status in ("skipped", "error"):
                    txn.put(key, json.dumps({"status": rec.status, "reason": rec.reason}).encode(),
                            db=self.problems)
            for rec in touched:
                txn.put(os.fsencode(rec.path), rec.encode(), db=self.files)
            generation = int(json.loads(txn.get(b"generation", b"0", db=self.meta))) + 1
            txn.put(b"next_id", str(next_id).encode(), db=self.meta)
            if vectors_pending is not None:  # chunks committed ahead of their vectors, or caught up
                txn.put(b"vectors_pending", json.dumps(vectors_pending).encode(), db=self.meta)
            txn.put(b"generation", str(generation).encode(), db=self.meta)
            return CommitResult(added, removed, generation)

        return self._write(fn)

    def clear(self, keep_vectors: bool = False, keep_roots: bool = False) -> int:
        """Forget every file and chunk (and the vector cache and the folder list unless kept) in one
        transaction; the generation moves on, so every derived index empties itself. Returns it."""
        def fn(txn: lmdb.Transaction) -> int:
            for db in (self.files, self.problems, self.chunks) + (() if keep_vectors else (self.vectors,)):
                txn.drop(db, delete=False)
            for key in (b"last_indexed", b"vectors_pending") + (() if keep_roots else (b"roots",)):
                txn.delete(key, db=self.meta)
            generation = int(json.loads(txn.get(b"generation", b"0", db=self.meta))) + 1
            txn.put(b"generation", str(generation).encode(), db=self.meta)
            return generation
        return self._write(fn)

    def _drop_file(self, txn: lmdb.Transaction, path: str) -> list[int]:
        key = os.fsencode(path)
        raw = txn.get(key, db=self.files)
        txn.delete(key, db=self.problems)
        if raw is None:
            return []
        ids = json.loads(raw).get("chunk_ids", [])
        for cid in ids:
            txn.delete(encode_id(cid), db=self.chunks)
        txn.delete(key, db=self.files)
        return ids


def txn_needs_schema(store: Store) -> bool:
    """No schema stamped yet (a new store), or an older one this version upgrades in place."""
    with store.read() as txn:
        raw = txn.get(b"schema", db=store.meta)
    return raw is None or int(raw) in _UPGRADABLE


class _Environments:
    """py-lmdb allows one Environment per file per process: share it, count users, close with the last.

    Opened writable whenever the folder allows, so a reader and the indexer in one process (the GUI)
    share it; `Store.readonly` then only limits what that Store may do.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, list] = {}  # path -> [env, users, gate, write lock]

    def acquire(self, path: Path, readonly: bool) -> lmdb.Environment:
        key = os.path.realpath(path)
        with self._lock:
            entry = self._open.get(key)
            if entry is None:
                entry = [self._open_env(path, readonly), 0, _Gate(), threading.Lock()]
                self._open[key] = entry
            elif not readonly and entry[0].flags()["readonly"]:
                raise StoreError(f"The library store {path} is open read-only in this process")
            entry[1] += 1
            return entry[0]

    @staticmethod
    def _open_env(path: Path, readonly: bool) -> lmdb.Environment:
        try:
            writable = not readonly or os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
            return lmdb.open(str(path), subdir=False, max_dbs=8, map_size=INITIAL_MAP_SIZE,
                             readonly=not writable, readahead=False, max_readers=256, lock=True)
        except lmdb.Error as exc:
            raise StoreError(f"Cannot open the library store {path}: {exc}") from exc

    def gate(self, path: Path) -> _Gate:
        return self._open[os.path.realpath(path)][2]

    def write_lock(self, path: Path) -> threading.Lock:
        return self._open[os.path.realpath(path)][3]

    def release(self, path: Path) -> None:
        key = os.path.realpath(path)
        with self._lock:
            entry = self._open[key]
            entry[1] -= 1
            if entry[1] == 0:
                entry[0].close()
                del self._open[key]


_envs = _Environments()
