"""Fold a stream of file events into the net change the indexer has to act on: one batch.

An editor's save (write a temp file, rename it over the document; or rename the document to a
backup, write it anew, delete the backup) touches several names; the indexer only needs to
hear "foo changed". A folder moved is one pair, not one per file inside. A chain of renames is
one rename. What was created and deleted inside one window never existed as far as the index
is concerned.

Pure data, no threads and no I/O: the watcher feeds it under its lock, tests feed it directly.
Paths are absolute; callers have already dropped ignored paths and paths outside the roots.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from seekwise.core.under import is_under


@dataclass(frozen=True)
class ChangeBatch:
    """What changed on disk since the previous batch.

    changed: paths whose content may differ from what is indexed. The consumer stats each: a
        file that exists is (re)indexed, a path that is missing is removed from the index, and
        a missing path may be a folder (deleted, or moved out of every root): everything
        indexed under it goes.
    moved:   (src, dst) pairs of files and folders renamed within the watched roots, net of
        chains (a->b, b->c is (a, c)). A folder is one pair: everything under src is now under
        dst. dst may also appear in `changed` (edited after the move). The pairs are a net
        mapping applied at once: they can form a swap ((a, b) and (b, a)).
    rescan:  folders to walk again because single events do not describe them: a folder moved
        in from outside the roots, a changed .gitignore, a root back from being unavailable,
        or a root whose events may have been lost (queue overflow, watch limit). Paths under
        a rescan folder are not repeated in `changed`.
    """

    changed: frozenset[str] = frozenset()
    moved: tuple[tuple[str, str], ...] = ()
    rescan: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.changed or self.moved or self.rescan)

    def paths(self) -> set[str]:
        """Every path named, as a consumer that simply re-indexes paths wants them."""
        out = set(self.changed) | set(self.rescan)
        for src, dst in self.moved:
            out.update((src, dst))
        return out


def _inside(path: str, folder: str) -> bool:
    """Below `folder`, not `folder` itself (whose own entry each caller handles first)."""
    return path != folder and is_under(path, folder)


def _rebase(path: str, src: str, dst: str) -> str:
    return dst + path[len(src):]


class Coalescer:
    """The pending changes of one window; `take()` hands them over as a batch and starts anew."""

    def __init__(self) -> None:
        self._changed: dict[str, None] = {}  # ordered set
        self._born: set[str] = set()  # first seen being created: absent when the window began
        self._moves: dict[str, tuple[str, bool]] = {}  # where it is now -> (where it was, is_dir)
        self._origins: set[str] = set()
        self._rescan: dict[str, None] = {}

    def __bool__(self) -> bool:
        return bool(self._changed or self._moves or self._rescan)

    def __len__(self) -> int:
        return len(self._changed) + len(self._moves) + len(self._rescan)

    # -- events --------------------------------------------------------------------------------

    def changed(self, path: str, *, created: bool = False) -> None:
        """Created, written or closed after writing."""
        if created and not self._seen(path):
            self._born.add(path)
        self._changed[path] = None

    def deleted(self, path: str, *, is_dir: bool = False) -> None:
        """Deleted, or moved out of every root (or to an ignored name)."""
        if path in self._moves:
            self._gone(self._pop_move(path)[0])
        if is_dir:
            for dst in [d for d in self._moves if _inside(d, path)]:
                self._gone(self._pop_move(dst)[0])
            for p in [p for p in self._born if _inside(p, path)]:
                self._born.discard(p)
                self._changed.pop(p, None)
        if path in self._rescan or (is_dir and any(_inside(p, path) for p in self._rescan)):
            self._rescan = {p: None for p in self._rescan if not is_under(p, path)}
        self._gone(path)

    def moved(self, src: str, dst: str, *, is_dir: bool = False) -> None:
        """Renamed within the roots (both names watched and not ignored)."""
        if src == dst:
            return
        intermediate = src in self._moves
        if intermediate:
            origin = self._pop_move(src)[0]
        else:
            origin = self._moved_origin(src)
        if dst in self._moves:  # dst is overwritten: what had moved there is gone
            self._gone(self._pop_move(dst)[0])
        was_born = src in self._born
        if src in self._changed:  # edited before the move: the edit is now at dst
            del self._changed[src]
            self._changed[dst] = None
        self._born.discard(src)
        if is_dir:
            self._follow(src, dst)
        if was_born:
            self._changed[dst] = None  # it did not exist before this window: just a new dst
            return
        if intermediate:
            self._changed[src] = None  # whatever src held before the first move was replaced
        if origin != dst:
            self._moves[dst] = (origin, is_dir)
            self._origins.add(origin)

    def rescan(self, folder: str) -> None:
        self._rescan[folder] = None

    def drop_under(self, root: str) -> None:
        """A root became unavailable: nothing pending under it is true any more."""
        self._changed = {p: None for p in self._changed if not is_under(p, root)}
        self._born = {p for p in self._born if not is_under(p, root)}
        self._rescan = {p: None for p in self._rescan if not is_under(p, root)}
        for dst in list(self._moves):
            origin, _ = self._moves[dst]
            if is_under(dst, root):
                self._pop_move(dst)
            elif is_under(origin, root):  # moved out of the vanished root: only the arrival is known
                self._pop_move(dst)
                self._changed[dst] = None

    def take(self) -> ChangeBatch:
        rescan = sorted(self._rescan)
        kept: list[str] = []
        for folder in rescan:  # a folder inside another rescanned one adds nothing
            if not any(is_under(folder, k) for k in kept):
                kept.append(folder)
        changed = frozenset(p for p in self._changed
                            if not any(is_under(p, k) for k in kept))
        batch = ChangeBatch(changed=changed,
                            moved=tuple((origin, dst) for dst, (origin, _) in self._moves.items()),
                            rescan=frozenset(kept))
        self._changed, self._born, self._moves, self._origins, self._rescan = {}, set(), {}, set(), {}
        return batch

    # -- internals -----------------------------------------------------------------------------

    def _seen(self, path: str) -> bool:
        return path in self._changed or path in self._moves or path in self._origins

    def _gone(self, path: str) -> None:
        if path in self._born:  # came and went within the window
            self._born.discard(path)
            self._changed.pop(path, None)
        else:
            self._changed[path] = None

    def _pop_move(self, dst: str) -> tuple[str, bool]:
        origin, is_dir = self._moves.pop(dst)
        self._origins.discard(origin)
        return origin, is_dir

    def _moved_origin(self, path: str) -> str:
        """Where `path` was when the window began, if a folder above it was moved since."""
        folder = os.path.dirname(path)
        while folder and folder != os.path.dirname(folder):
            entry = self._moves.get(folder)
            if entry is not None and entry[1]:
                return _rebase(path, folder, entry[0])
            folder = os.path.dirname(folder)
        return path

    def _follow(self, src: str, dst: str) -> None:
        """A folder moved: pending entries under it move along (their origins stay)."""
        if any(_inside(p, src) for p in self._changed):
            self._changed = {(_rebase(p, src, dst) if _inside(p, src) else p): None for p in self._changed}
        self._born = {(_rebase(p, src, dst) if _inside(p, src) else p) for p in self._born}
        if any(is_under(p, src) for p in self._rescan):
            self._rescan = {(_rebase(p, src, dst) if is_under(p, src) else p): None
                            for p in self._rescan}
        for old in [d for d in self._moves if _inside(d, src)]:
            self._moves[_rebase(old, src, dst)] = self._moves.pop(old)
