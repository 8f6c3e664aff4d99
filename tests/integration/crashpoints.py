"""Fault injection for the crash tests: run the real indexer and SIGKILL it at a chosen point.

    python crashpoints.py MODE POINT N DATA_DIR CORPUS OUT

MODE   index    Library.index over CORPUS (what `seekwise index` runs)
       service  IndexService with its watcher (what the GUI and `seekwise watch` run): the catch-up
                scan of CORPUS, then stop (which saves the ANN files)
       watch    the same service; after its catch-up it prints READY and the kill point is armed:
                the parent then writes files into CORPUS and the watcher's batch meets the kill
POINT  where the N-th call (counted once armed) kills the process, before that call does anything
       unless said:
       none           no kill: a clean run (the resume); OUT gets what the model embedded
       extract        Indexer._process, a file's text (read, extracted and chunked in an extraction
                      worker) taken into the batch
       isolated       the extraction pool's reply for a PDF or DOCX, once its request is with a worker
                      (the file being parsed in its own process): no worker may outlive us
       embed          Encoder.embed_documents: the batch's files are committed, its vectors are not
       commit-inside  Store.commit, inside its LMDB write transaction once every put is made,
                      before the transaction commits
       commit-after   Store.commit, just after it returned (before the derived indexes hear of it)
       lexical        LexicalIndex.apply: the store committed, the keyword index behind it
       ann-save       the N-th os.replace in ann.py (AnnIndex.save swaps three files: N=2 leaves
                      the new graph beside the old labels and no settings stamp)
       on-batch       IndexService._on_batch: a watcher batch arrived and is lost with the process
OUT    JSON: at a kill, what the store held at that moment (`snapshot`); after a clean run, the
       digests of every text the model embedded ({"embedded": [...]}, one entry per text)

Nothing is replaced: each point is a wrapper around the real function that, on its N-th call,
writes OUT and kills the process with SIGKILL; every other call goes through unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "corpus"
READY = "READY"
WATCH_TIMEOUT_S = 90.0
BATCH = 32  # chunks per commit in both phases of index mode too: the background service's own batch


# -- the corpus ---------------------------------------------------------------------------------

def _paragraphs() -> list[str]:
    out = []
    for path in sorted(DATA.rglob("*")):
        if path.suffix in (".txt", ".md"):
            for para in path.read_text().split("\n\n"):
                para = " ".join(para.split())
                if len(para.split()) >= 12:
                    out.append(para)
    return out


def keyword(i: int) -> str:
    """A word only file i holds (the lexical index keeps it whole)."""
    return f"quillon{i:03d}"


def write_note(folder: Path, i: int, paragraphs: list[str] | None = None) -> Path:
    """Three paragraphs of real prose (from tests/data/corpus), each marked with the file's number,
    and one sentence with the file's own keyword: about two chunks, none shared with another file."""
    paragraphs = paragraphs or _paragraphs()
    parts = [f"Note {i}, part {p}: {paragraphs[(i * 3 + p) % len(paragraphs)]}" for p in range(3)]
    parts.append(f"Ledger {i}: the reference {keyword(i)} belongs to this note alone, number {i * 7919}.")
    path = folder / f"note-{i:03d}.txt"
    path.write_text("\n\n".join(parts) + "\n")
    return path


def write_office(folder: Path, i: int, paragraphs: list[str] | None = None) -> Path:
    """Note i as a PDF of two pages (odd i) or a DOCX (even i): read in the isolated extraction worker."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import makedocs

    paragraphs = paragraphs or _paragraphs()
    parts = [f"Note {i}, part {p}: {paragraphs[(i * 3 + p) % len(paragraphs)]}" for p in range(3)]
    parts.append(f"Ledger {i}: the reference {keyword(i)} belongs to this note alone, number {i * 7919}.")
    if i % 2:
        path = folder / f"note-{i:03d}.pdf"
        lines = lambda ps: "\n".join(w for para in ps for w in _wrap(para))  # noqa: E731
        path.write_bytes(makedocs.pdf([lines(parts[:2]), lines(parts[2:])]))
    else:
        path = folder / f"note-{i:03d}.docx"
        path.write_bytes(makedocs.docx("".join(makedocs.w_p(para) for para in parts)))
    return path


def _wrap(text: str, width: int = 80) -> list[str]:
    out, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return out + [line] if line else out


def make_corpus(folder: Path, n: int, start: int = 0, office_every: int = 0) -> list[Path]:
    """n notes; with office_every, every office_every-th one a PDF or DOCX instead of text."""
    folder.mkdir(parents=True, exist_ok=True)
    paragraphs = _paragraphs()
    return [write_office(folder, i, paragraphs) if office_every and i % office_every == office_every - 1
            else write_note(folder, i, paragraphs) for i in range(start, start + n)]


# -- reading the store --------------------------------------------------------------------------

def snapshot(store, model_version: str) -> dict:  # noqa: ANN001 - a seekwise Store
    """Everything the store holds, as JSON: file records, chunks, and a hash of every vector's bytes."""
    files = {rec.path: asdict(rec) for rec in store.iter_files()}
    chunks = {}
    ids, _ = store.chunk_digests()
    for ch in store.get_chunks(ids.tolist()):
        chunks[str(ch.id)] = {"path": ch.path, "text": ch.text, "digest": ch.digest.hex(),
                              "start": ch.start, "end": ch.end, "line": ch.line, "page": ch.page}
    prefix = model_version.encode() + b":"
    vectors = {}
    with store.read() as txn:
        cur = txn.cursor(db=store.vectors)
        if cur.set_range(prefix):
            for key, raw in cur:
                if not key.startswith(prefix):
                    break
                vectors[key[len(prefix):].hex()] = hashlib.sha256(raw).hexdigest()
    return {"files": files, "chunks": chunks, "vectors": vectors,
            "generation": store.generation(), "vectors_pending": store.get_meta("vectors_pending")}


# -- the kill points ----------------------------------------------------------------------------

class Killer:
    def __init__(self, point: str, n: int, out: Path) -> None:
        self.point, self.n, self.out = point, n, out
        self.calls = 0
        self.armed = False
        self.library = None
        self._lock = threading.Lock()

    def hit(self) -> bool:
        """Count a call; True on the N-th one once armed."""
        with self._lock:
            if not self.armed:
                return False
            self.calls += 1
            return self.calls == self.n

    def kill(self) -> None:
        lib = self.library
        data = snapshot(lib.store, lib.model_version)
        data["point"], data["n"] = self.point, self.n
        from seekwise.core.extract import isolate
        data["extract_workers"] = isolate._shared.pids() if isolate._shared is not None else []
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.out)
        os.kill(os.getpid(), signal.SIGKILL)


def install(killer: Killer) -> None:
    from seekwise.core import ann
    from seekwise.core.embedding import Encoder
    from seekwise.core.lexical import LexicalIndex
    from seekwise.core.service import IndexService
    from seekwise.core.store import Store

    point = killer.point

    def before(owner, name):  # noqa: ANN001, ANN202
        real = getattr(owner, name)

        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if killer.hit():
                killer.kill()
            return real(*args, **kwargs)
        setattr(owner, name, wrapper)

    if point == "extract":
        from seekwise.core.indexer import Indexer
        before(Indexer, "_process")
    elif point == "isolated":
        from seekwise.core.extract.isolate import _Run
        real_submit, real_take = _Run.submit, _Run.take
        isolated: set[int] = set()      # tickets of the PDF and DOCX files

        def submit(self, job):  # noqa: ANN001, ANN202
            ticket = real_submit(self, job)
            if job.args[1].isolated:
                isolated.add(ticket)
            return ticket

        def take(self, ticket):  # noqa: ANN001, ANN202
            if ticket in isolated and killer.hit():
                # In the indexer's own thread (never mid-commit), once the file is with its worker;
                # a file already parsed (the pool reads ahead) leaves its worker on the next ones.
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and ticket not in self._replies and not any(
                        w.job is not None and w.job[0] == ticket and w.ready for w in self.pool._workers):
                    time.sleep(0.001)
                killer.kill()
            return real_take(self, ticket)
        _Run.submit, _Run.take = submit, take
    elif point == "embed":
        before(Encoder, "embed_documents")
    elif point == "lexical":
        before(LexicalIndex, "apply")
    elif point == "on-batch":
        before(IndexService, "_on_batch")
    elif point == "commit-after":
        real_commit = Store.commit

        def commit_after(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            result = real_commit(self, *args, **kwargs)
            if killer.hit():
                killer.kill()
            return result
        Store.commit = commit_after
    elif point == "commit-inside":
        real_commit, real_write = Store.commit, Store._write
        inside = threading.local()

        def commit_inside(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            inside.now = killer.hit()
            try:
                return real_commit(self, *args, **kwargs)
            finally:
                inside.now = False

        def write(self, fn):  # noqa: ANN001, ANN202
            if not getattr(inside, "now", False):
                return real_write(self, fn)

            def puts_then_die(txn):  # noqa: ANN001, ANN202
                fn(txn)              # every put of this commit made, the transaction still open
                killer.kill()        # (the snapshot is read in a transaction of its own)
            return real_write(self, puts_then_die)
        Store.commit, Store._write = commit_inside, write
    elif point == "ann-save":
        class _Os:
            """ann.py's view of the os module: the N-th os.replace kills."""

            def __getattr__(self, name):  # noqa: ANN001, ANN204
                return getattr(os, name)

            @staticmethod
            def replace(src, dst):  # noqa: ANN001, ANN205
                if killer.hit():
                    killer.kill()
                return os.replace(src, dst)
        ann.os = _Os()
    elif point != "none":
        raise SystemExit(f"unknown kill point {point!r}")


def count_embedding(chunking_version: str) -> list[str]:
    """Wrap (not replace) the model: every text it embeds for documents, by its chunk digest."""
    from seekwise.core.embedding import Encoder
    from seekwise.core.store import text_digest

    embedded: list[str] = []
    real = Encoder.embed_documents

    def counted(self, texts):  # noqa: ANN001, ANN202
        embedded.extend(text_digest(chunking_version, t).hex() for t in texts)
        return real(self, texts)
    Encoder.embed_documents = counted
    return embedded


# -- the run ------------------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    mode, point, n, data_dir, corpus, out = argv[0], argv[1], int(argv[2]), argv[3], argv[4], Path(argv[5])
    from seekwise.core import indexer
    from seekwise.core.library import Library
    from seekwise.core.service import CpuBudget, IndexService

    indexer.BATCH_MISSES = indexer.BATCH_CHUNKS = BATCH  # both phases commit every BATCH chunks
    killer = Killer(point, n, out)
    install(killer)
    lib = Library(data_dir, threads=1)
    killer.library = lib
    embedded = count_embedding(lib.chunker.get().version)
    if mode == "index":
        killer.armed = True
        lib.index([corpus])
    else:
        lib.add_root(corpus)
        service = IndexService(lib, budget=CpuBudget(threads=1, nice=0), debounce_s=0.3)
        killer.armed = mode == "service"
        service.start()
        if not service.wait_idle(120):
            raise SystemExit("the catch-up scan did not finish")
        if mode == "watch":
            killer.armed = True
            print(READY, flush=True)
            deadline = time.monotonic() + WATCH_TIMEOUT_S
            while time.monotonic() < deadline:  # the parent's files arrive; the kill ends this
                time.sleep(0.1)
            service.stop()
            print(f"not killed: {killer.calls} call(s) to {point}", file=sys.stderr)
            return 3
        service.stop()
    out.write_text(json.dumps({"embedded": embedded, "calls": killer.calls}))
    lib.close()
    if point != "none":
        print(f"not killed: {killer.calls} call(s) to {point}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
