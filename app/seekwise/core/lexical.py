"""The keyword index: SQLite FTS5 over chunk text with BM25, derived from the store and rebuilt when in doubt."""

from __future__ import annotations

import errno
import functools
import logging
import math
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from seekwise.core.errors import DiskFull, StoreError
from seekwise.core.paths import set_aside
from seekwise.core.store import Store

log = logging.getLogger(__name__)

# Part of the index's identity: a different tokenizer means a different index.
TOKENIZE = "porter unicode61 remove_diacritics 2"
FORMAT = "1"
REBUILD_BATCH = 2000
# The unary + keeps SQLite from handing FTS5 one rowid lookup per id (a full query re-run each time:
# 7 ms median, 133 ms p95 for coverage on NFCorpus); matches are scanned once and filtered (0.4/5 ms).
_WITHIN = "+rowid IN (SELECT id FROM temp.within)"
_BARRED = "+rowid NOT IN (SELECT id FROM temp.barred)"
# BM25 costs ~1.5 us per matching chunk, a plain scan of matches ~0.05 us. Past this many matches of a
# query's words (frequent words in a large library: 76,000 for one query of 195,000 chunks, 123 ms),
# the rarest words find a pool first and every word scores only the pool.
SCORED_MATCHES = 20_000
NARROW_POOL = 1000
_DAMAGED_CODES = {11, 26}   # SQLITE_CORRUPT, SQLITE_NOTADB
_FULL_CODE = 13             # SQLITE_FULL


def _code(exc: sqlite3.Error) -> int | None:
    """The primary result code (SQLITE_CORRUPT_VTAB is SQLITE_CORRUPT with more said)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if code is not None else None


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    code = _code(exc)
    return code in _DAMAGED_CODES if code is not None else type(exc) is sqlite3.DatabaseError


def _heals(method):  # noqa: ANN001, ANN202
    """A damaged page met after opening: the file is derived, so it is set aside, rebuilt from the
    store and asked again; a full disk is DiskFull, not a raw sqlite error."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if _code(exc) == _FULL_CODE or "disk is full" in str(exc):
                raise DiskFull(f"The disk holding {self.path} is full: free some space; what was "
                               "committed is safe and indexing resumes where it stopped.") from exc
            if not _is_damage(exc):
                raise
            with self._lock:
                self._recover(exc)
            return method(self, *args, **kwargs)
    return wrapper


class LexicalIndex:
    """FTS5 table keyed by chunk id (rowid); `generation` says which store commit it reflects."""

    def __init__(self, path: Path, on_rebuilt: Callable[["LexicalIndex"], None] | None = None) -> None:
        """`on_rebuilt` refills a table that damage emptied (the owner knows the store)."""
        self.path = Path(path)
        self.on_rebuilt = on_rebuilt
        self._lock = threading.RLock()
        self._db = self._open()
        self._doc_freq: tuple[int, dict[str, int]] = (-1, {})
        self._row_count: tuple[int, int] = (-1, 0)

    def _recover(self, exc: BaseException) -> None:
        log.warning("keyword index %s damaged (%s); rebuilding it from the store", self.path, exc)
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        self._db = self._open(damaged=exc)
        self._doc_freq = (-1, {})
        self._row_count = (-1, 0)
        if self.on_rebuilt is not None:
            self.on_rebuilt(self)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=10000")  # a reader and the indexer may meet
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _open(self, damaged: BaseException | None = None) -> sqlite3.Connection:
        try:
            if damaged is not None:
                raise damaged
            db = self._connect()
            fresh = not self._schema_ok(db)
        except sqlite3.DatabaseError as exc:  # not a database, torn file, a folder: derived, start over
            if _code(exc) == _FULL_CODE or "disk is full" in str(exc):
                raise DiskFull(f"The disk holding {self.path} is full: free some space.") from exc
            in_the_way = self.path.exists() and not self.path.is_file()
            if not _is_damage(exc) and not in_the_way:   # busy, locked: the file may well be fine
                raise StoreError(f"Cannot open the keyword index {self.path}: {exc}") from exc
            if exc is not damaged:
                log.warning("keyword index unreadable (%s); rebuilding", exc)
            try:
                if self.path.exists() or self.path.is_symlink():
                    set_aside(self.path)
                for suffix in ("-wal", "-shm"):
                    Path(str(self.path) + suffix).unlink(missing_ok=True)
                db = self._connect()
            except (OSError, sqlite3.Error) as again:
                if isinstance(again, OSError) and again.errno == errno.ENOSPC or "disk is full" in str(again):
                    raise DiskFull(f"The disk holding {self.path} is full: free some space.") from again
                raise StoreError(f"Cannot make the keyword index {self.path} ({again}): check that the "
                                 "library's folder is writable and has room.") from again
            fresh = True
        if fresh:
            self._create(db)
        return db

    def _create(self, db: sqlite3.Connection) -> None:
        try:
            db.executescript(f"""
                DROP TABLE IF EXISTS chunks;
                DROP TABLE IF EXISTS meta;
                CREATE VIRTUAL TABLE chunks USING fts5(text, tokenize='{TOKENIZE}');
                CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);
                INSERT INTO meta VALUES ('format', '{FORMAT}'), ('tokenize', '{TOKENIZE}'),
                                        ('generation', '-1');
            """)
        except sqlite3.OperationalError as exc:
            if "disk is full" in str(exc) or _code(exc) == _FULL_CODE:
                raise DiskFull(f"The disk holding {self.path} is full: free some space.") from exc
            raise

    @staticmethod
    def _schema_ok(db: sqlite3.Connection) -> bool:
        try:
            meta = dict(db.execute("SELECT key, value FROM meta"))
        except sqlite3.OperationalError:
            return False
        return meta.get("format") == FORMAT and meta.get("tokenize") == TOKENIZE

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- keeping in step with the store --------------------------------------------------------

    @property
    @_heals
    def generation(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
        return int(row[0]) if row else -1

    @_heals
    def apply(self, added: Iterable[tuple[int, str]], removed: Iterable[int], generation: int) -> None:
        """One store commit's chunks in and out, in one SQLite transaction."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM chunks WHERE rowid = ?", ((int(i),) for i in removed))
            self._db.executemany("INSERT OR REPLACE INTO chunks(rowid, text) VALUES (?, ?)",
                                 ((int(i), t) for i, t in added))
            self._set_generation(generation)

    def _set_generation(self, generation: int) -> None:
        self._db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation),))

    @_heals
    def reconcile(self, store: Store) -> tuple[int, int]:
        """Make the table hold exactly the store's chunks; returns (added, removed)."""
        generation = store.generation()
        ids, _ = store.chunk_digests()
        wanted = set(ids.tolist())
        with self._lock:
            have = {row[0] for row in self._db.execute("SELECT rowid FROM chunks")}
            stale = list(have - wanted)
            missing = sorted(wanted - have)
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("DELETE FROM chunks WHERE rowid = ?", ((i,) for i in stale))
                for start in range(0, len(missing), REBUILD_BATCH):
                    recs = store.get_chunks(missing[start:start + REBUILD_BATCH])
                    self._db.executemany("INSERT OR REPLACE INTO chunks(rowid, text) VALUES (?, ?)",
                                         ((r.id, r.text) for r in recs))
                self._set_generation(generation)
        if missing or stale:
            log.info("keyword index caught up: +%d -%d chunks", len(missing), len(stale))
        return len(missing), len(stale)

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())

    # -- queries -------------------------------------------------------------------------------

    @_heals
    def search(self, match: str, k: int, within: np.ndarray | None = None,
               narrow: str | None = None, without: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, BM25 scores, higher is better), best first; `within` limits to those ids,
        `without` bars those (before the best k are taken, so k still come back if k qualify).
        `narrow` (see narrowing_terms): a cheaper expression whose best NARROW_POOL chunks are the only
        ones `match` scores."""
        sql = "SELECT rowid, -bm25(chunks) FROM chunks WHERE chunks MATCH ?"
        with self._lock:
            if narrow is not None:
                within, _ = self.search(narrow, max(k, NARROW_POOL), within, without=without)
            if within is not None and without is not None:
                within = np.setdiff1d(within, without)
            if within is None and without is not None and len(without):
                self._load_ids("barred", without)
                rows = self._db.execute(sql + " AND " + _BARRED + " ORDER BY rank LIMIT ?", (match, k)).fetchall()
            elif within is None:
                rows = self._db.execute(sql + " ORDER BY rank LIMIT ?", (match, k)).fetchall()
            else:
                # No ORDER BY rank here: FTS5 would score every match before the filter; unordered,
                # only the rows that pass it are scored, and we sort those.
                self._load_within(within)
                rows = self._db.execute(sql + " AND " + _WITHIN, (match,)).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        scores = np.fromiter((r[1] for r in rows), dtype=np.float32, count=len(rows))
        if within is not None:
            best = np.argsort(-scores, kind="stable")[:k]
            ids, scores = ids[best], scores[best]
        return ids, scores

    def narrowing_terms(self, terms: list[str]) -> list[str] | None:
        """The rarest of `terms` whose matches BM25 can afford to score, when all of them would cost
        too much; None when scoring every match is cheap enough (or no subset would be cheaper)."""
        if len(terms) < 2:
            return None
        freq = {t: self.doc_freq(t) for t in terms}
        if sum(freq.values()) <= SCORED_MATCHES:
            return None
        chosen, total = [], 0
        for term in sorted(terms, key=freq.__getitem__):
            if chosen and total + freq[term] > SCORED_MATCHES:
                break
            chosen.append(term)
            total += freq[term]
        return chosen if len(chosen) < len(terms) else None

    @_heals
    def doc_freq(self, term: str) -> int:
        """Chunks holding `term` (an FTS5 string); counted once per generation (a scan, no scoring)."""
        with self._lock:
            generation = self.generation
            if self._doc_freq[0] != generation:
                self._doc_freq = (generation, {})
            cache = self._doc_freq[1]
            if term not in cache:
                cache[term] = self._db.execute("SELECT count(*) FROM chunks WHERE chunks MATCH ?",
                                               (term,)).fetchone()[0]
            return cache[term]

    def full_match(self, terms: list[str]) -> float:
        """The BM25 of a passage of average length holding each of `terms` once: the sum of their IDFs
        as FTS5's bm25() weighs them, the scale on which a passage's keyword match is absolute."""
        total = self._rows()
        score = 0.0
        for term in terms:
            found = self.doc_freq(term)
            score += max(1e-6, math.log((total - found + 0.5) / (found + 0.5))) if found else 0.0
        return score

    def _rows(self) -> int:
        """Passages in the index, once per generation: from FTS5's own averages record (the row count
        bm25 itself reads) rather than a count(*), which reads every row's size (55 ms for a
        one-off search at 180k passages, 10 ms warm)."""
        generation = self.generation
        if self._row_count[0] != generation:
            with self._lock:
                row = self._db.execute("SELECT block FROM chunks_data WHERE id = 1").fetchone()
            counted = fts5_row_count(row[0]) if row and isinstance(row[0], bytes) else None
            self._row_count = (generation, counted if counted is not None else len(self))
        return self._row_count[1]

    @_heals
    def matches(self, match: str) -> np.ndarray:
        """Every chunk id whose text satisfies `match` (sorted): a scan of matches, no scoring."""
        with self._lock:
            rows = self._db.execute("SELECT rowid FROM chunks WHERE chunks MATCH ?", (match,)).fetchall()
        return np.unique(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))

    @_heals
    def matching(self, match: str, ids: Iterable[int]) -> set[int]:
        """Those of `ids` whose text satisfies `match` (phrase checks, exclusions)."""
        ids = np.fromiter((int(i) for i in ids), dtype=np.int64)
        if not len(ids):
            return set()
        with self._lock:
            self._load_within(ids)
            rows = self._db.execute(
                "SELECT rowid FROM chunks WHERE chunks MATCH ? AND " + _WITHIN, (match,)).fetchall()
        return {r[0] for r in rows}

    @_heals
    def coverage(self, terms: list[str], ids: np.ndarray) -> dict[int, float]:
        """For each of `ids`, the share of `terms` (FTS5 strings) its text holds."""
        if not terms or not len(ids):
            return {}
        counts: dict[int, int] = {}
        with self._lock:
            self._load_within(ids)
            for term in terms:
                for (rowid,) in self._db.execute(
                        "SELECT rowid FROM chunks WHERE chunks MATCH ? AND " + _WITHIN, (term,)):
                    counts[rowid] = counts.get(rowid, 0) + 1
        return {cid: n / len(terms) for cid, n in counts.items()}

    def _load_within(self, ids: np.ndarray) -> None:
        self._load_ids("within", ids)

    def _load_ids(self, table: str, ids: np.ndarray) -> None:
        self._db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table}(id INTEGER PRIMARY KEY)")
        self._db.execute(f"DELETE FROM temp.{table}")
        self._db.executemany(f"INSERT OR IGNORE INTO temp.{table} VALUES (?)", ((int(i),) for i in ids))

    @_heals
    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]


def fts5_row_count(averages: bytes) -> int | None:
    """The first field of an FTS5 table's averages record (its %_data row 1): the number of rows,
    as an SQLite varint (7 bits a byte, high bit set on all but the last; a ninth byte holds 8).
    None when the record is not what that says (the caller then counts)."""
    value = 0
    for i, byte in enumerate(averages[:9]):
        if i == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value
    return None
