"""The store's header is read before LMDB maps the file: a short file is damage (mapping it ends in
SIGBUS), except where LMDB itself left the last pages unwritten because its free list holds them."""

from __future__ import annotations

import lmdb
import pytest
from seekwise.core.errors import LibraryDamaged
from seekwise.core.store import free_pages, read_header


def _store_with_a_free_tail(path):
    """A big value written then deleted: its pages end the file and go on the free list."""
    env = lmdb.open(str(path), subdir=False, map_size=1 << 26)
    with env.begin(write=True) as txn:
        for i in range(50):
            txn.put(b"k%d" % i, b"x" * 100)
    with env.begin(write=True) as txn:
        txn.put(b"big", b"y" * 400_000)
    with env.begin(write=True) as txn:
        txn.delete(b"big")
    for i in range(6):                    # the free list itself moves into reused pages
        with env.begin(write=True) as txn:
            txn.put(b"k1", b"z%d" % i)
    env.close()


def test_a_short_file_is_damaged_unless_its_tail_is_free(tmp_path):
    path = tmp_path / "store.lmdb"
    _store_with_a_free_tail(path)
    head = read_header(path)
    size = path.stat().st_size
    assert size == head.needed_bytes
    with open(path, "rb") as fh:
        free = free_pages(fh, head, size // head.page_size)
    tail = 0
    while head.last_page - tail in free:
        tail += 1
    assert tail > 10
    raw = path.read_bytes()
    cut = tmp_path / "cut.lmdb"
    cut.write_bytes(raw[:size - tail * head.page_size])      # as LMDB may leave it: accepted, and it opens
    assert read_header(cut) == head
    env = lmdb.open(str(cut), subdir=False, map_size=1 << 26)
    with env.begin() as txn:
        assert txn.get(b"k1") == b"z5"
    env.close()
    cut.unlink()
    cut.write_bytes(raw[:size - (tail + 1) * head.page_size])  # one page more: a used page is gone
    with pytest.raises(LibraryDamaged, match="shorter than its own header says"):
        read_header(cut)


@pytest.mark.parametrize("raw, said", [(b"\0" * 100, "shorter than its own header"),
                                       (b"\x5a" * 20000, "does not start with an LMDB header")])
def test_a_header_that_is_not_lmdb_is_damaged(tmp_path, raw, said):
    path = tmp_path / "store.lmdb"
    path.write_bytes(raw)
    with pytest.raises(LibraryDamaged, match=said):
        read_header(path)


def test_an_empty_file_is_a_new_store(tmp_path):
    path = tmp_path / "store.lmdb"
    path.touch()
    assert read_header(path) is None
