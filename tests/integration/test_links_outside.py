"""Nothing outside the chosen folders is read: a link leading elsewhere is listed in status, never indexed,
whether a full index, the service's catch-up scan or the live watcher comes across it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from seekwise.cli import format_status
from seekwise.core.library import Library
from seekwise.core.service import IndexService

TOKEN = "Vexillotoken"           # only in the file outside the root
DIR_TOKEN = "Gonfalontoken"      # only in the folder outside the root
INSIDE_TOKEN = "Oriflammetoken"  # only in a file inside the root


@pytest.fixture
def lib(tmp_path):
    library = Library(tmp_path / "lib", threads=2)
    yield library
    library.close()


@pytest.fixture
def places(tmp_path) -> dict[str, Path]:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    (outside / "dir").mkdir(parents=True)
    (root / "sub" / "flags.txt").write_text(f"Notes on heraldic banners: the {INSIDE_TOKEN} is red.")
    (outside / "secret.txt").write_text(f"Private diary entry, {TOKEN}, never to be indexed.")
    (outside / "dir" / "a.txt").write_text(f"Another private page, {DIR_TOKEN}.")
    return {"root": root, "outside": outside}


def make_links(root: Path, outside: Path) -> dict[str, Path]:
    links = {"file": root / "secret-link.txt", "dir": root / "dirlink", "passwd": root / "passwd-link.txt",
             "inside": root / "flags-link.txt"}
    links["file"].symlink_to(outside / "secret.txt")
    links["dir"].symlink_to(outside / "dir")
    links["passwd"].symlink_to("/etc/passwd")
    links["inside"].symlink_to(root / "sub" / "flags.txt")
    return links


def lexical(lib: Library, word: str) -> set[str]:
    return {h.path for h in lib.search(word, mode="lexical", mark=False)}


def assert_left_out(lib: Library, links: dict[str, Path], outside: Path) -> None:
    """Each link out is a skipped record with its reason, none of their text is searchable."""
    for key, target in (("file", outside / "secret.txt"), ("dir", outside / "dir"),
                        ("passwd", Path(os.path.realpath("/etc/passwd")))):
        rec = lib.store.get_file(str(links[key]))
        assert rec is not None and rec.status == "skipped", (key, rec)
        assert rec.reason == f"link to a place outside your folders ({target}): not followed"
        assert not rec.chunk_ids
    assert not lexical(lib, TOKEN) and not lexical(lib, DIR_TOKEN)
    assert not lexical(lib, "root")  # every /etc/passwd has a root line
    assert not any(h.path.startswith(str(links["dir"])) or h.path in (str(links["file"]), str(links["passwd"]))
                   for h in lib.search(f"private diary {TOKEN} root bash", k=20, mark=False))
    assert lexical(lib, INSIDE_TOKEN) >= {str(links["inside"])}  # a link inside is followed as before


def test_index_lists_links_out_in_status_and_never_finds_their_text(lib, places):
    links = make_links(places["root"], places["outside"])
    report = lib.index([places["root"]])
    assert report.files_skipped == 3 and report.files_failed == 0
    assert {p for p, _ in report.problems} == {str(links[k]) for k in ("file", "dir", "passwd")}
    assert_left_out(lib, links, places["outside"])
    status = lib.status()
    assert (str(links["passwd"]), "skipped",
            f"link to a place outside your folders ({os.path.realpath('/etc/passwd')}): not followed") \
        in status.problems
    assert status.by_status.get("skipped") == 3
    text = format_status(status)
    assert f"[skipped] {links['file']}: link to a place outside your folders" in text
    again = lib.index()  # nothing changed: the records stay as they are
    assert again.files_skipped == 3 and again.files_removed == 0
    assert_left_out(lib, links, places["outside"])


def test_a_link_turned_to_point_outside_loses_what_it_had_indexed(lib, places):
    root, outside = places["root"], places["outside"]
    link = root / "moving-link.txt"
    link.symlink_to(root / "sub" / "flags.txt")
    lib.index([root])
    assert str(link) in lexical(lib, INSIDE_TOKEN)
    retarget = root / "moving-link.tmp"
    retarget.symlink_to(outside / "secret.txt")
    os.replace(retarget, link)
    report = lib.index()
    assert report.files_skipped == 1
    assert lexical(lib, INSIDE_TOKEN) == {str(root / "sub" / "flags.txt")}
    assert not lexical(lib, TOKEN)
    assert lib.store.get_file(str(link)).status == "skipped"


def test_the_catch_up_scan_leaves_out_links_made_while_not_running(lib, places):
    lib.index([places["root"]])
    links = make_links(places["root"], places["outside"])
    with IndexService(lib, watch=False) as service:
        assert service.wait_idle(120)
    assert_left_out(lib, links, places["outside"])


def test_links_made_while_watching_are_listed_not_read(lib, places):
    lib.index([places["root"]])
    with IndexService(lib, debounce_s=0.2) as service:
        assert service.wait_idle(120)
        links = make_links(places["root"], places["outside"])
        deadline = time.monotonic() + 30
        while not all(lib.store.get_file(str(p)) for p in links.values()):
            assert time.monotonic() < deadline, "the watcher's changes were not indexed"
            time.sleep(0.1)
        assert service.wait_idle(30)
        assert_left_out(lib, links, places["outside"])
        (places["root"] / "dirlink").unlink()  # a link gone: its record goes with it
        deadline = time.monotonic() + 30
        while lib.store.get_file(str(links["dir"])) is not None:
            assert time.monotonic() < deadline, "a deleted link stayed in the library"
            time.sleep(0.1)
