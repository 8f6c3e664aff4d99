"""The live path, end to end: a change on disk, the real watcher (inotify), the background service, the store.

Moves, a folder rename, a delete and editors' saves through a temporary file are made on disk while
IndexService watches; once it settles, the store itself is read: paths, chunk texts, vectors, search in
every mode. The model is wrapped (it still runs) to count what the indexer embeds: a move must cost none.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import crashpoints
import numpy as np
import pytest

from seekwise.core.embedding import Encoder
from seekwise.core.library import Library
from seekwise.core.service import CpuBudget, IndexService

DATA = Path(__file__).parents[1] / "data" / "corpus"
DEBOUNCE_S = 0.2
MODES = ("hybrid", "dense", "lexical")


class Live:
    def __init__(self, lib: Library, service: IndexService, root: Path, embedded: list[str]) -> None:
        self.lib, self.service, self.root, self.embedded = lib, service, root, embedded

    def settle(self, done, what: str, timeout: float = 30.0) -> None:  # noqa: ANN001 - a predicate
        """Until the store shows `done()` and the service is idle, then a quiet spell with no more work."""
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, f"the watcher never brought {what} into the store"
            time.sleep(0.05)
        assert self.service.wait_idle(timeout)
        time.sleep(DEBOUNCE_S + 0.4)  # any later batch of the same operation has arrived by now
        assert self.service.wait_idle(timeout)
        assert done(), what

    def content(self, path: Path) -> tuple:
        """What the store holds for a file, apart from its name and chunk ids: record, chunks, vectors."""
        st = self.lib.store
        rec = st.get_file(str(path))
        assert rec is not None, f"{path} is not in the store"
        chunks = st.get_chunks(rec.chunk_ids)
        assert [c.id for c in chunks] == rec.chunk_ids and all(c.path == str(path) for c in chunks)
        vecs = st.get_vectors(self.lib.model_version, [c.digest for c in chunks], self.lib.manifest.dims)
        assert not np.isnan(vecs).any(), f"{path} has chunks without vectors"
        return ((rec.size, rec.mtime_ns, rec.sha256, rec.status, rec.kind),
                [(c.text, c.digest, c.start, c.end, c.line) for c in chunks], vecs.tobytes())

    def chunk_paths(self) -> set[str]:
        ids, _ = self.lib.store.chunk_digests()
        return {c.path for c in self.lib.store.get_chunks(ids.tolist())}

    def found(self, query: str, mode: str) -> list[str]:
        return [h.path for h in self.lib.search(query, k=10, mode=mode, mark=False)]


@pytest.fixture
def live(tmp_path, monkeypatch):
    root = tmp_path / "docs"
    shutil.copytree(DATA, root)
    paragraphs = crashpoints._paragraphs()
    (root / "projects" / "2024").mkdir(parents=True)
    for i in range(3):
        crashpoints.write_note(root / "projects", i, paragraphs)
    crashpoints.write_note(root / "projects" / "2024", 3, paragraphs)
    crashpoints.write_note(root, 4, paragraphs)
    root = Path(os.path.realpath(root))

    embedded: list[str] = []  # every text the indexer's model embedded (searches embed on other threads)
    real = Encoder.embed_documents

    def counted(self, texts):  # noqa: ANN001, ANN202 - a wrapper: the real model still runs
        if threading.current_thread().name == "seekwise-indexer":
            embedded.extend(texts)
        return real(self, texts)
    monkeypatch.setattr(Encoder, "embed_documents", counted)

    lib = Library(tmp_path / "lib", threads=2)
    lib.add_root(root)
    service = IndexService(lib, budget=CpuBudget(threads=2, nice=0), debounce_s=DEBOUNCE_S).start()
    try:
        assert service.wait_idle(120)
        assert service.watcher_problems() == []
        assert len(list(lib.store.iter_files())) == 11 and embedded
        yield Live(lib, service, root, embedded)
    finally:
        service.stop()
        lib.close()


def test_a_file_moved_to_another_folder_keeps_its_chunks_and_vectors(live):
    old = live.root / "note-004.txt"
    new = live.root / "projects" / "renamed-note.txt"
    before = live.content(old)
    assert live.found(crashpoints.keyword(4), "lexical") == [str(old)]
    n = len(live.embedded)

    os.rename(old, new)
    live.settle(lambda: live.lib.store.get_file(str(new)) and not live.lib.store.get_file(str(old)), "the move")

    assert live.embedded[n:] == [], "a move re-embedded its chunks"
    assert live.content(new) == before          # same record, chunk texts and vector bytes, new name
    assert str(old) not in live.chunk_paths()
    first = before[1][0][0]
    for mode, query in (("lexical", crashpoints.keyword(4)), ("dense", first), ("hybrid", first)):
        hits = live.found(query, mode)
        assert hits[0] == str(new) and str(old) not in hits, (mode, hits)


def test_a_folder_renamed_moves_everything_under_it(live):
    old, new = live.root / "projects", live.root / "archive 2024"
    inside = sorted(p.relative_to(old) for p in old.rglob("*.txt"))
    assert len(inside) == 4  # three notes and one in a sub-folder
    before = {rel: live.content(old / rel) for rel in inside}
    n = len(live.embedded)

    os.rename(old, new)
    store = live.lib.store
    live.settle(lambda: all(store.get_file(str(new / rel)) for rel in inside)
                and not list(store.iter_files(str(old) + os.sep)), "the folder rename")

    assert live.embedded[n:] == [], "a folder rename re-embedded its files"
    for rel in inside:
        assert live.content(new / rel) == before[rel], rel
    assert not any(p.startswith(str(old) + os.sep) for p in live.chunk_paths())
    assert len(list(store.iter_files())) == 11
    for i in range(4):
        hits = live.found(crashpoints.keyword(i), "lexical")
        assert len(hits) == 1 and hits[0].startswith(str(new) + os.sep), hits
    assert live.found("self assessment tax return deadline", "dense")[0] == str(live.root / "notes" / "tax-return.txt")


def test_a_deleted_file_leaves_the_store_and_every_search(live):
    gone = live.root / "projects" / "note-001.txt"
    ids = set(live.lib.store.get_file(str(gone)).chunk_ids)
    first = live.lib.store.get_chunks(sorted(ids))[0].text
    queries = {"lexical": crashpoints.keyword(1), "dense": first, "hybrid": f"{crashpoints.keyword(1)} {first}"}
    for mode, query in queries.items():
        assert live.found(query, mode)[0] == str(gone), mode  # found before, in every mode

    gone.unlink()
    live.settle(lambda: live.lib.store.get_file(str(gone)) is None, "the delete")

    assert not live.lib.store.get_chunks(sorted(ids))
    assert str(gone) not in live.chunk_paths()
    assert not ids & live.lib.derived.current_ann().live
    lexical = live.lib.derived.current_lexical()  # the keyword index itself, not only what search shows
    assert len(lexical) == len(live.lib.store.chunk_digests()[0])
    assert not len(lexical.search(crashpoints.keyword(1), 10)[0])
    assert live.found(crashpoints.keyword(1), "lexical") == []
    for mode, query in queries.items():
        assert str(gone) not in live.found(query, mode), mode
    for dense in ("exact", "binary"):
        assert str(gone) not in [h.path for h in live.lib.search(first, k=10, mode="dense", dense=dense,
                                                                 mark=False)], dense
    assert len(list(live.lib.store.iter_files())) == 10


def editor_saves(path: Path, text: str, style: str) -> None:
    """Save as editors do, never writing the file in place."""
    if style == "backup":                        # vim (backupcopy=no), emacs: old one to name~, a new file
        backup = path.with_name(path.name + "~")
        os.rename(path, backup)
        path.write_text(text)
        backup.unlink()
        return
    temp = path.with_name(style.format(path.name))  # write beside, then rename over the document
    temp.write_text(text)
    os.replace(temp, path)


@pytest.mark.parametrize("style", ["{}.tmp", ".{}.swp", "{}~", ".goutputstream-X1Y2Z3", "backup"])
def test_a_save_through_a_temporary_file_replaces_the_content(live, style):
    path = live.root / "projects" / "note-002.txt"
    old_word = crashpoints.keyword(2)
    assert live.found(old_word, "lexical") == [str(path)]
    text = ("Pruning apple trees in winter\n\nCut out dead, diseased and crossing branches while the tree "
            "is dormant, then thin the crown so light reaches the fruiting spurs. The orchard ladder "
            "stays on firm ground; the loppers are sharpened before each pruning session.\n")
    n = len(live.embedded)

    editor_saves(path, text, style)
    store = live.lib.store
    live.settle(lambda: (rec := store.get_file(str(path))) is not None
                and any("orchard" in c.text for c in store.get_chunks(rec.chunk_ids)), f"the save ({style})")

    chunks = store.get_chunks(store.get_file(str(path)).chunk_ids)
    assert " ".join(c.text for c in chunks).split() == text.split()  # the new content, all of it, only it
    assert live.content(path)
    on_disk = {str(p) for p in path.parent.iterdir() if p.is_file()}
    assert {r.path for r in store.iter_files(str(path.parent) + os.sep) if os.path.dirname(r.path) == str(path.parent)} \
        == on_disk == {str(live.root / "projects" / f"note-00{i}.txt") for i in range(3)}  # no temp file indexed
    assert sorted(live.embedded[n:]) == sorted(c.text for c in chunks)  # the new chunks, each once
    for mode in MODES:
        assert live.found("pruning the orchard's apple trees in winter", mode)[0] == str(path), mode
    assert live.found(old_word, "lexical") == []
    assert str(path) not in live.found(f"{old_word} Ledger 2", "hybrid")
