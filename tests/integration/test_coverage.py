"""How much of the library meaning reaches, while the meaning phase is under way: Library.status
keeps its count of chunks without a vector up to date from what changed (chunks added, vectors
added, files gone) instead of a full pass per commit, and the count stays exact."""

from __future__ import annotations

import random
import time

import pytest
from seekwise.core.errors import Interrupted
from seekwise.core.library import Library

WORDS = ("garden kettle invoice tenancy bicycle sourdough tomato ledger harbour violin meadow lantern "
         "copper orchard parcel quarry saddle timber velvet walnut basket candle falcon glacier").split()


def write_notes(folder, names, seed: int = 7) -> None:
    rng = random.Random(seed)
    folder.mkdir(exist_ok=True)
    for name in names:
        paragraphs = [" ".join(rng.choice(WORDS) for _ in range(70)) + "." for _ in range(6)]
        (folder / name).write_text(f"{name}\n\n" + "\n\n".join(paragraphs) + "\n")


def lacking(lib: Library) -> int:
    """The truth, by a full pass: chunks whose text has no vector for the library's model."""
    _, digests = lib.store.chunk_digests()
    missing = lib.store.missing_vectors(lib.model_version, digests)
    return sum(1 for d in digests if d in missing)


def run_until(lib: Library, batches: int) -> None:
    """Index the library's folders, stopping once `batches` batches of the meaning phase are in."""
    phase = {"now": ""}
    seen = {"n": 0}

    def progress(p) -> None:
        phase["now"] = p.phase

    def checkpoint() -> None:
        if phase["now"] == "meaning":
            seen["n"] += 1
            if seen["n"] > batches:
                raise Interrupted()

    with lib.writing():
        indexer = lib.make_indexer()
        indexer.batch_misses = 16
        with pytest.raises(Interrupted):
            indexer.run(lib.roots(), progress, checkpoint=checkpoint)


def settled_status(lib: Library):
    # A recheck waits RECHECK_COST_SHARE times what the last one took (milliseconds here).
    time.sleep(0.2)
    return lib.status(problems=0)


def test_the_count_of_passages_without_a_vector_follows_the_meaning_phase(tmp_path):
    docs = tmp_path / "docs"
    write_notes(docs, [f"note-{n:02d}.txt" for n in range(12)])
    with Library(tmp_path / "lib", threads=1) as lib:
        lib.add_root(docs)
        run_until(lib, batches=1)
        st = lib.status(problems=0)
        assert st.keyword_files == 12 and st.chunks > 32
        assert st.chunks_without_vectors == lacking(lib) == st.chunks - 16    # one batch of 16 in
        assert st.meaning_share == pytest.approx(16 / st.chunks)
        assert st.meaning_eta_s is None               # no rate recorded yet (every 30 s, and at the end)
        lib.store.put_meta("embed_rate", 8.0)
        assert lib.status(problems=0).meaning_eta_s == pytest.approx(st.chunks_without_vectors / 8.0)

        run_until(lib, batches=1)                     # vectors came: the old gaps are checked again
        st = settled_status(lib)
        assert st.chunks_without_vectors == lacking(lib) == st.chunks - 32

        (docs / "note-00.txt").unlink()               # chunks go, with or without their vectors
        (docs / "note-11.txt").unlink()
        write_notes(docs, ["fresh-a.txt", "fresh-b.txt"], seed=99)   # and new ones come
        run_until(lib, batches=0)
        st = settled_status(lib)
        assert st.keyword_files == 12
        assert st.chunks_without_vectors == lacking(lib) > 0
        assert st.chunks_with_vectors + st.chunks_without_vectors == st.chunks
        assert lib.meaning_share() == pytest.approx(st.meaning_share)

        lib.index()
        st = lib.status(problems=0)
        assert st.chunks_without_vectors == lacking(lib) == 0
        assert st.meaning_share == 1.0 and st.meaning_eta_s is None and lib.meaning_share() == 1.0
