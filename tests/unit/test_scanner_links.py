"""The scanner reads only what is inside the chosen folders: a link leading elsewhere is listed, not followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from seekwise.core.scanner import scan


def outside_reason(target: str) -> str:
    return f"link to a place outside your folders ({target}): not followed"


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """root/ with links out (a file, a folder, /etc/passwd), links in, and a second folder linked to."""
    root, other, outside = tmp_path / "root", tmp_path / "other", tmp_path / "outside"
    for d in (root / "sub", other, outside / "dir"):
        d.mkdir(parents=True)
    (root / "sub" / "in.txt").write_text("inside")
    (other / "o.txt").write_text("in the other root")
    (outside / "secret.txt").write_text("Vexillotoken")
    (outside / "dir" / "a.txt").write_text("Vexillotoken too")
    links = {
        "file_out": (root / "secret-link.txt", outside / "secret.txt"),
        "dir_out": (root / "dirlink", outside / "dir"),
        "passwd": (root / "passwd-link.txt", Path("/etc/passwd")),
        "file_in": (root / "in-link.txt", root / "sub" / "in.txt"),
        "to_other_root": (root / "other-link", other),
    }
    for link, target in links.values():
        link.symlink_to(target)
    return {"root": root, "other": other, "outside": outside, **{k: v[0] for k, v in links.items()}}


def test_links_leading_outside_every_root_are_listed_not_followed(tree):
    seen = scan([str(tree["root"]), str(tree["other"])])
    files = {f.path for f in seen.files}
    assert not any("secret-link" in p or "passwd-link" in p or "dirlink" in p for p in files), files
    assert dict(seen.left_out) == {
        str(tree["file_out"]): outside_reason(str(tree["outside"] / "secret.txt")),
        str(tree["dir_out"]): outside_reason(str(tree["outside"] / "dir")),
        str(tree["passwd"]): outside_reason(os.path.realpath("/etc/passwd")),
    }
    # Links inside the folders are followed as before, a link to the other root too.
    assert str(tree["file_in"]) in files and str(tree["other"] / "o.txt") in files
    assert not seen.problems


def test_a_link_loop_inside_still_ends_and_is_not_outside(tree):
    (tree["root"] / "sub" / "loop").symlink_to(tree["root"])
    seen = scan([str(tree["root"])])
    assert str(tree["root"] / "sub" / "loop") not in dict(seen.left_out)
    assert [f.path for f in seen.files].count(str(tree["root"] / "sub" / "in.txt")) == 1


def test_a_link_to_another_root_is_outside_when_that_folder_is_not_in_the_library(tree):
    seen = scan([str(tree["root"])])
    assert not any(f.path.startswith(str(tree["to_other_root"])) for f in seen.files)
    assert str(tree["to_other_root"]) in dict(seen.left_out)


def test_paths_a_watcher_reports_are_fenced_by_the_librarys_folders(tree):
    """The watcher hands the indexer paths, not roots: `within` keeps the same fence."""
    root = str(tree["root"])
    paths = [str(tree["file_out"]), str(tree["dir_out"]), str(tree["file_in"]), str(tree["root"] / "sub")]
    seen = scan(paths, within=[root, str(tree["other"])])
    assert set(dict(seen.left_out)) == {str(tree["file_out"]), str(tree["dir_out"])}
    assert {f.path for f in seen.files} == {str(tree["file_in"]), str(tree["root"] / "sub" / "in.txt")}
    # Without the fence, a link handed over as a path would be a root of its own, and read.
    unfenced = scan([str(tree["file_out"])])
    assert [f.path for f in unfenced.files] == [str(tree["file_out"])]


def test_a_folder_rescanned_inside_a_root_follows_links_to_elsewhere_in_the_root(tree):
    """A folder moved in is rescanned alone: a link from it to the rest of its root is still inside."""
    moved_in = tree["root"] / "moved-in"
    moved_in.mkdir()
    (moved_in / "to-sub").symlink_to(tree["root"] / "sub")
    seen = scan([str(moved_in)], within=[str(tree["root"])])
    assert not seen.left_out
    assert {f.path for f in seen.files} == {str(moved_in / "to-sub" / "in.txt")}


def test_a_root_given_through_a_link_is_its_own_inside(tmp_path, tree):
    alias = tmp_path / "alias"
    alias.symlink_to(tree["root"])
    seen = scan([str(alias)])
    files = {f.path for f in seen.files}
    assert str(alias / "in-link.txt") in files and str(alias / "secret-link.txt") not in files
    assert str(alias / "secret-link.txt") in dict(seen.left_out)
