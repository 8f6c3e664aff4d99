"""The indexer's diff (what to read again, what to forget) on a real Store, pinned where mutation
testing (bench/mutation.sh) showed no fast test would notice a wrong answer. The encoder, derived
indexes and chunker are never reached by the diff, so none is built."""

from __future__ import annotations

import os

from seekwise.core import extract
from seekwise.core.indexer import Indexer, IndexReport
from seekwise.core.scanner import ScanResult, SeenFile
from seekwise.core.store import FileChange, FileRecord, Store

CHUNKING = "c1-test"


def _rec(path, size=10, mtime=5, **kw):
    kw.setdefault("extractor", extract.extractor_id(path))
    kw.setdefault("chunking", CHUNKING)
    return FileRecord(path=path, size=size, mtime_ns=mtime, **kw)


def test_diff_reads_what_changed_and_forgets_only_what_is_surely_gone(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    try:
        r = str(tmp_path / "root")
        p = {n: f"{r}{os.sep}{n}" for n in ("same.txt", "size.txt", "mtime.txt", "rechunk.txt", "gone.txt",
                                             "problem.txt", "left.txt", "locked/x.txt", "oldext.txt",
                                             "unsup.txt", "unsup.xyz", "stale.txt", "err.txt", "err2.txt")}
        recs = [_rec(p["same.txt"]), _rec(p["size.txt"]), _rec(p["mtime.txt"]),
                _rec(p["rechunk.txt"], chunking="c0-old"), _rec(p["gone.txt"]), _rec(p["problem.txt"]),
                _rec(p["left.txt"]), _rec(p["locked/x.txt"]), _rec(p["oldext.txt"], extractor="text/0"),
                _rec(p["unsup.txt"], status="unsupported", extractor=""),
                _rec(p["unsup.xyz"], status="unsupported", extractor=""),
                _rec(p["stale.txt"], chunking="c0-old", stale=True),
                _rec(p["err.txt"], status="error", extractor=""),
                _rec(p["err2.txt"], status="error"),
                _rec(f"{r}-sibling{os.sep}a.txt"), _rec(r + ".txt")]
        st.commit([FileChange(x) for x in recs], [], {}, "m")
        seen = ScanResult(
            files=[SeenFile(p["same.txt"], 10, 5), SeenFile(p["size.txt"], 11, 5),
                   SeenFile(p["mtime.txt"], 10, 6), SeenFile(p["rechunk.txt"], 10, 5),
                   SeenFile(p["oldext.txt"], 10, 5), SeenFile(p["unsup.txt"], 10, 5),
                   SeenFile(p["unsup.xyz"], 10, 5), SeenFile(p["stale.txt"], 10, 5),
                   SeenFile(p["err.txt"], 10, 5), SeenFile(p["err2.txt"], 10, 5),
                   SeenFile(r + os.sep + "new.txt", 1, 1)],
            problems=[(p["problem.txt"], "denied")], left_out=[(p["left.txt"], "outside")],
            unreadable_dirs=[r + os.sep + "locked"])
        ix = Indexer(st, "m", None, None, None, CHUNKING)
        report = IndexReport()
        todo, removed = ix._diff([r], seen, report)
        assert sorted(os.path.basename(f.path) for f in todo) == sorted(
            ["size.txt", "mtime.txt", "rechunk.txt", "oldext.txt", "unsup.txt", "err.txt", "new.txt"])
        assert removed == [p["gone.txt"]]            # not a sibling folder's files, nor the problems
        assert report.files_unchanged == 4           # same, unsup.xyz, stale, err2

        # A root that is itself a file; a missing root keeps everything under it.
        todo, removed = ix._diff([r + ".txt"], ScanResult(), IndexReport())
        assert todo == [] and removed == [r + ".txt"]
        todo, removed = ix._diff([r], ScanResult(missing_roots=[r]), IndexReport())
        assert todo == [] and removed == []
    finally:
        st.close()


def test_a_missing_root_does_not_hide_the_deletions_of_the_next_one(tmp_path):
    """Two roots, the first unplugged: the second's deleted file is still forgotten (and nothing of the
    first is), whatever the order; a root given with a trailing separator means the same folder."""
    st = Store(tmp_path / "s.lmdb")
    try:
        gone_root, here = str(tmp_path / "usb"), str(tmp_path / "docs")
        st.commit([FileChange(_rec(f"{gone_root}{os.sep}a.txt")), FileChange(_rec(f"{here}{os.sep}kept.txt")),
                   FileChange(_rec(f"{here}{os.sep}deleted.txt"))], [], {}, "m")
        ix = Indexer(st, "m", None, None, None, CHUNKING)
        seen = ScanResult(files=[SeenFile(f"{here}{os.sep}kept.txt", 10, 5)], missing_roots=[gone_root])
        for roots in ([gone_root, here], [here, gone_root], [gone_root, here + os.sep]):
            todo, removed = ix._diff(roots, seen, IndexReport())
            assert todo == [] and removed == [f"{here}{os.sep}deleted.txt"], roots
    finally:
        st.close()



def test_an_empty_file_is_read_again_after_a_chunking_change_and_a_file_root_is_not(tmp_path):
    st = Store(tmp_path / "s.lmdb")
    try:
        r = str(tmp_path / "root")
        empty_old, empty_now = f"{r}{os.sep}old.txt", f"{r}{os.sep}now.txt"
        single = str(tmp_path / "single.txt")           # a root that is itself a file
        st.commit([FileChange(_rec(empty_old, status="empty", chunking="c0-old")),
                   FileChange(_rec(empty_now, status="empty")), FileChange(_rec(single))], [], {}, "m")
        ix = Indexer(st, "m", None, None, None, CHUNKING)
        report = IndexReport()
        seen = ScanResult(files=[SeenFile(empty_old, 10, 5), SeenFile(empty_now, 10, 5), SeenFile(single, 10, 5)])
        todo, removed = ix._diff([r, single], seen, report)
        assert [f.path for f in todo] == [empty_old] and removed == []
        assert report.files_unchanged == 2
    finally:
        st.close()
