"""A search that catches an index up while the writer commits must not undo the writer's additions.

The GUI shares one Library between the indexing thread and its search threads; this pins the
interleaving that once dropped freshly indexed chunks from the HNSW index for good."""

from __future__ import annotations

import threading

from seekwise.core.library import Library


def _chunks_with_vectors(lib: Library) -> set[int]:
    ids, digests = lib.store.chunk_digests()
    vecs = lib.store.get_vectors(lib.model_version, digests, lib.manifest.dims)
    return {int(i) for i, v in zip(ids, vecs) if not (v != v).any()}


def test_catch_up_during_a_commit_keeps_the_new_chunks(tmp_path, corpus):
    lib = Library(tmp_path / "lib", threads=2)
    try:
        lib.index([corpus])
        ann = lib.derived.current_ann()
        ann.generation = -1           # the store is ahead: the moment between a commit and its index update
        read, indexed = threading.Event(), threading.Event()
        original = lib.store.chunk_digests

        def snapshot_then_linger():   # the search's snapshot of the store, then the writer gets a turn
            result = original()
            if threading.current_thread().name == "search" and not read.is_set():
                read.set()
                indexed.wait(3.0)     # with the fix the writer waits for us instead: this times out
            return result

        lib.store.chunk_digests = snapshot_then_linger
        search = threading.Thread(target=lib.derived.current_ann, name="search")
        search.start()
        assert read.wait(10)
        (corpus / "volcano.txt").write_text("The quarterly volcano inspection found fresh lava vents "
                                            "on the northern slope and the seismographs recorded tremors.")
        writer = threading.Thread(target=lambda: (lib.index([corpus]), indexed.set()), name="writer")
        writer.start()
        search.join(20)
        writer.join(60)
        assert not search.is_alive() and not writer.is_alive()
        lib.store.chunk_digests = original
        (corpus / "kites.txt").write_text("How to fly a kite on a windy beach without tangling the line.")
        lib.index([corpus])           # the next commit brings the index's generation level with the store

        assert _chunks_with_vectors(lib) <= set(lib.derived.current_ann().live)
        hits = lib.search("volcano inspection lava", k=3, mode="dense")
        assert hits and hits[0].path.endswith("volcano.txt")
    finally:
        lib.close()
