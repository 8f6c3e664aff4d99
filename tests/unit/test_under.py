"""seekwise.core.under.is_under: the folder itself and what is inside it, never a sibling sharing a prefix."""

from __future__ import annotations

import os

import pytest

from seekwise.core.under import is_under

pytestmark = pytest.mark.skipif(os.sep != "/", reason="the cases are spelt with POSIX separators")


@pytest.mark.parametrize("path, folder", [
    ("/a/b", "/a/b"),            # the folder itself
    ("/a/b", "/a/b/"),           # ... given with its trailing separator
    ("/a/b/", "/a/b"),
    ("/a/b/c", "/a/b"),
    ("/a/b/c/d.txt", "/a/b/"),
    ("/", "/"),                  # the root holds itself and everything
    ("/etc/passwd", "/"),
])
def test_inside_or_the_folder_itself(path, folder):
    assert is_under(path, folder)


@pytest.mark.parametrize("path, folder", [
    ("/a/bc", "/a/b"),           # shares a prefix, not a folder
    ("/a/bc", "/a/b/"),
    ("/a", "/a/b"),              # above the folder
    ("/a/", "/a/b"),
    ("/x/b", "/a/b"),
])
def test_not_inside(path, folder):
    assert not is_under(path, folder)
