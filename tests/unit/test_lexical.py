"""The keyword index on real SQLite FTS5: BM25 order, stemming, phrases, exclusions, catching up, rebuilding."""

from __future__ import annotations

import numpy as np

from seekwise.core.lexical import LexicalIndex
from seekwise.core.query import parse_query
from seekwise.core.store import FileChange, FileRecord, NewChunk, Store, text_digest

TEXTS = {
    1: "The landlord returns the security deposit within ten days.",
    2: "Deposits, deposits: every deposit paid is held in a protection scheme.",
    3: "Sow tomato seeds indoors in early spring.",
    4: "The security guard checked the bond papers.",
}


def make(tmp_path):
    lex = LexicalIndex(tmp_path / "lexical.sqlite")
    lex.apply(TEXTS.items(), [], generation=1)
    return lex


def search(lex, raw, k=10, within=None):
    return lex.search(parse_query(raw).ranking_match(), k, within)[0].tolist()


def test_bm25_ranks_by_term_weight_and_stems(tmp_path):
    lex = make(tmp_path)
    assert search(lex, "deposit")[0] == 2          # three stemmed matches beat one
    assert set(search(lex, "deposited")) == {1, 2}  # porter: deposited ~ deposit ~ deposits
    assert search(lex, "greenhouse") == []
    assert lex.generation == 1 and len(lex) == 4


def test_phrases_are_required_and_exclusions_removed(tmp_path):
    lex = make(tmp_path)
    q = parse_query('"security deposit" landlord')
    assert lex.search(q.ranking_match(), 10)[0].tolist() == [1]
    assert lex.matching(q.required_match(), [1, 2, 3, 4]) == {1}
    q = parse_query("security -bond")
    assert lex.search(q.ranking_match(), 10)[0].tolist() == [1]
    assert lex.matching(q.excluded_match(), [1, 2, 3, 4]) == {4}


def test_within_limits_the_candidates(tmp_path):
    lex = make(tmp_path)
    assert search(lex, "deposit", within=np.array([1, 3])) == [1]


def test_without_bars_ids_before_the_best_k_are_taken(tmp_path):
    lex = make(tmp_path)
    match = parse_query("deposit security").ranking_match()
    assert lex.search(match, 1)[0].tolist() == [1]
    assert lex.search(match, 1, without=np.array([1]))[0].tolist() == [2]   # k=1 still finds one
    assert lex.search(match, 10, within=np.array([1, 2, 4]), without=np.array([2]))[0].tolist() == [1, 4]
    assert lex.matches('"security"').tolist() == [1, 4]
    assert lex.matches('"no such word"').tolist() == []


def test_apply_replaces_and_removes(tmp_path):
    lex = make(tmp_path)
    lex.apply([(5, "a greenhouse for tomatoes")], [3], generation=2)
    assert search(lex, "tomato") == [5] and lex.generation == 2


def test_reconcile_follows_the_store_and_a_corrupt_file_is_rebuilt(tmp_path):
    store = Store(tmp_path / "store.lmdb")
    chunks = [NewChunk(0, len(t), 1, t, text_digest("c1", t)) for t in TEXTS.values()]
    store.commit([FileChange(FileRecord("/d/a.txt", 1, 1), chunks[:2]),
                  FileChange(FileRecord("/d/b.txt", 1, 1), chunks[2:])], [], {}, "m")
    lex = LexicalIndex(tmp_path / "lexical.sqlite")
    assert lex.reconcile(store) == (4, 0) and lex.generation == store.generation()
    store.commit([], ["/d/b.txt"], {}, "m")
    assert lex.reconcile(store) == (0, 2)
    assert search(lex, "tomato") == []
    lex.close()
    (tmp_path / "lexical.sqlite").write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"lexical.sqlite{suffix}").unlink(missing_ok=True)
    lex = LexicalIndex(tmp_path / "lexical.sqlite")
    assert len(lex) == 0 and lex.generation == -1   # derived data: start over, never crash
    assert lex.reconcile(store) == (2, 0)
    store.close()


def test_frequent_words_score_only_the_pool_the_rare_ones_find(tmp_path, monkeypatch):
    """Past SCORED_MATCHES, the rarest words pick a pool and every word scores it: the best chunks are
    those of a full BM25 ranking, at the cost of the rare words' matches."""
    import seekwise.core.lexical as lexical
    lex = LexicalIndex(tmp_path / "lexical.sqlite")
    texts = {i: f"note {i} about the file system and a file name" for i in range(1, 301)}
    texts.update({1000 + i: f"rename the file with the rare word quokka, number {i}" for i in range(3)})
    texts[2000] = "quokka"
    lex.apply(texts.items(), [], generation=1)
    q = parse_query("rename file quokka")
    terms = q.ranking_terms()
    assert lex.narrowing_terms(terms) is None                      # 308 matches: score them all
    exact = lex.search(q.ranking_match(), 5)[0].tolist()
    monkeypatch.setattr(lexical, "SCORED_MATCHES", 50)
    rare = lex.narrowing_terms(terms)
    assert rare == ['"rename"', '"quokka"']                       # 3 + 4 matches, not the 303 of "file"
    assert lex.doc_freq('"file"') == 303
    narrowed = lex.search(q.ranking_match(), 5, narrow=q.ranking_match(rare))[0].tolist()
    # The chunks with the rare words keep their full-BM25 order; one with only "file" is not scored.
    assert narrowed == exact[:4] and set(narrowed[:3]) == {1000, 1001, 1002} and exact[4] not in narrowed
    assert lex.search(q.ranking_match(), 5, within=np.array([2000, 5]),
                      narrow=q.ranking_match(rare))[0].tolist() == [2000]   # filters still hold


def test_the_row_count_read_from_fts5_is_what_count_star_says(tmp_path):
    """bm25's full_match needs the number of passages; it reads FTS5's averages record instead of
    counting, and must agree with a count through adds and removals, past one- and two-byte varints."""
    lex = make(tmp_path)
    assert lex._rows() == len(lex) == 4
    lex.apply(((i, f"note {i} about bread") for i in range(10, 20_010)), [1, 3], generation=2)
    assert lex._rows() == len(lex) == 20_002
    lex.apply([], list(range(10, 10_010)), generation=3)
    assert lex._rows() == len(lex) == 10_002


def test_sqlite_varints_decode_as_fts5_writes_them():
    from seekwise.core.lexical import fts5_row_count
    assert fts5_row_count(bytes([0x05, 0x99])) == 5
    assert fts5_row_count(bytes([0x81, 0x00])) == 128
    assert fts5_row_count(bytes([0x8B, 0x92, 0x65])) == 182_629
    assert fts5_row_count(bytes([0xFF] * 8 + [0x01])) == (2**56 - 1) << 8 | 1
    assert fts5_row_count(b"") is None and fts5_row_count(bytes([0x80, 0x80])) is None
