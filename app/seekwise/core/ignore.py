"""What a scan and the watcher leave out, decided in one place so they never disagree.

Three layers, checked in order for each path component below a root:

1. Built-in names: hidden files and folders (a leading dot: .git, .venv, .#foo, .foo.swp),
   machine-made folders (node_modules, __pycache__, build, dist, target, venv, ...), and the
   temporary files editors, office suites and browsers write next to a document while saving
   or downloading (foo~, foo.swp, foo.tmp, foo.part, ~$foo.docx, ...).
2. The user's patterns: fnmatch globs tried against the name and against the path relative to
   the root ("/"-separated). A pattern ending in "/" matches folders only. fnmatch's "*" also
   matches "/", so "drafts/*" covers everything under drafts/.
   Patterns may also be given per folder (`folders`): they apply only under that folder and
   are matched relative to it; a scan of a subfolder is anchored at the configured folder.
   File types can be left out by family name (`skip_families`: "pdf", "docx", ...).
3. Optionally, .gitignore files, read per folder from the root down (core.gitignore lists the
   syntax understood). Not supported (documented limits): .gitignore files above the root,
   .git/info/exclude, the global core.excludesFile, and git's case-insensitive mode. A .gitignore counts even
   outside a git work tree. As in git, nothing under an ignored folder can be re-included.

An ignored folder hides everything under it, so callers that walk top-down only need to test
each entry's own name (`RootMatcher.ignored_entry`); callers that see arbitrary paths (the
watcher) test every component (`RootMatcher.ignored`).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Mapping

from seekwise.core.gitignore import GITIGNORE, GitRule, read_gitignore
from seekwise.core.under import is_under

#: Folders that hold what programs made, not what a person wrote. Matched as folders only,
#: case-sensitively (a folder of notes called "Build" is still indexed).
IGNORED_DIR_NAMES = frozenset({
    "node_modules", "__pycache__", "venv", "site-packages", "bower_components",
    "build", "dist", "target",
    "$RECYCLE.BIN", "System Volume Information", "lost+found",
})

#: Name endings of files written while something is being saved or downloaded (lower-cased).
TEMP_FILE_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".part", ".crdownload")

#: Name beginnings of such files: Office's owner files (~$report.docx). Names starting with a
#: dot (.#foo from Emacs, .~lock.foo# from LibreOffice, .foo.swp from vim) are hidden anyway.
TEMP_FILE_PREFIXES = ("~$",)

_GIT_CACHE_LIMIT = 20_000
_VERDICT_CACHE_LIMIT = 50_000


def builtin_ignored(name: str, is_dir: bool) -> bool:
    """Hidden names, machine-made folders and editors' temporary files."""
    if name.startswith("."):
        return True
    if is_dir:
        return name in IGNORED_DIR_NAMES
    lower = name.lower()
    return lower.endswith(TEMP_FILE_SUFFIXES) or lower.startswith(TEMP_FILE_PREFIXES)


class IgnoreRules:
    """The settings (built-ins on or off, user patterns, .gitignore on or off); immutable.

    `matcher(root)` gives the object that answers for paths under one root and caches what it
    read (.gitignore files, folder verdicts); make a fresh one per scan.
    """

    def __init__(self, patterns: Iterable[str] = (), *, gitignore: bool = False,
                 builtin: bool = True, folders: Mapping[str, Iterable[str]] | None = None,
                 skip_families: Iterable[str] = ()) -> None:
        self.patterns: tuple[str, ...] = tuple(p for p in (s.strip() for s in patterns) if p)
        self.gitignore = gitignore
        self.builtin = builtin
        self.folders: dict[str, tuple[str, ...]] = {
            _folder_key(k): tuple(p for p in (s.strip() for s in v) if p) for k, v in (folders or {}).items()}
        self.skip_families: frozenset[str] = frozenset(skip_families)
        self._family_of = None
        if self.skip_families:
            from seekwise.core.extract.registry import family_for  # only when types are left out
            self._family_of = family_for
        self._per_folder: dict[str, IgnoreRules] = {}
        flags = re.IGNORECASE if os.path.normcase("A") == "a" else 0  # Windows: names ignore case
        any_kind = [fnmatch.translate(p) for p in self.patterns if not p.endswith("/")]
        dirs_only = [fnmatch.translate(p.rstrip("/")) for p in self.patterns if p.endswith("/")]
        self._any_kind = re.compile("|".join(any_kind), flags) if any_kind else None
        self._dirs_only = re.compile("|".join(dirs_only), flags) if dirs_only else None

    def __repr__(self) -> str:
        return (f"IgnoreRules(patterns={self.patterns!r}, gitignore={self.gitignore}, builtin={self.builtin}, "
                f"folders={self.folders!r}, skip_families={sorted(self.skip_families)!r})")

    def type_ignored(self, name: str) -> bool:
        """A file whose format family the user turned off (files Seekwise cannot read stay counted)."""
        if self._family_of is None:
            return False
        family = self._family_of(name)
        return family is not None and family.name in self.skip_families

    def name_ignored(self, name: str, is_dir: bool) -> bool:
        return self.builtin and builtin_ignored(name, is_dir)

    def pattern_ignored(self, name: str, rel: str, is_dir: bool) -> bool:
        """The user's globs, against the name or the root-relative path."""
        for rx in (self._any_kind, self._dirs_only if is_dir else None):
            if rx is not None and (rx.match(name) or rx.match(rel)):
                return True
        return False

    def matcher(self, root: str) -> RootMatcher:
        """Anchored at the deepest folder with patterns of its own that holds `root`, if any."""
        key = _folder_key(root)
        owner = max((f for f in self.folders if is_under(key, f)), key=len, default=None)
        if owner is None:
            return RootMatcher(self, root)
        rules = self._per_folder.get(owner)
        if rules is None:
            rules = IgnoreRules(self.patterns + self.folders[owner], gitignore=self.gitignore,
                                builtin=self.builtin, skip_families=self.skip_families)
            self._per_folder[owner] = rules
        anchor = root[:len(owner)] if os.path.normcase(root[:len(owner)]) == owner else owner
        return RootMatcher(rules, anchor)


def _folder_key(folder: str) -> str:
    return os.path.normcase(os.path.abspath(os.path.expanduser(folder)))


DEFAULT_RULES = IgnoreRules()


class RootMatcher:
    """Answers "is this path left out?" for paths under one root. Not thread-safe: one user."""

    def __init__(self, rules: IgnoreRules, root: str) -> None:
        self.rules = rules
        self.root = root
        self._prefix = root if root.endswith(os.sep) else root + os.sep
        self._git: dict[str, tuple[GitRule, ...]] = {}
        self._verdicts: dict[str, bool] = {}  # folder -> ignored, for `ignored`

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Any component of `path` below the root is left out (an ignored folder hides its tree)."""
        if path == self.root or not path.startswith(self._prefix):
            return False
        parent = os.path.dirname(path)
        if parent != self.root and self._folder_ignored(parent):
            return True
        return self.ignored_entry(path, is_dir)

    def ignored_entry(self, path: str, is_dir: bool) -> bool:
        """This entry's own name and relative path; its folders are assumed not ignored."""
        name = os.path.basename(path)
        rules = self.rules
        if rules.name_ignored(name, is_dir):
            return True
        if not is_dir and rules.skip_families and rules.type_ignored(name):
            return True
        if rules.patterns or rules.gitignore:
            rel = path[len(self._prefix):]
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
            if rules.patterns and rules.pattern_ignored(name, rel, is_dir):
                return True
            if rules.gitignore and self._gitignored(path, is_dir):
                return True
        return False

    def forget(self, folder: str | None = None) -> None:
        """A .gitignore changed (in `folder`, or anywhere): read it again and re-decide folders."""
        if folder is None:
            self._git.clear()
        else:
            self._git.pop(folder, None)
        self._verdicts.clear()

    # -- internals ---------------------------------------------------------------------------

    def _folder_ignored(self, folder: str) -> bool:
        verdict = self._verdicts.get(folder)
        if verdict is None:
            parent = os.path.dirname(folder)
            verdict = ((parent != self.root and parent.startswith(self._prefix)
                        and self._folder_ignored(parent))
                       or self.ignored_entry(folder, True))
            if len(self._verdicts) >= _VERDICT_CACHE_LIMIT:
                self._verdicts.clear()
            self._verdicts[folder] = verdict
        return verdict

    def _gitignored(self, path: str, is_dir: bool) -> bool:
        """The deepest .gitignore with a matching line decides; within a file, the last line."""
        folder = os.path.dirname(path)
        while True:
            rules = self._git_rules(folder)
            if rules:
                sub = path[len(folder) + 1:] if not folder.endswith(os.sep) else path[len(folder):]
                if os.sep != "/":
                    sub = sub.replace(os.sep, "/")
                for rule in reversed(rules):
                    if (is_dir or not rule.dir_only) and rule.regex.fullmatch(sub):
                        return not rule.negate
            if folder == self.root or not folder.startswith(self._prefix):
                return False
            folder = os.path.dirname(folder)

    def _git_rules(self, folder: str) -> tuple[GitRule, ...]:
        rules = self._git.get(folder)
        if rules is None:
            rules = read_gitignore(os.path.join(folder, GITIGNORE))
            if len(self._git) >= _GIT_CACHE_LIMIT:
                self._git.clear()
            self._git[folder] = rules
        return rules
