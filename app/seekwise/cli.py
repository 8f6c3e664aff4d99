"""`seekwise index|watch|search|status|bench|eval`: the command line over the same library facade the GUI uses."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime

from seekwise import __version__, crashlog
from seekwise.core import settings
from seekwise.core.errors import Interrupted, SeekwiseError
from seekwise.core.library import Library, LibraryStatus, Progress
from seekwise.core.query import parse_query
from seekwise.core.search import DENSE_BACKENDS, MODES, Hit, SearchFilters, snippet
from seekwise.core.wording import plural

log = logging.getLogger("seekwise")

# -- exit codes and argument types -------------------------------------------------------------
# What a script can branch on. A file that could not be read is not a failed run: `index` says how
# many in its summary and returns 0 (a folder of a few thousand files nearly always holds one broken
# PDF; a non-zero code for it would fail every nightly job), and `seekwise status` lists them.

EXIT_OK = 0            # done; search found something
EXIT_NOTHING = 1       # search found nothing, or a problem Seekwise explains (no library, no such folder)
EXIT_USAGE = 2         # the command line is wrong: an option's value, an empty query (argparse's own code)
EXIT_UNEXPECTED = crashlog.EXIT_UNEXPECTED  # 3: a bug or an unforeseen condition: one line, a log file
EXIT_INTERRUPTED = 130  # Ctrl+C

_EXIT_CODES = ("exit codes: 0 done{ok}; 1 {nothing}a problem explained on stderr (no library yet, no such "
               "folder); 2 bad usage (an option's value{usage}); 3 unexpected error (one line on stderr, "
               "the details in a log file it names); 130 interrupted.")


def _epilog(ok: str = "", nothing: str = "", usage: str = "") -> str:
    return _EXIT_CODES.format(ok=ok, nothing=nothing, usage=usage)


_MAX_THREADS = 256      # more model threads than this is a typo, and onnxruntime would try to start them
_MAX_LIMIT = 10_000     # files per search
_MAX_EF = 100_000
_MAX_OVERSAMPLE = 1_000


def _whole(text: str) -> int | None:
    try:
        return int(text.strip().replace("_", ""))
    except ValueError:
        return None


def positive_int(limit: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `limit`; anything else is a usage error (exit 2)."""
    def parse(text: str) -> int:
        value = _whole(text)
        if value is None or not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to {limit:,}")
        return value
    return parse


def non_negative_int(text: str) -> int:
    value = _whole(text)
    if value is None or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 0 or more")
    return value


def date_arg(text: str) -> float | None:
    """An argparse type for --after/--before: the accepted forms in the message when it is neither."""
    try:
        return parse_when(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=argparse.SUPPRESS,
                        help="library folder (default: $SEEKWISE_DATA_DIR or the platform's user data dir)")
    parser.add_argument("--model", default=argparse.SUPPRESS,
                        help="model id or a model folder with manifest.json (default: the bundled model)")
    parser.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seekwise", description="Find your own files by meaning.",
                                     epilog=_epilog(nothing="search found nothing, or "))
    parser.add_argument("--version", action="version", version=f"seekwise {__version__}")
    _common(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="index folders (added to the library) or every known folder",
                       epilog=_epilog(ok=", also when some files could not be read (the summary counts "
                                         "them, seekwise status lists them)"))
    _common(p)
    p.add_argument("folders", nargs="*", help="folders to add and index (default: all known folders)")
    p.add_argument("--threads", type=positive_int(_MAX_THREADS), default=None,
                   help="model threads (default: all cores)")
    p.add_argument("--max-file-mb", type=non_negative_int, default=None,
                   help="skip files larger than this (default 32; 0: the default)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("watch", help="index, then keep the library up to date as files change (Ctrl+C stops)",
                       epilog=_epilog(ok=" (stopped by Ctrl+C or SIGTERM)"))
    _common(p)
    p.add_argument("folders", nargs="*", help="folders to add (default: all known folders)")
    p.add_argument("--full-speed", action="store_true",
                   help="every core at normal priority (default: one thread, low priority)")
    p.add_argument("--threads", type=positive_int(_MAX_THREADS), default=None,
                   help="model threads for background work")
    p.add_argument("--quiet", "-q", action="store_true", help="only errors")

    p = sub.add_parser("search", help="search the library by meaning and keywords",
                       description='Plain words rank by meaning and by keyword; "an exact phrase" must occur '
                                   "in the passage shown; -word leaves out every file that holds the word.",
                       epilog=_epilog(ok=" and found something", nothing="nothing matched, nothing is indexed, or ",
                                      usage=", a date, an empty query or one of only -exclusions"))
    _common(p)
    p.add_argument("query", nargs="*", help="what to look for (at least one word)")
    p.add_argument("-k", "--limit", type=positive_int(_MAX_LIMIT), default=10, help="files to show (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per hit, best first")
    p.add_argument("--mode", choices=MODES, default="hybrid",
                   help="hybrid (default): meaning and keywords fused; dense: meaning only; lexical: keywords (BM25)")
    p.add_argument("--dense", choices=DENSE_BACKENDS, default="hnsw",
                   help="how the meaning leg searches: hnsw (default), binary (sign bits, then full-precision "
                        "rescoring: little memory), exact (brute force)")
    p.add_argument("--exact", action="store_true", help="same as --dense exact")
    p.add_argument("--oversample", type=positive_int(_MAX_OVERSAMPLE), default=4,
                   help="binary: candidates per wanted chunk (default 4)")
    p.add_argument("--ef", type=positive_int(_MAX_EF), default=96,
                   help="HNSW search breadth: higher finds more, slower (default 96)")
    p.add_argument("--in", dest="folders", action="append", default=[], metavar="FOLDER",
                   help="only files under this folder (repeatable)")
    p.add_argument("--type", dest="types", action="append", default=[], metavar="TYPE",
                   help="only this file type: an extension (pdf, md) or a kind (markdown, code, html, text); "
                        "repeatable or comma-separated")
    p.add_argument("--after", type=date_arg, help="only files modified on or after: YYYY-MM-DD, or 7d/3w/6m/1y ago")
    p.add_argument("--before", type=date_arg, help="only files modified before: YYYY-MM-DD, or 7d/3w/6m/1y ago")
    p.add_argument("--path", dest="path_contains", default="", help="only files whose path contains this")

    p = sub.add_parser("status", help="what is indexed, errors, model, sizes", epilog=_epilog())
    _common(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--problems", type=positive_int(1_000_000), default=20,
                   help="how many problem files to list (default 20)")

    p = sub.add_parser("repair", help="set a damaged library store aside and rebuild it from your folders", epilog=_epilog(),
                       description="Keeps the damaged store as store.lmdb.damaged-DATE and indexes the library's "
                                   "folders again (from the damaged store if it still reads, else the settings, "
                                   "else the FOLDERs given). A healthy library is left as it is.")
    _common(p)
    p.add_argument("folders", nargs="*", help="folders to index if the library's own list is lost")
    p.add_argument("--threads", type=positive_int(_MAX_THREADS), default=None, help="model threads (default: all cores)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")

    p = sub.add_parser("bench", help="index DIR into a fresh library and time queries", epilog=_epilog())
    _common(p)
    p.add_argument("folder")
    p.add_argument("--queries", help="file with one query per line (default: a built-in set)")
    p.add_argument("--json", dest="json_out", help="write the figures to this JSON file")
    p.add_argument("--threads", type=positive_int(_MAX_THREADS), default=None)
    p.add_argument("--keep", help="build the library here and keep it (default: a temp dir)")

    from seekwise.evaluation import add_arguments
    from seekwise.vecbench import add_arguments as add_vector_arguments

    p = sub.add_parser("bench-vectors", help="memory, latency and recall of each dense search at scale",
                       epilog=_epilog())
    add_vector_arguments(p)

    p = sub.add_parser("gui", help="the desktop app: seekwise-gui (its options: seekwise-gui --help)",
                       add_help=False)
    _common(p)
    p.add_argument("gui_args", nargs=argparse.REMAINDER, help="seekwise-gui's options")

    p = sub.add_parser("eval", help="score retrieval on a BEIR data set, per search mode", epilog=_epilog())
    _common(p)
    add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Every way out is an exit code of the table above, never a traceback: anything unforeseen is
    one line on stderr naming a log file that holds the details (crashlog)."""
    args = None
    try:
        parser = build_parser()
        words = list(sys.argv[1:] if argv is None else argv)
        words, exclusions = _split_exclusions(words)
        try:
            args, unknown = parser.parse_known_args(words + (["--", *exclusions] if exclusions else []))
        except SystemExit as done:   # usage error (2) or --help/--version (0): returned, as every way out
            return done.code if isinstance(done.code, int) else EXIT_USAGE
        if args.command == "gui":   # every word after `gui` is seekwise-gui's, in its order
            words = list(sys.argv[1:] if argv is None else argv)
            at = next(i for i, w in enumerate(words)
                      if w == "gui" and (i == 0 or words[i - 1] not in ("--data-dir", "--model")))
            args.gui_args = words[at + 1:]
        elif args.command == "search" and unknown and not any(w.startswith("--") for w in unknown if w != "--"):
            # `seekwise search cats -dogs`: -dogs is query syntax (the `--` is _split_exclusions')
            args.query = [*args.query, *(w for w in unknown if w != "--")]
        elif unknown:
            parser.print_usage(sys.stderr)
            print(f"seekwise: error: unrecognized arguments: {' '.join(unknown)}", file=sys.stderr)
            return EXIT_USAGE
        logging.basicConfig(level=logging.DEBUG if getattr(args, "verbose", False) else logging.WARNING,
                            format="%(levelname)s %(name)s: %(message)s")
        if not args.command:
            parser.print_help()
            return EXIT_USAGE
        return COMMANDS[args.command](args)
    except (KeyboardInterrupt, Interrupted):
        print("\nseekwise: interrupted; what was indexed so far is kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except SeekwiseError as exc:
        print(f"seekwise: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    except BrokenPipeError:   # `seekwise search ... | head -1`: the reader has what it wanted
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns a surprise into a line and a log
        return crashlog.report("seekwise", exc, show_traceback=bool(getattr(args, "verbose", False)))


_SHORT_OPTION = re.compile(r"-[kvh]|-k\d+")   # search's own short options: -k 5, -k5, -v, -h


def _split_exclusions(words: list[str]) -> tuple[list[str], list[str]]:
    """`seekwise search boiler -kettle`: a dash word after `search` that is no option of ours is query
    syntax ("files without kettle"), not `-k ettle`; argparse would glue it to -k or call it unknown."""
    try:
        at = next(i for i, w in enumerate(words) if w == "search"
                  and (i == 0 or words[i - 1] not in ("--data-dir", "--model")))
    except StopIteration:
        return words, []
    if "--" in words[at:]:
        return words, []   # the user already said where options end
    keep, exclusions = words[:at + 1], []
    for w in words[at + 1:]:
        if len(w) > 1 and w[0] == "-" and w[1] not in "-0123456789" and not _SHORT_OPTION.fullmatch(w):
            exclusions.append(w)
        else:
            keep.append(w)
    return keep, exclusions


def _silence_stdout() -> None:
    """Python would complain again flushing a closed pipe at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _open(args: argparse.Namespace, readonly: bool = False, **kw: object) -> Library:
    """The library the options (else the environment, else the saved settings) name, with the
    settings' exclusions and file types."""
    prefs = _settings()
    return Library(prefs.library_dir(getattr(args, "data_dir", None)),
                   model=prefs.model_spec(getattr(args, "model", None)),
                   readonly=readonly, ignore=prefs.ignore_rules(), **kw)


def _settings() -> settings.Settings:
    prefs = settings.load()
    if prefs.problem:
        print(f"seekwise: {prefs.problem}", file=sys.stderr)
    return prefs


# -- index -------------------------------------------------------------------------------------

def cmd_index(args: argparse.Namespace) -> int:
    kw = {"threads": args.threads}
    if args.max_file_mb:
        kw["max_file_mb"] = args.max_file_mb
    for folder in args.folders:
        if not os.path.exists(folder):
            print(f"seekwise: {folder}: no such folder", file=sys.stderr)
            return 1
    bar = ProgressBar(enabled=not args.quiet and sys.stderr.isatty())
    cancel = threading.Event()
    with _open(args, **kw) as lib:
        if not args.folders and not lib.roots():
            print("seekwise: no folders yet; say which: seekwise index ~/Documents", file=sys.stderr)
            return 1
        try:
            report = lib.index(args.folders or None, progress=bar, cancel=cancel)
        except KeyboardInterrupt:
            cancel.set()
            raise
        finally:
            bar.close()
    for root in report.missing_roots:
        print(f"seekwise: folder not found (kept its index as it was): {root}", file=sys.stderr)
    print(f"{plural(report.files_seen, 'file')} seen: {report.files_indexed:,} indexed, "
          f"{report.files_unchanged:,} unchanged, {report.files_touched:,} touched, {report.files_removed:,} removed, "
          f"{report.files_skipped:,} skipped, {report.files_failed:,} failed; {plural(report.chunks_added, 'chunk')} "
          f"({report.chunks_embedded:,} embedded, the rest from cache) in {report.seconds:.1f} s")
    shown = report.problems[:10]
    for path, reason in shown:
        print(f"  {path}: {reason}")
    if len(report.problems) > len(shown):
        print(f"  … and {len(report.problems) - len(shown):,} more (seekwise status --problems N)")
    return EXIT_OK


class ProgressBar:
    """One line on stderr, redrawn; the indexer calls it at most ten times a second."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.width = 0

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        if p.phase == "scanning":
            line = "scanning…"
        elif p.phase == "indexing" and p.files_todo:
            frac = p.bytes_done / p.bytes_todo if p.bytes_todo else p.files_done / p.files_todo
            filled = int(frac * 24)
            eta = f" ETA {_duration(p.eta_s)}" if p.eta_s is not None else ""
            rate = p.chunks_embedded / max(p.elapsed - p.indexing_started, 1e-6)
            name = os.path.basename(p.current)[:30]
            line = (f"[{'#' * filled}{'.' * (24 - filled)}] {frac:4.0%} {p.files_done}/{plural(p.files_todo, 'file')} "
                    f"{rate:5.0f} chunks/s{eta}  {name}")
        else:
            line = f"{p.phase}…"
        pad = max(0, self.width - len(line))
        sys.stderr.write("\r" + line + " " * pad)
        sys.stderr.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


# -- watch -------------------------------------------------------------------------------------

def cmd_watch(args: argparse.Namespace) -> int:
    import signal

    from seekwise.core.service import CpuBudget, IndexService, ServiceState

    for folder in args.folders:
        if not os.path.isdir(folder):
            print(f"seekwise: {folder}: no such folder", file=sys.stderr)
            return 1
    budget = CpuBudget.full_speed() if args.full_speed else CpuBudget()
    threads = args.threads or (None if args.full_speed else settings.load().background_threads)
    if threads:
        budget = CpuBudget(threads=threads, nice=budget.nice)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with _open(args) as lib:
        for folder in args.folders:
            lib.add_root(folder)
        if not lib.roots():
            print("seekwise: no folders yet; say which: seekwise watch ~/Documents", file=sys.stderr)
            return 1
        line = StatusLine(enabled=not args.quiet and sys.stderr.isatty(), quiet=args.quiet)
        service = IndexService(lib, budget=budget)
        service.subscribe(line)
        service.start()
        if not args.quiet:
            print(f"watching {', '.join(lib.roots())} (Ctrl+C stops)", file=sys.stderr)
        try:
            while not stop.wait(1.0):
                for problem in service.watcher_problems():
                    line.once(problem)
        except KeyboardInterrupt:
            pass
        finally:
            line.close()
            service.stop()
    return 0


class StatusLine:
    """The service's state on one redrawn stderr line; errors and state changes on lines of their own."""

    def __init__(self, enabled: bool, quiet: bool) -> None:
        self.bar = ProgressBar(enabled)
        self.quiet = quiet
        self.last_state = ""
        self.said: set[str] = set()

    def __call__(self, s: "ServiceState") -> None:  # noqa: F821 - imported lazily
        if s.state in ("error", "waiting") and s.message:
            self.once(s.message)
        if self.bar.enabled and s.state in ("scanning", "indexing"):
            p = Progress(phase=s.state, files_todo=s.files_todo, files_done=s.files_done, current=s.current)
            self.bar(p)
        elif s.state != self.last_state:
            self.bar.close()
            if not self.quiet and s.state in ("idle", "paused") and s.last_report is not None:
                r = s.last_report
                print(f"{time.strftime('%H:%M:%S')} up to date: {r.files_indexed} indexed, "
                      f"{r.files_removed} removed, {r.files_failed} failed", file=sys.stderr)
        self.last_state = s.state

    def once(self, message: str) -> None:
        if message not in self.said:
            self.said.add(message)
            self.bar.close()
            print(f"seekwise: {message}", file=sys.stderr)

    def close(self) -> None:
        self.bar.close()


# -- search ------------------------------------------------------------------------------------

def cmd_search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    wrong = query_problem(query)
    if wrong:
        print(f"seekwise search: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    filters = SearchFilters(
        folders=tuple(args.folders), types=tuple(t for arg in args.types for t in arg.split(",") if t),
        after=args.after, before=args.before, path_contains=args.path_contains)
    with _open(args, readonly=True, ef=args.ef, oversample=args.oversample) as lib:
        hits = lib.search(query, k=args.limit, mode=args.mode, dense="exact" if args.exact else args.dense,
                          filters=filters)
        empty = None if hits else library_emptiness(lib)
    if empty:   # on stderr, so --json output stays one hit per line (here: none)
        print(f"seekwise: {empty}", file=sys.stderr)
        return EXIT_NOTHING
    if args.json:
        for rank, hit in enumerate(hits, 1):
            print(json.dumps(hit_json(rank, hit), ensure_ascii=False))
        return EXIT_OK if hits else EXIT_NOTHING
    if not hits:
        print("No results for those filters." if filters.active else "No results for that query.")
        return EXIT_NOTHING
    bold = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None
    for rank, hit in enumerate(hits, 1):
        more = f"  (+{plural(len(hit.others), 'more passage')})" if hit.others else ""
        where = f"  p. {hit.page}" if hit.page else f":{hit.line}"
        print(f"{rank:2}. {hit.score:.3f}  {hit.path}{where}{more}")
        text, marks = snippet(hit.text, marks=hit.best.marks)
        print("    " + render_marks(text, marks, bold))
    return EXIT_OK


def query_problem(query: str) -> str | None:
    """Why a query cannot be searched, said before the model is loaded; None when it can."""
    if not query.strip():
        return 'the query is empty: say what to look for, e.g. seekwise search "deposit back"'
    parsed = parse_query(query)
    if not parsed.empty:
        return None
    if parsed.excluded:
        return (f"{query.strip()!r} only excludes words: a query needs at least one word to look for "
                f'(e.g. seekwise search "tenancy {query.strip()}")')
    return f"{query.strip()!r} has no words to look for"


def library_emptiness(lib: Library) -> str | None:
    """Nothing found because there is nothing to search: say so, and how to fix it."""
    counts = lib.store.counts()
    if not counts["files"]:
        return f"nothing is indexed in {lib.paths.root} yet: seekwise index FOLDER"
    if not counts["chunks"]:
        return (f"none of the {plural(counts['files'], 'file')} in the library has text to search "
                "(seekwise status says why)")
    return None


def hit_json(rank: int, hit: Hit) -> dict:
    return {"rank": rank, "path": hit.path, "score": round(hit.score, 4), "line": hit.line,
            "page": hit.page or None, "text": hit.text, "chunk_id": hit.best.chunk_id,
            "highlights": [list(m) for m in hit.best.marks], "highlight_kind": hit.best.mark_kind,
            "others": [{"line": p.line, "page": p.page or None, "score": round(p.score, 4), "chunk_id": p.chunk_id}
                       for p in hit.others]}


def render_marks(text: str, marks: list[tuple[int, int]], bold: bool) -> str:
    """Bold on a terminal; [brackets] elsewhere, so the marks survive a pipe."""
    left, right = ("\033[1m", "\033[0m") if bold else ("[", "]")
    out, pos = [], 0
    for start, end in marks:
        out += [text[pos:start], left, text[start:end], right]
        pos = end
    out.append(text[pos:])
    return "".join(out)


_AGO = {"d": 1, "w": 7, "m": 30, "y": 365}


def parse_when(value: str | None) -> float | None:
    """YYYY-MM-DD[THH:MM] in local time, or a span ago like 10d, 3w, 6m, 1y."""
    if not value:
        return None
    value = value.strip()
    if value[:-1].isdigit() and value[-1:].lower() in _AGO:
        return time.time() - int(value[:-1]) * _AGO[value[-1].lower()] * 86400
    try:
        return datetime.fromisoformat(value).timestamp()
    except (ValueError, OverflowError, OSError):  # OverflowError/OSError: year 1 or 9999 on some platforms
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD or a span ago such as 7d, 3w, 6m, 1y") from None


# -- status ------------------------------------------------------------------------------------

def cmd_status(args: argparse.Namespace) -> int:
    with _open(args, readonly=True) as lib:
        st = lib.status(problems=args.problems)
    if args.json:
        print(json.dumps(st.__dict__, indent=2, default=str))
        return 0
    print(format_status(st))
    return 0


def format_status(st: LibraryStatus) -> str:
    when = datetime.fromtimestamp(st.last_indexed).strftime("%Y-%m-%d %H:%M") if st.last_indexed else "never"
    lines = [
        f"Library:  {st.data_dir}",
        f"Model:    {st.model_id} ({st.model_version}) from {st.model_folder}",
        "Folders:  " + (", ".join(st.roots) if st.roots else "none yet (seekwise index FOLDER)"),
        f"Files:    {st.files:,} known: " + ", ".join(f"{n:,} {s}" for s, n in sorted(st.by_status.items())),
        f"Chunks:   {st.chunks:,} ({plural(st.vectors, 'cached vector')})",
        f"Sizes:    store {st.store_bytes / 2**20:.1f} MB, vector index {st.ann_bytes / 2**20:.1f} MB, "
        f"keyword index {st.lexical_bytes / 2**20:.1f} MB",
        f"Indexed:  {when}",
    ]
    if st.problems:
        lines.append("Problems:")
        lines += [f"  [{status}] {path}: {reason}" for path, status, reason in st.problems]
    return "\n".join(lines)


# -- repair ------------------------------------------------------------------------------------

def cmd_repair(args: argparse.Namespace) -> int:
    """The work is core.repair's (the GUI's Repair button runs the same); here it is said and indexed."""
    from seekwise.core import repair

    prefs = _settings()
    result = repair.repair(prefs.library_dir(getattr(args, "data_dir", None)),
                           model=prefs.model_spec(getattr(args, "model", None)), folders=args.folders,
                           prefs=prefs, ignore=prefs.ignore_rules())
    if not result.repaired:
        print(f"The library at {result.data_dir} reads whole: nothing to repair.")
        return 0
    print(f"seekwise: {result.damage}", file=sys.stderr)
    if result.kept_as:
        print(f"The damaged store is kept as {result.kept_as} (delete it once you are happy).")
    if not result.roots:
        print("seekwise: the library's folder list was lost with its store; say which folders to index: "
              "seekwise index ~/Documents", file=sys.stderr)
        return 1
    print(f"Indexing {', '.join(result.roots)} again: {result.estimate()}.")
    bar = ProgressBar(enabled=not args.quiet and sys.stderr.isatty())
    with _open(args, threads=args.threads) as lib:
        try:
            report = lib.index(progress=bar)
        finally:
            bar.close()
    print(f"Repaired: {report.files_indexed} files indexed, {report.files_failed} failed; "
          f"{report.chunks_added} chunks in {report.seconds:.1f} s")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from seekwise.bench import run_bench

    return run_bench(args)


def cmd_bench_vectors(args: argparse.Namespace) -> int:
    from seekwise.vecbench import run

    return run(args)


def cmd_eval(args: argparse.Namespace) -> int:
    from seekwise.evaluation import run_eval

    return run_eval(args)


def cmd_gui(args: argparse.Namespace) -> int:
    """Qt is imported only here: the rest of the CLI runs where PySide6 cannot load."""
    from seekwise.gui.app import main as gui_main
    argv = [f"--{name.replace('_', '-')}={getattr(args, name)}" for name in ("data_dir", "model") if hasattr(args, name)]
    return gui_main(argv + args.gui_args)


COMMANDS = {"gui": cmd_gui, "index": cmd_index, "watch": cmd_watch, "search": cmd_search, "status": cmd_status, "bench": cmd_bench,
            "eval": cmd_eval, "bench-vectors": cmd_bench_vectors, "repair": cmd_repair}

if __name__ == "__main__":
    raise SystemExit(main())
