"""Fusion, grouping, filters and marks in core/search.py, pinned where mutation testing
(bench/mutation.sh) showed a wrong answer would pass every other fast test. Real Store, no mocks."""

from __future__ import annotations

import os

import numpy as np
import pytest

from seekwise.core.search import (FusionSettings, Hit, Passage, SearchFilters, _merge, _stem,
                                  allowed_chunk_ids, file_score, fuse, group_by_file, mark_passages, sentence_spans,
                                  snippet, top_ids, whole_files, word_marks)
from seekwise.core.store import ChunkRecord, FileChange, FileRecord, NewChunk, Store, text_digest

MODEL = "test-model-1234"


# -- fusion and grouping -----------------------------------------------------------------------

def test_fusion_sums_weighted_reciprocal_ranks():
    s = FusionSettings(k=10.0, min_coverage=0.5)
    scores = fuse([(2.0, [7, 8], None), (0.5, [8, 9], {8: 1.0, 9: 0.5})], s)
    assert scores == {7: 2.0 / 11, 8: 2.0 / 12 + 0.5 / 11, 9: 0.5 * 0.5 / 12}   # share 0.5 == min: counted
    assert fuse([(1.0, [1], {})], s) == {}                                        # unscaled id: share 0
    assert FusionSettings() == FusionSettings(60.0, 1.0, 1.0, 0.5)


def _chunk(cid, path, text="t", line=1, page=0):
    return ChunkRecord(cid, path, 0, len(text), line, text, b"d" * 16, page)


def test_a_file_scores_its_chunks_soft_maximum_ties_by_path_and_k_limits():
    chunks = [_chunk(1, "/b"), _chunk(2, "/a", line=3, page=2), _chunk(3, "/a"), _chunk(4, "/c"), _chunk(5, "/d")]
    scores = {1: 0.5, 2: 0.2, 3: 0.5, 4: 0.1, 5: 0.1}
    hits = group_by_file(chunks, scores, k=2)
    assert [h.path for h in hits] == ["/a", "/b"]             # /a's second passage lifts it a little
    a = hits[0]
    assert a.score == pytest.approx(file_score([0.5, 0.2])) and a.score > 0.5
    assert a.best.chunk_id == 3 and [p.chunk_id for p in a.others] == [2]
    assert (a.others[0].line, a.others[0].page) == (3, 2)
    assert (a.line, a.page, a.text) == (1, 0, "t")
    assert [h.path for h in group_by_file(chunks, scores, k=4)][2:] == ["/c", "/d"]   # a tie: by path
    assert len(group_by_file(chunks, scores, k=3)) == 3
    assert top_ids(np.array([5, 6]), np.array([0.25, 0.5])) == {5: 0.25, 6: 0.5}


# -- filters -----------------------------------------------------------------------------------

def _rec(path, status="ok", extractor="", kind="", mtime=100.0):
    return FileRecord(path=path, size=1, mtime_ns=int(mtime * 1e9), status=status, extractor=extractor, kind=kind)


def test_filters_accept_by_type_family_kind_time_and_path():
    assert not SearchFilters().active
    for f in (SearchFilters(folders=("/x",)), SearchFilters(types=("pdf",)), SearchFilters(after=0.0),
              SearchFilters(before=0.0), SearchFilters(path_contains="a")):
        assert f.active
    ok = _rec("/d/Notes.PDF", extractor="pdf/pdfium-1", kind="document")
    assert SearchFilters().accepts(ok)
    assert not SearchFilters().accepts(_rec("/d/x.pdf", status="error"))
    assert SearchFilters(types=(".pdf",)).accepts(ok)                  # extension, dot and case ignored
    assert SearchFilters(types=("PDF",)).accepts(_rec("/d/x.bin", extractor="pdf/pdfium-1"))  # family
    assert SearchFilters(types=("document",)).accepts(_rec("/d/x.bin", kind="document"))     # kind
    assert not SearchFilters(types=("markdown",)).accepts(ok)
    assert SearchFilters(after=100.0).accepts(ok) and not SearchFilters(after=100.5).accepts(ok)
    assert SearchFilters(before=100.5).accepts(ok) and not SearchFilters(before=100.0).accepts(ok)
    assert SearchFilters(path_contains="notes").accepts(ok)
    assert not SearchFilters(path_contains="other").accepts(ok)


def test_folder_prefixes_end_in_a_separator(tmp_path):
    assert SearchFilters().prefixes() == [None]
    real = os.path.realpath(tmp_path)
    assert SearchFilters(folders=(str(tmp_path) + os.sep,)).prefixes() == [real + os.sep]


def _change(path, texts, mtime=100.0):
    chunks = [NewChunk(i * 10, i * 10 + len(t), i + 1, t, text_digest("c", t)) for i, t in enumerate(texts)]
    return FileChange(FileRecord(path=path, size=1, mtime_ns=int(mtime * 1e9), status="ok"), chunks)


def test_allowed_and_whole_files_on_a_real_store(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    try:
        root = os.path.realpath(tmp_path) + os.sep
        a, b, c = root + "one/a.txt", root + "one/b.txt", root + "two/c.txt"
        st.commit([_change(a, ["a1", "a2"]), _change(b, ["b1"], mtime=200.0), _change(c, ["c1", "c2"])],
                  [], {}, MODEL)
        ids = {p: st.get_file(p).chunk_ids for p in (a, b, c)}
        got = allowed_chunk_ids(st, SearchFilters(folders=(root + "one", root + "one/")))
        assert got.tolist() == sorted(ids[a] + ids[b])                # a folder given twice counts once
        assert allowed_chunk_ids(st, SearchFilters(after=150.0)).tolist() == ids[b]
        assert allowed_chunk_ids(st, SearchFilters()).tolist() == sorted(ids[a] + ids[b] + ids[c])
        assert whole_files(st, [ids[a][1], ids[c][0], ids[c][1]]).tolist() == sorted(ids[a] + ids[c])
        assert whole_files(st, []).dtype == np.int64 and whole_files(st, [999]).tolist() == [999]
    finally:
        st.close()


# -- highlighting ------------------------------------------------------------------------------

def test_stemming_keeps_three_letters():
    assert _stem("Deposits") == "deposit" and _stem("running") == "runn" and _stem("sings") == "sing"
    assert _stem("bed") == "bed" and _stem("beds") == "bed" and _stem("seed") == "seed"   # 'ed' would leave 2
    assert _stem("carried") == "carr" and _stem("s") == "s"


def test_word_and_phrase_marks_merge():
    text = "Deposits held. The security  deposit, and SECURITY\ndeposit again"
    marks = word_marks(text, ["deposit"], ["security deposit"])
    assert marks == [(0, 8), (19, 36), (42, 58)]
    assert word_marks("a bc", ["zz"], []) == []
    assert _merge([(5, 7), (0, 2), (2, 4), (6, 9)]) == [(0, 4), (5, 9)]
    assert _merge([(0, 5), (1, 3)]) == [(0, 5)]


def test_sentences_split_at_ends_blank_lines_and_list_lines():
    text = "Pay 0.5 now. Then wait!  Why?\n\nNext para\n- item one\nx."
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Pay 0.5 now.", "Then wait!", "Why?", "Next para", "- item one\nx."]
    assert sentence_spans("a. bc") == []          # pieces under three characters are not sentences
    assert sentence_spans("abc") == [(0, 3)]
    assert sentence_spans("  abcd  ") == [(2, 6)]


def _hit(text, path="/p", relevance=0.9):
    return Hit(path, 1.0, Passage(1, 1.0, 1, 0, len(text), text), relevance=relevance)


def test_passages_mark_words_else_the_closest_sentence():
    asked = []

    def closest(texts):
        asked.append(texts)
        return [1, 5, 0]

    hits = [_hit("The deposit is back."), _hit("One thing. Another thing."), _hit("Alpha one. Beta two."),
            _hit("Only one sentence here.")]
    out = mark_passages(hits, ["deposit"], [], closest)
    assert out[0].best.marks == ((4, 11),) and out[0].best.mark_kind == "words"
    assert asked == [[["One thing.", "Another thing."], ["Alpha one.", "Beta two."], ["Only one sentence here."]]]
    assert out[1].best.marks == ((11, 25),) and out[1].best.mark_kind == "sentence"
    assert out[2].best.marks == () and out[2].best.mark_kind == ""      # pick out of range
    assert out[3].best.marks == ()                                       # one sentence: nothing to choose
    assert mark_passages(hits[1:2], ["deposit"], [], None)[0].best.marks == ()
    weaker = [_hit("One thing. Another thing.", relevance=0.4)]   # below the bar: no sentence is what matched
    assert mark_passages(weaker, [], [], lambda texts: [1])[0].best.marks == ()


def test_snippet_flattens_space_and_centres_on_the_first_mark():
    assert snippet("a  b\n\nc ") == ("a b c", [])
    assert snippet("ab  cd", marks=((4, 6),)) == ("ab cd", [(3, 5)])
    text = " ".join(f"w{i:03d}" for i in range(200))          # 200 words of 4 chars, 999 chars
    pos = text.index("w100")
    shown, marks = snippet(text, width=40, marks=((pos, pos + 4),))
    assert shown == "… w099 w100 w101 w102 w103 w104 w105 w106 …"   # a quarter width before
    assert [shown[a:b] for a, b in marks] == ["w100"]
    shown, marks = snippet(text, width=40, marks=((5, 9),))      # mark within the first width: start at 0
    assert shown == "w000 w001 w002 w003 w004 w005 w006 w007 …" and marks == [(5, 9)]
    assert snippet("abc", marks=((1, 1),)) == ("abc", [])


def test_whole_files_goes_on_past_an_id_already_covered(tmp_path):
    """An id whose file is already taken is skipped, and the ids after it are still looked at."""
    st = Store(tmp_path / "s.lmdb")
    try:
        root = os.path.realpath(tmp_path) + os.sep
        a, c = root + "a.txt", root + "c.txt"
        st.commit([_change(a, ["a1", "a2"]), _change(c, ["c1"])], [], {}, MODEL)
        ids = {p: st.get_file(p).chunk_ids for p in (a, c)}
        assert whole_files(st, [ids[a][0], ids[a][1], ids[c][0]]).tolist() == sorted(ids[a] + ids[c])
    finally:
        st.close()


def test_passages_keep_their_char_span():
    chunks = [ChunkRecord(1, "/a", 40, 52, 3, "twelve chars", b"d" * 16, 0),
              ChunkRecord(2, "/a", 7, 19, 1, "other passag", b"d" * 16, 0)]
    hit, = group_by_file(chunks, {1: 0.9, 2: 0.1}, k=5)
    assert (hit.best.start, hit.best.end) == (40, 52)
    assert (hit.others[0].start, hit.others[0].end) == (7, 19)


def test_the_closest_sentence_may_be_the_first_or_the_last_but_not_past_it():
    hits = [_hit("First one here. Second one here."), _hit("Alpha one. Beta two."),
            _hit("Gamma one. Delta two.")]
    out = mark_passages(hits, ["zzz"], [], lambda texts: [0, 1, 2])
    assert out[0].best.marks == ((0, 15),) and out[0].best.mark_kind == "sentence"   # pick 0 counts
    assert out[1].best.marks == ((11, 20),)                                          # the last one
    assert out[2].best.marks == () and out[2].best.mark_kind == ""                   # == len: none


def test_sentence_trims_stop_at_the_text_end():
    assert sentence_spans("abc.  ") == [(0, 4)]         # trailing space after the last end
    assert sentence_spans("abcd.") == [(0, 5)]
    assert sentence_spans("Abc. \n\n  Def.  ") == [(0, 4), (9, 13)]
    assert sentence_spans(" ") == [] and sentence_spans("") == []
