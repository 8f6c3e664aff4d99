"""LMDB, the one source of truth: files, chunks, the vector cache and meta, written in whole batches."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import struct
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import lmdb
import numpy as np

from seekwise.core.errors import DiskFull, LibraryDamaged, StoreError
from seekwise.core.strenum import StrEnum

log = logging.getLogger(__name__)

# 2: chunk records may carry a page number. Schema 1 records are valid schema 2 records (page 0), so a
# schema 1 store is upgraded in place by the first writer; the bump keeps older Seekwise versions,
# which would misread a paged record, out of an upgraded store.
SCHEMA_VERSION = 2
_UPGRADABLE = frozenset({1})
INITIAL_MAP_SIZE = 1 << 30
FOLDERS_COPY = "folders.json"
_CHUNK_HEAD = struct.Struct("<32sIII")  # text digest, start, end, line
_PAGED = 0x8000_0000  # set in the path length: a 4-byte page number follows the path
_STATUS_FIELD = re.compile(rb'"status":\s*"([a-z]+)"')   # in a file record's JSON (Store.status_counts)
_ID = struct.Struct(">Q")  # big-endian so LMDB's byte order is numeric order
RELEASE_SECONDS = 0.5         # a writer hands its mapped store pages back at most this often (0.6 ms a time;
                              # the kernel maps 16 cached neighbours per page read: 5 s let 200 MB build up),
RELEASE_ROWS = 4096           # and a full scan every so many records (16384 let 60 MB of passages build up)
VECTOR_SLICE = 8192           # vectors an ANN rebuild reads at a time, never all
RELEASE_KEYS = 512            # vectors per LMDB call; a longer read hands the map back after each (<= 32 MB)
BULK_KEYS = 256               # the same for an index rebuild's slices (<= 16 MB: the run's peak); a search's
BULK_READ = 2048              # reads (under this many vectors) keep 512: releasing costs them 1-3 ms
# LMDB errors that mean the file is not what LMDB wrote: damage, never a bug of ours.
_DAMAGE = (lmdb.CorruptedError, lmdb.PageNotFoundError, lmdb.InvalidError, lmdb.VersionMismatchError,
           lmdb.PanicError)


def text_digest(chunking_version: str, text: str) -> bytes:
    """The model-independent half of a vector key."""
    return hashlib.sha256(f"{chunking_version}\0{text}".encode("utf-8", "surrogatepass")).digest()


def vector_key(model_version: str, digest: bytes) -> bytes:
    return model_version.encode() + b":" + digest


def encode_id(chunk_id: int) -> bytes:
    return _ID.pack(chunk_id)


def decode_id(raw: bytes) -> int:
    return _ID.unpack(raw)[0]


class FileStatus(StrEnum):
    """What became of a file, stored as its word in the file's record (the indexer assigns the words)."""

    OK = "ok"                      # read; its passages are searchable
    EMPTY = "empty"                # read, and no text in it
    UNSUPPORTED = "unsupported"    # not a file type Seekwise reads
    SKIPPED = "skipped"            # refused: too large, encrypted, a link leading out of the folders
    ERROR = "error"                # could not be read

    @property
    def is_problem(self) -> bool:
        """Listed among the problems (Library.status().problems)."""
        return self in (FileStatus.SKIPPED, FileStatus.ERROR)

    @classmethod
    def from_disk(cls, word: str) -> "FileStatus":
        """A stored word; one this version does not know (a newer Seekwise wrote it) reads as
        unsupported, so the file is read again if it is of a type this version reads."""
        try:
            return cls(word)
        except ValueError:
            return cls.UNSUPPORTED


@dataclass
class FileRecord:
    """What we know of one file; `status` says what became of it (FileStatus).

    `stale`: an ok file whose newer version could not be read; its last good chunks stay searchable
    and `reason` says why (listed among the problems as "stale").
    `awaits_ocr`: how many of its pages (or pictures) hold text only OCR can read, not read yet; the
    indexer's OCR pass reads them and sets it back to 0.
    """

    path: str
    size: int
    mtime_ns: int
    sha256: str = ""
    status: FileStatus = FileStatus.OK   # a word the indexer assigns later is read through FileStatus
    reason: str = ""
    kind: str = ""
    extractor: str = ""
    chunking: str = ""
    chunk_ids: list[int] = field(default_factory=list)
    indexed_at: float = 0.0
    stale: bool = False
    awaits_ocr: int = 0

    def __post_init__(self) -> None:
        self.status = FileStatus(self.status)

    def encode(self) -> bytes:
        data = asdict(self)
        del data["path"]
        data["status"] = FileStatus(self.status).value
        for name in ("stale", "awaits_ocr"):  # written only when set: other records read as before in older versions
            if not data[name]:
                del data[name]
        return json.dumps(data, separators=(",", ":")).encode()

    @property
    def problem(self) -> str | None:
        """What the problems list calls this file, or None when it is not one."""
        if self.stale:
            return "stale"
        status = FileStatus(self.status)
        return status.value if status.is_problem else None

    @classmethod
    def decode(cls, path: str, raw: bytes) -> "FileRecord":
        data = json.loads(raw)
        data["status"] = FileStatus.from_disk(data.get("status", FileStatus.OK.value))
        return cls(path=path, **data)


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

    @staticmethod
    def path_of(raw: bytes) -> str:
        """The file a stored chunk belongs to, without decoding its text."""
        (plen,) = struct.unpack_from("<I", raw, _CHUNK_HEAD.size)
        start = _CHUNK_HEAD.size + 4
        return os.fsdecode(bytes(raw[start:start + (plen & ~_PAGED)]))

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

    _released_at = 0.0   # when this writer last handed its mapped pages back (release_mapped_pages)

    def __init__(self, path: Path, readonly: bool = False, new_ok: bool = True) -> None:
        """`new_ok=False`: the library has other files, so an empty store is damage, not a new one."""
        self.path = Path(path)
        self.readonly = readonly
        if readonly and not self.path.exists():
            raise StoreError(f"No library at {self.path.parent} (nothing indexed yet)")
        self.env = _envs.acquire(self.path, readonly, new_ok)
        try:
            self._open_dbs()
        except BaseException:
            _envs.release(self.path)
            raise

    def _open_dbs(self) -> None:
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
            raise LibraryDamaged(self.path, "its tables are missing") from exc
        except _DAMAGE as exc:
            raise LibraryDamaged(self.path, _reason(exc)) from exc
        self.files, self.problems, self.chunks, self.vectors, self.meta = handles
        with self.read() as txn:
            self._check_schema(txn)
        if not self.readonly and txn_needs_schema(self):
            self._write(lambda t: t.put(b"schema", str(SCHEMA_VERSION).encode(), db=self.meta))
        if not self.readonly and not self.folders_copy.exists():
            self._copy_folders(self.get_meta("roots", []))

    @property
    def folders_copy(self) -> Path:
        """The folder list beside the store: what a repair indexes when the store itself is lost."""
        return self.path.with_name(FOLDERS_COPY)

    def _copy_folders(self, roots: object) -> None:
        tmp = self.folders_copy.with_name(FOLDERS_COPY + ".tmp")
        try:
            tmp.write_text(json.dumps(roots))
            os.replace(tmp, self.folders_copy)
        except OSError as exc:      # a convenience for repair: never a reason to fail a write
            log.info("cannot write %s: %s", self.folders_copy, exc)

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
                try:
                    txn = self.env.begin(buffers=False)
                except lmdb.MapResizedError:
                    self.env.set_mapsize(0)
                    txn = self.env.begin(buffers=False)
                try:
                    yield txn
                finally:
                    txn.abort()
            except _DAMAGE as exc:
                raise LibraryDamaged(self.path, _reason(exc)) from exc

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

    def file_chunk_ids(self, paths: Iterable[str]) -> dict[str, list[int]]:
        """path -> its chunk ids, for the paths that have a record, in one read."""
        keys = [os.fsencode(p) for p in paths]
        with self.read() as txn:
            found = txn.cursor(db=self.files).getmulti(keys)
        return {os.fsdecode(key): json.loads(raw).get("chunk_ids", []) for key, raw in found}

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

    def status_counts(self) -> dict[str, int]:
        """Files per status, read from each record's status field without decoding the rest (its
        chunk ids are most of it): a status poll during the meaning phase, which commits every few
        seconds, walks every record. In JSON a quote inside a string is escaped, so the pattern
        matches the key only."""
        counts: dict[str, int] = {}
        find = _STATUS_FIELD.search
        with self.read() as txn:
            for raw in txn.cursor(db=self.files).iternext(keys=False, values=True):
                found = find(raw)
                status = found.group(1).decode() if found else FileStatus.OK.value   # the field's default
                counts[status] = counts.get(status, 0) + 1
        return counts

    def awaiting_ocr(self) -> int:
        """Files with pictures whose text OCR has not read yet (0 at once when the flag says none)."""
        if not self.get_meta("ocr_pending"):
            return 0
        with self.read() as txn:
            return sum(1 for raw in txn.cursor(db=self.files).iternext(keys=False, values=True)
                       if b'"awaits_ocr":' in raw)

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

    def chunks_of_files(self, ids: Iterable[int]) -> set[int]:
        """Every chunk id of the files these chunks belong to, in one read (one file record a file)."""
        out: set[int] = set()
        with self.read() as txn:
            for cid in ids:
                cid = int(cid)
                if cid in out:
                    continue
                out.add(cid)
                raw = txn.get(encode_id(cid), db=self.chunks)
                if raw is None:
                    continue
                path = ChunkRecord.path_of(raw)
                rec = txn.get(os.fsencode(path), db=self.files)
                if rec is not None:
                    out.update(FileRecord.decode(path, rec).chunk_ids)
        return out

    def chunk_paths(self, ids: Iterable[int]) -> dict[int, str]:
        """chunk id -> the file it belongs to, for the ids still there, without decoding any text."""
        keys = [encode_id(int(cid)) for cid in ids]
        with self.read() as txn:
            return {decode_id(key): ChunkRecord.path_of(raw)
                    for key, raw in txn.cursor(db=self.chunks).getmulti(keys)}

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
                if len(ids) % RELEASE_ROWS == 0:
                    release_mapped_pages(self.path)   # the texts were read to get here: not kept in RSS
        return np.asarray(ids, dtype=np.int64), digests

    def chunk_digests_after(self, after_id: int) -> tuple[list[int], list[bytes]]:
        """Chunks with an id above `after_id`, with their digests. Ids only grow, so these are the
        chunks added since a look that saw `after_id`: a status keeps count without a full pass."""
        ids: list[int] = []
        digests: list[bytes] = []
        with self.read() as txn:
            cur = txn.cursor(db=self.chunks)
            if cur.set_range(encode_id(after_id + 1)):
                for raw_id, raw in cur:
                    ids.append(decode_id(raw_id))
                    digests.append(bytes(raw[:32]))
        return ids, digests

    def get_vectors(self, model_version: str, digests: Iterable[bytes], dims: int) -> np.ndarray:
        """Vectors for digests in order; a missing one is a row of NaN (caller decides)."""
        prefix = model_version.encode() + b":"
        keys = [prefix + d for d in digests]
        out = np.empty((len(keys), dims), dtype=np.float32)
        with self.read() as txn:
            cur = txn.cursor(db=self.vectors)
            # A catch-up reads every vector: in slices, and its random keys (the kernel maps 16 cached
            # neighbours of each page read) hand the map back every RELEASE_KEYS (BULK_KEYS in a rebuild),
            # or all of it stays.
            step = BULK_KEYS if len(keys) > BULK_READ else RELEASE_KEYS
            for start in range(0, len(keys), step):
                part = keys[start:start + step]
                pairs = cur.getmulti(part)
                if len(pairs) == len(part):  # all present (the usual case): one copy, no per-row work
                    out[start:start + len(part)] = np.frombuffer(b"".join(raw for _, raw in pairs),
                                                                 dtype=np.float32).reshape(len(part), dims)
                else:
                    found = dict(pairs)
                    for i, k in enumerate(part, start):
                        raw = found.get(k)
                        out[i] = np.frombuffer(raw, dtype=np.float32) if raw is not None else np.nan
                if len(keys) > RELEASE_KEYS:
                    release_mapped_pages(self.path)
        return out

    def vectors_in_slices(self, model_version: str, ids: np.ndarray, digests: list[bytes], positions: np.ndarray,
                          dims: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(chunk ids, vectors) for the chunks at `positions` of (ids, digests), VECTOR_SLICE at a time
        and only those that have a vector: what a vector index rebuilds from, never every vector at
        once, the map handed back after each slice."""
        for start in range(0, len(positions), VECTOR_SLICE):
            part = positions[start:start + VECTOR_SLICE]
            vecs = self.get_vectors(model_version, (digests[i] for i in part), dims)
            have = ~np.isnan(vecs).any(axis=1)
            yield ids[part][have], vecs[have]
            release_mapped_pages(self.path)

    def missing_vectors(self, model_version: str, digests: Iterable[bytes]) -> set[bytes]:
        """The digests without a vector for this model. Every lookup maps the leaf holding the vector:
        over a whole library that is the whole table, so the map is handed back as it goes."""
        prefix = model_version.encode() + b":"
        missing: set[bytes] = set()
        looked = 0
        with self.read() as txn:
            for d in digests:
                if txn.get(prefix + d, db=self.vectors) is None:
                    missing.add(d)
                looked += 1
                if looked % RELEASE_KEYS == 0:
                    release_mapped_pages(self.path)
        if looked > RELEASE_KEYS:
            release_mapped_pages(self.path)
        return missing

    def vector_digests(self, model_version: str) -> set[bytes]:
        """The digests that have a vector for this model, from the keys alone: for many digests, a
        few times quicker than a lookup each (missing_vectors)."""
        prefix = model_version.encode() + b":"
        have: set[bytes] = set()
        with self.read() as txn:
            cur = txn.cursor(db=self.vectors)
            if cur.set_range(prefix):
                for key in cur.iternext(keys=True, values=False):
                    if not key.startswith(prefix):
                        break
                    have.add(key[len(prefix):])
                    if len(have) % RELEASE_ROWS == 0:
                        release_mapped_pages(self.path)   # keys sit on the vectors' own leaves
        if len(have) > RELEASE_ROWS:
            release_mapped_pages(self.path)
        return have

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
                    if time.monotonic() - self._released_at >= RELEASE_SECONDS:
                        release_mapped_pages(self.path)
                        self._released_at = time.monotonic()
                    return result
                except lmdb.MapFullError:
                    self._grow()
                except lmdb.MapResizedError:
                    self.env.set_mapsize(0)
                except _DAMAGE as exc:
                    raise LibraryDamaged(self.path, _reason(exc)) from exc
                except (lmdb.Error, OSError) as exc:
                    # LMDB says EIO when a write comes up short, which is how a full disk often shows
                    if getattr(exc, "errno", None) == errno.ENOSPC or "No space" in str(exc) or self._disk_full():
                        raise DiskFull(f"The disk holding {self.path} is full; the last batch was not "
                                       "saved, everything before it is safe.") from exc
                    raise StoreError(f"Cannot write the library store {self.path}: {exc}") from exc

    def _disk_full(self) -> bool:
        """Less room than a batch needs (a few MB) on the store's filesystem."""
        try:
            return shutil.disk_usage(self.path.parent).free < 4 << 20
        except OSError:
            return False

    def _grow(self) -> None:
        with self._gate.exclusive():
            new_size = self.env.info()["map_size"] * 2
            log.info("store full, growing map to %d MiB", new_size >> 20)
            self.env.set_mapsize(new_size)

    def put_meta(self, key: str, value: object) -> None:
        def fn(txn: lmdb.Transaction) -> None:
            txn.put(key.encode(), json.dumps(value).encode(), db=self.meta)
        self._write(fn)
        if key == "roots":
            self._copy_folders(value)

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
                self._put_problem(txn, key, rec)
            for rec in touched:  # the record alone: its chunks stay (same content, or a stale file's)
                key = os.fsencode(rec.path)
                txn.put(key, rec.encode(), db=self.files)
                self._put_problem(txn, key, rec)
            generation = int(json.loads(txn.get(b"generation", b"0", db=self.meta))) + 1
            txn.put(b"next_id", str(next_id).encode(), db=self.meta)
            if vectors_pending is not None:  # chunks committed ahead of their vectors, or caught up
                txn.put(b"vectors_pending", json.dumps(vectors_pending).encode(), db=self.meta)
            txn.put(b"generation", str(generation).encode(), db=self.meta)
            return CommitResult(added, removed, generation)

        return self._write(fn)

    def put_raw_vectors(self, items: list[tuple[bytes, bytes]]) -> None:
        """Vectors under their full keys (model:digest), as a repair carries them over from a damaged store."""
        def fn(txn: lmdb.Transaction) -> None:
            for key, raw in items:
                txn.put(key, raw, db=self.vectors)
        self._write(fn)

    def clear(self, keep_vectors: bool = False, keep_roots: bool = False) -> int:
        """Forget every file and chunk (and the vector cache and the folder list unless kept) in one
        transaction; the generation moves on, so every derived index empties itself. Returns it."""
        def fn(txn: lmdb.Transaction) -> int:
            for db in (self.files, self.problems, self.chunks) + (() if keep_vectors else (self.vectors,)):
                txn.drop(db, delete=False)
            for key in (b"last_indexed", b"vectors_pending", b"ocr_pending") + (() if keep_roots else (b"roots",)):
                txn.delete(key, db=self.meta)
            generation = int(json.loads(txn.get(b"generation", b"0", db=self.meta))) + 1
            txn.put(b"generation", str(generation).encode(), db=self.meta)
            return generation
        generation = self._write(fn)
        if not keep_roots:
            self._copy_folders([])
        return generation

    def _put_problem(self, txn: lmdb.Transaction, key: bytes, rec: FileRecord) -> None:
        kind = rec.problem
        if kind:
            txn.put(key, json.dumps({"status": kind, "reason": rec.reason}).encode(), db=self.problems)
        else:
            txn.delete(key, db=self.problems)

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


def release_mapped_pages(path: Path) -> None:
    """Drop this process's resident pages of the store's map (Linux; elsewhere nothing).

    LMDB maps the file read-only and shared: every page an index run reads or rewrites (random
    vector keys reach every leaf) stays resident in the process and counts in its RSS, so by the
    end of a first index the whole store did (some 70 MB of every 88 MB). MADV_DONTNEED on a shared
    file mapping only unmaps: the pages stay in the page cache, the data cannot change, and a
    later read faults them back in without I/O (a reader in another thread just faults)."""
    if _madvise is None:
        return
    real = os.path.realpath(path)
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            spans = [line.split(None, 1)[0] for line in fh if line.rstrip("\n").endswith(real)
                     and line.split(None, 5)[-1].rstrip("\n") == real]
    except OSError:
        return
    for span in spans:
        lo, hi = (int(x, 16) for x in span.split("-"))
        _madvise(lo, hi - lo, _MADV_DONTNEED)


def _libc_madvise():  # noqa: ANN202 - ctypes function or None
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int), ctypes.c_int
    return fn


_MADV_DONTNEED = 4
_madvise = _libc_madvise()


def _reason(exc: lmdb.Error) -> str:
    """LMDB's words without the function name and error code it puts first."""
    text = str(exc)
    return "LMDB reports: " + (text.rsplit(": ", 1)[-1] if ": " in text else text or type(exc).__name__)


def txn_needs_schema(store: Store) -> bool:
    """No schema stamped yet (a new store), or an older one this version upgrades in place."""
    with store.read() as txn:
        raw = txn.get(b"schema", db=store.meta)
    return raw is None or int(raw) in _UPGRADABLE


@dataclass
class _OpenEnvironment:
    """One store file's shared environment, with what every Store on that file shares along with it."""

    env: lmdb.Environment
    gate: _Gate
    write_lock: threading.Lock
    users: int = 0


class _Environments:
    """py-lmdb allows one Environment per file per process: share it, count users, close with the last.

    Opened writable whenever the folder allows, so a reader and the indexer in one process (the GUI)
    share it; `Store.readonly` then only limits what that Store may do.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, _OpenEnvironment] = {}  # by real path

    def acquire(self, path: Path, readonly: bool, new_ok: bool = True) -> lmdb.Environment:
        key = os.path.realpath(path)
        with self._lock:
            entry = self._open.get(key)
            if entry is None:
                entry = _OpenEnvironment(self._open_env(path, readonly, new_ok), _Gate(), threading.Lock())
                self._open[key] = entry
            elif not readonly and entry.env.flags()["readonly"]:
                raise StoreError(f"The library store {path} is open read-only in this process")
            entry.users += 1
            return entry.env

    @staticmethod
    def _open_env(path: Path, readonly: bool, new_ok: bool = True) -> lmdb.Environment:
        """Checked before LMDB maps it: a short file would end the process with SIGBUS."""
        header = read_header(path) if path.exists() or path.is_symlink() else None
        if header is None and not new_ok:
            raise LibraryDamaged(path, "it is empty or missing, yet the library's indexes are there")
        lock = Path(str(path) + "-lock")
        try:
            writable = not readonly or os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
            return lmdb.open(str(path), subdir=False, max_dbs=8, map_size=INITIAL_MAP_SIZE,
                             readonly=not writable, readahead=False, max_readers=256, lock=True)
        except _DAMAGE as exc:
            raise LibraryDamaged(path, _reason(exc)) from exc
        except lmdb.Error as exc:
            if lock.is_dir() or lock.exists() and not lock.is_file():
                raise LibraryDamaged(lock, "it is not a plain file", kind="lock file",
                                     advice="Remove it (it holds no data; Seekwise makes a new one) "
                                            "or run `seekwise repair`.") from exc
            if isinstance(exc, lmdb.ReadonlyError) or "ermission denied" in str(exc):
                raise StoreError(f"Cannot open the library's store {path} (permission denied): give your "
                                 f"user read and write access to it, {lock.name} and their folder.") from exc
            if getattr(exc, "errno", None) == errno.ENOSPC or "No space" in str(exc):
                raise DiskFull(f"The disk holding {path} is full: free some space and try again.") from exc
            raise StoreError(f"Cannot open the library's store {path}: {exc}") from exc

    def gate(self, path: Path) -> _Gate:
        return self._open[os.path.realpath(path)].gate

    def write_lock(self, path: Path) -> threading.Lock:
        return self._open[os.path.realpath(path)].write_lock

    def release(self, path: Path) -> None:
        key = os.path.realpath(path)
        with self._lock:
            entry = self._open[key]
            entry.users -= 1
            if entry.users == 0:
                entry.env.close()
                del self._open[key]


_envs = _Environments()


# -- the file's own header, read before LMDB maps it ----------------------------------------------
# LMDB 0.9 (what py-lmdb bundles), 64-bit: a page header (pgno u64, pad u16, flags u16, lower u16,
# upper u16), then on pages 0 and 1 MDB_meta: magic u32, version u32, address, mapsize, two MDB_db
# (pad = page size in the free DB's, flags, depth, branch/leaf/overflow pages, entries, root), last
# page, txnid. Mapping a file shorter than the pages its header names ends in SIGBUS on first touch,
# so the length is checked here, with pread, first.

_PAGEHDR = 16
_META = struct.Struct("=IIQQ48s48sQQ")
_DB = struct.Struct("=IHHQQQQQ")
_NODE = struct.Struct("=HHHH")
_MAGIC, _DATA_VERSION = 0xBEEFC0DE, 1
_P_BRANCH, _P_LEAF, _P_OVERFLOW, _P_META, _F_BIGDATA = 0x01, 0x02, 0x04, 0x08, 0x01
_P_INVALID = (1 << 64) - 1


@dataclass(frozen=True)
class StoreHeader:
    page_size: int
    last_page: int
    txnid: int
    free_root: int

    @property
    def needed_bytes(self) -> int:
        return (self.last_page + 1) * self.page_size


def read_header(path: Path) -> StoreHeader | None:
    """The newer of the two meta pages; None for an empty file (LMDB makes a new store of it).
    Raises LibraryDamaged when the header is unreadable or names pages the file does not hold."""
    if struct.calcsize("P") != 8:   # pragma: no cover - a 32-bit build lays the meta out otherwise
        return None
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size == 0:
                return None
            first = _read_meta(fh, 0, size, path)
            second = _read_meta(fh, first.page_size, size, path)
            newest = second if second.txnid > first.txnid else first
            if size < newest.needed_bytes and not _tail_is_free(fh, newest, size):
                raise LibraryDamaged(path, f"shorter than its own header says: {size:,} of "
                                           f"{newest.needed_bytes:,} bytes")
            return newest
    except IsADirectoryError:
        raise LibraryDamaged(path, "it is a folder, not a file") from None
    except PermissionError as exc:
        raise StoreError(f"Cannot read the library's store {path} ({exc.strerror}): give your user "
                         "read and write access to it and to its folder.") from None


def _read_at(fh, count: int, offset: int) -> bytes:  # noqa: ANN001
    """count bytes at offset of an open binary file: os.pread where there is one (not on Windows)."""
    if hasattr(os, "pread"):
        return os.pread(fh.fileno(), count, offset)
    fh.seek(offset)
    return fh.read(count)


def _read_meta(fh, offset: int, size: int, path: Path) -> StoreHeader:  # noqa: ANN001
    raw = _read_at(fh, _PAGEHDR + _META.size, offset)
    if len(raw) < _PAGEHDR + _META.size:
        raise LibraryDamaged(path, f"shorter than its own header: {size:,} bytes")
    flags = struct.unpack_from("=H", raw, 10)[0]
    magic, version, _, _, free_db, _, last_page, txnid = _META.unpack_from(raw, _PAGEHDR)
    if not flags & _P_META or magic != _MAGIC:
        raise LibraryDamaged(path, "it does not start with an LMDB header")
    if version != _DATA_VERSION:
        raise LibraryDamaged(path, f"LMDB data version {version}, this Seekwise reads {_DATA_VERSION}")
    page_size, *_, free_root = _DB.unpack(free_db)
    if page_size < 512 or page_size > 0x10000 or page_size & (page_size - 1):
        raise LibraryDamaged(path, f"its header names a page size of {page_size}")
    return StoreHeader(page_size, last_page, txnid, free_root)


def _tail_is_free(fh, head: StoreHeader, size: int) -> bool:  # noqa: ANN001
    """LMDB may leave the last pages unwritten when its free list holds them: accept a short file
    only if every page it lacks is on the free list (read with pread, never a map)."""
    pages = size // head.page_size
    if head.last_page + 1 - pages > 1 << 20:
        return False
    free = free_pages(fh, head, pages)
    return free is not None and set(range(pages, head.last_page + 1)) <= free


def free_pages(fh, head: StoreHeader, pages: int) -> set[int] | None:  # noqa: ANN001
    """Every page number on the free list of `head`; None if walking it needs a page past `pages`
    or finds something LMDB would not have written."""
    psize, free = head.page_size, set()
    if head.free_root == _P_INVALID:
        return free

    def page(pgno: int, count: int = 1) -> bytes | None:
        if pgno + count > pages:
            return None
        raw = _read_at(fh, psize * count, pgno * psize)
        return raw if len(raw) == psize * count else None

    todo, seen = [head.free_root], set()
    while todo:
        pgno = todo.pop()
        raw = page(pgno) if pgno not in seen else None
        if raw is None:
            return None
        seen.add(pgno)
        flags, lower = struct.unpack_from("=HH", raw, 10)
        for i in range(max(0, lower - _PAGEHDR) // 2):
            (ptr,) = struct.unpack_from("=H", raw, _PAGEHDR + 2 * i)
            if ptr + _NODE.size > psize:
                return None
            lo, hi, nflags, ksize = _NODE.unpack_from(raw, ptr)
            if flags & _P_BRANCH:
                todo.append(lo | hi << 16 | nflags << 32)
                continue
            if not flags & _P_LEAF:
                return None
            data, dsize, start = raw, lo | hi << 16, ptr + _NODE.size + ksize
            if nflags & _F_BIGDATA:
                if start + 8 > psize:
                    return None
                (over,) = struct.unpack_from("=Q", raw, start)
                data, start = page(over, (_PAGEHDR + dsize + psize - 1) // psize), _PAGEHDR
                if data is None:
                    return None
            if dsize < 8 or start + dsize > len(data):
                return None
            (count,) = struct.unpack_from("=Q", data, start)
            if 8 * (count + 1) > dsize:
                return None
            free.update(struct.unpack_from(f"={count}Q", data, start + 8))
    return free
