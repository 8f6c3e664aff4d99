"""`seekwise index|watch|search|status|repair|eval|gui|bench|bench-vectors`: the command line over the same
library facade the GUI uses."""

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
from typing import TYPE_CHECKING, NoReturn

from seekwise import __version__, crashlog
from seekwise.core import settings
from seekwise.core.errors import Interrupted, SeekwiseError
from seekwise.core.query import parse_query
from seekwise.core.search import DENSE_BACKENDS, GOOD_MATCH, MODES, Hit, SearchFilters, good_matches, snippet
from seekwise.core.wording import percent, plural

if TYPE_CHECKING:   # the library (numpy, the model, the indexes) is imported where a command opens
    from types import ModuleType

    from seekwise.core.library import Library, LibraryStatus, Progress   # one: `search` through a
    from seekwise.core.query_server import SearchRequest                 # running Seekwise never does
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
COLD_OVERSAMPLE = 5       # a one-off search rescores 5x the candidates it wants (search_once): ~1,000


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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Subcommand)

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
    p.add_argument("--dense", choices=DENSE_BACKENDS, default=None,
                   help="how the meaning leg searches: hnsw (the graph; the default of a running app, which "
                        "answers the command line when it runs), binary (sign bits, then full-precision "
                        "rescoring: little memory; the default when nothing runs), exact (brute force)")
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

    p = sub.add_parser("bench-vectors", help="memory, latency and recall of each dense search at scale",
                       epilog=_epilog(), fill=(__name__, "_bench_vectors_arguments"))

    p = sub.add_parser("gui", help="the desktop app: seekwise-gui (its options: seekwise-gui --help)",
                       add_help=False)
    _common(p)
    p.add_argument("gui_args", nargs=argparse.REMAINDER, help="seekwise-gui's options")

    p = sub.add_parser("eval", help="score retrieval on a BEIR data set, per search mode", epilog=_epilog(),
                       fill=("seekwise.evaluation", "add_arguments"))
    _common(p)
    return parser


class _Subcommand(argparse.ArgumentParser):
    """A subcommand parser whose options may come from a module (`fill`: module, function) imported
    only when that subcommand is parsed: `eval` and `bench-vectors` load the library and numpy to
    describe theirs, which a `seekwise search` should not pay for."""

    def __init__(self, *args: object, fill: tuple[str, str] | None = None, **kw: object) -> None:
        super().__init__(*args, **kw)
        self._fill = fill

    def parse_known_args(self, args=None, namespace=None):  # noqa: ANN001, ANN201 - argparse's own
        if self._fill is not None:
            import importlib
            module, name = self._fill
            self._fill = None
            getattr(importlib.import_module(module), name)(self)
        return super().parse_known_args(args, namespace)


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
        code = COMMANDS[args.command](args)
        if args.command == "search" and argv is None:   # the console command, not a caller of main()
            exit_at_once(code)
        return code
    except (KeyboardInterrupt, Interrupted):
        return _interrupted()
    except SeekwiseError as exc:
        print(f"seekwise: {exc}", file=sys.stderr)
        return EXIT_NOTHING
    except BrokenPipeError:   # `seekwise search ... | head -1`: the reader has what it wanted
        _silence_stdout()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place that turns a surprise into a line and a log
        if isinstance(exc.__cause__, KeyboardInterrupt):   # a C extension's start cut short by Ctrl+C
            return _interrupted()
        return crashlog.report("seekwise", exc, show_traceback=bool(getattr(args, "verbose", False)))


def _interrupted() -> int:
    print("\nseekwise: interrupted; what was indexed so far is kept.", file=sys.stderr)
    return EXIT_INTERRUPTED


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


def exit_at_once(code: int) -> NoReturn:
    """A one-off search has said everything: end the process without tearing down numpy, ONNX
    Runtime and the indexes one object at a time (some 60 ms of a 400 ms search); the system frees
    it all at once. It waits for a thread still at work (the model's preload) and flushes output."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):   # the reader left (`| head -1`), or a closed stream
            pass
    os._exit(code)


def _silence_stdout() -> None:
    """Python would complain again flushing a closed pipe at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _open(args: argparse.Namespace, readonly: bool = False, prefs: settings.Settings | None = None,
          **kw: object) -> Library:
    """The library the options (else the environment, else the saved settings) name, with the
    settings' exclusions and file types."""
    from seekwise.core.library import Library

    prefs = prefs or _settings()
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
    bar = ProgressBar.for_stderr(quiet=args.quiet)
    cancel = threading.Event()
    with _open(args, **kw) as lib:
        if not args.folders and not lib.roots():
            print("seekwise: no folders yet; say which: seekwise index ~/Documents", file=sys.stderr)
            return 1
        try:
            report = lib.index(args.folders or None, progress=bar, cancel=cancel)
        except (KeyboardInterrupt, Interrupted):
            cancel.set()
            bar.close()
            if bar.last.keywords_seconds is None:   # stopped in the keywords phase: main says it
                raise
            print(f"\nseekwise: interrupted; keyword search already covers every file, meaning "
                  f"{percent(bar.last.meaning_share)} of passages; the next seekwise index goes on with "
                  "the meaning phase.", file=sys.stderr)
            return EXIT_INTERRUPTED
        finally:
            bar.close()
        share = lib.meaning_share()
    for root in report.missing_roots:
        print(f"seekwise: folder not found (kept its index as it was): {root}", file=sys.stderr)
    print(f"{plural(report.files_seen, 'file')} seen: {report.files_indexed:,} indexed, "
          f"{report.files_unchanged:,} unchanged, {report.files_touched:,} touched, {report.files_removed:,} removed, "
          f"{report.files_skipped:,} skipped, {report.files_failed:,} failed; {plural(report.chunks_added, 'chunk')} "
          f"({report.chunks_embedded:,} embedded, the rest from cache) in {report.seconds:.1f} s")
    print(f"searchable by keyword after {report.keywords_seconds:.1f} s, by meaning ({percent(share)} of passages) "
          f"after {report.seconds:.1f} s")
    shown = report.problems[:10]
    for path, reason in shown:
        print(f"  {path}: {reason}")
    if len(report.problems) > len(shown):
        print(f"  … and {len(report.problems) - len(shown):,} more (seekwise status --problems N)")
    return EXIT_OK


class ProgressBar:
    """The indexer's two phases on stderr. On a terminal, one redrawn line (a bar, counts, an ETA)
    and a line kept as each phase ends ("keywords: 3,739 files in 31 s"); elsewhere (a log, a pipe)
    only those kept lines; quiet: nothing. The indexer calls it at most ten times a second."""

    WIDTH = 24

    def __init__(self, enabled: bool, lines: bool | None = None) -> None:
        self.enabled = enabled                              # the redrawn line
        self.lines = enabled if lines is None else lines    # a line as each phase ends
        self.width = 0
        self.phase = ""
        from seekwise.core.library import Progress
        self.last: Progress = Progress()

    @classmethod
    def for_stderr(cls, quiet: bool) -> "ProgressBar":
        tty = sys.stderr.isatty()
        return cls(enabled=not quiet and tty, lines=not quiet)

    def __call__(self, p: Progress) -> None:
        if p.phase != self.phase:
            ended, self.phase, self.last = self.phase, p.phase, p   # first: a Ctrl+C may land while we write
            self._ended(ended, p)
        self.last = p
        if not self.enabled or p.phase == "done":
            return
        if p.phase == "scanning":
            line = "scanning…"
        elif p.phase == "keywords" and p.files_todo:
            frac = p.bytes_done / p.bytes_todo if p.bytes_todo else p.files_done / p.files_todo
            eta = f"  ETA {_duration(p.eta_s)}" if p.eta_s is not None else ""
            line = (f"keywords {_bar(frac, self.WIDTH)} {frac:4.0%}  {p.files_done:,}/{plural(p.files_todo, 'file')}"
                    f"{eta}  {os.path.basename(p.current)[:30]}")
        elif p.phase == "meaning" and p.vectors_todo:
            rate = p.vectors_done / max(p.elapsed - p.meaning_started, 1e-6)
            eta = f", ETA {_duration(p.meaning_eta_s)}" if p.meaning_eta_s is not None else ""
            line = (f"meaning  {_bar(p.meaning_share, self.WIDTH)} {percent(p.meaning_share)} of passages{eta}  "
                    f"({p.vectors_done:,}/{p.vectors_todo:,}, {rate:.0f}/s)")
        elif p.phase == "pictures" and p.pictures_todo:
            frac = p.pictures_done / p.pictures_todo
            line = (f"pictures (OCR) {_bar(frac, self.WIDTH)} {frac:4.0%}  {p.pictures_done:,}/"
                    f"{plural(p.pictures_todo, 'file')}  {os.path.basename(p.current)[:30]}")
        else:
            line = f"{p.phase}…"
        self.draw(line)

    def _ended(self, phase: str, p: Progress) -> None:
        """A line that stays: what the phase that just ended did."""
        if not self.lines:
            return
        if phase == "keywords" and p.keywords_seconds is not None:
            said = (f"keywords: {plural(p.files_done, 'file')} in {_duration(p.keywords_seconds)}" if p.files_todo
                    else f"keywords: nothing new ({plural(p.files_total, 'file')} unchanged)")
        elif phase == "meaning" and p.vectors_todo and p.vectors_done >= p.vectors_todo:   # else stopped
            said = (f"meaning: {percent(p.meaning_share)} of passages ({p.vectors_done:,} embedded) in "
                    f"{_duration(p.elapsed - p.meaning_started)}")
        elif phase == "pictures" and p.pictures_todo and p.pictures_done >= p.pictures_todo:
            said = f"pictures: text of {plural(p.pictures_done, 'file')} read by OCR"
        else:
            return
        self.draw("")
        sys.stderr.write(said + "\n")
        sys.stderr.flush()
        self.width = 0

    def draw(self, line: str) -> None:
        if not self.enabled:
            return
        pad = max(0, self.width - len(line))
        sys.stderr.write("\r" + line + " " * pad + ("\r" if not line else ""))
        sys.stderr.flush()
        self.width = len(line)

    def close(self) -> None:
        if self.enabled and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0


def _bar(frac: float, width: int) -> str:
    filled = int(max(0.0, min(1.0, frac)) * width)
    return f"[{'#' * filled}{'.' * (width - filled)}]"


def _duration(seconds: float | None) -> str:
    """31 s, 12 min, 2 h 05 min: what a person reads at a glance."""
    if seconds is None:
        return "?"
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


# -- watch -------------------------------------------------------------------------------------

def cmd_watch(args: argparse.Namespace) -> int:
    import signal

    from seekwise import logfile
    from seekwise.core.query_server import QueryServer
    from seekwise.core.service import CpuBudget, IndexService, ServiceState

    for folder in args.folders:
        if not os.path.isdir(folder):
            print(f"seekwise: {folder}: no such folder", file=sys.stderr)
            return 1
    logfile.configure("seekwise-watch", verbose=getattr(args, "verbose", False))  # it runs for hours, unread
    budget = CpuBudget.full_speed() if args.full_speed else CpuBudget()
    threads = args.threads or (None if args.full_speed else settings.load().background_threads)
    if threads:
        budget = CpuBudget(threads=threads, nice=budget.nice)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with _open(args) as lib:
        service = IndexService(lib, budget=budget)    # every write of this command goes through it
        for folder in args.folders:
            service.add_root(folder)
        if not lib.roots():
            print("seekwise: no folders yet; say which: seekwise watch ~/Documents", file=sys.stderr)
            return 1
        line = StatusLine(enabled=not args.quiet and sys.stderr.isatty(), quiet=args.quiet)
        service.subscribe(line)
        service.start()
        answers = QueryServer(lib)   # `seekwise search` asks this process instead of loading the library
        if not answers.start():
            log.info("command-line searches load the library themselves: %s", answers.problem)
        if not args.quiet:
            print(f"watching {', '.join(lib.roots())} (Ctrl+C stops)", file=sys.stderr)
        try:
            while not stop.wait(1.0):
                for problem in service.watcher_problems():
                    line.once(problem)
        except KeyboardInterrupt:
            pass
        finally:
            answers.stop()
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
        if s.state.is_problem and s.message:
            self.once(s.message)
        if self.bar.enabled and s.state.working:
            self.bar.draw(watch_line(s, self.bar.WIDTH))
        elif s.state != self.last_state:
            self.bar.close()
            if not self.quiet and s.state.settled and s.last_report is not None:
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


def watch_line(s: "ServiceState", width: int) -> str:  # noqa: F821 - imported lazily
    """The service's run in a line, as `index` draws its phases."""
    from seekwise.core.service import ServiceStatus
    if s.state is ServiceStatus.SCANNING:
        return "scanning…"
    if s.phase == "keywords" and s.files_todo:
        frac = s.files_done / s.files_todo
        return (f"keywords {_bar(frac, width)} {frac:4.0%}  {s.files_done:,}/{plural(s.files_todo, 'file')}  "
                f"{os.path.basename(s.current)[:30]}")
    if s.phase == "meaning" and s.meaning_share is not None:
        eta = f", ETA {_duration(s.meaning_eta_s)}" if s.meaning_eta_s is not None else ""
        return f"meaning  {_bar(s.meaning_share, width)} {percent(s.meaning_share)} of passages{eta}"
    return "indexing…"


# -- search ------------------------------------------------------------------------------------

def cmd_search(args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    wrong = query_problem(query)
    if wrong:
        print(f"seekwise search: {wrong}", file=sys.stderr)
        return EXIT_USAGE
    from seekwise.core import query_server
    from seekwise.core.paths import LibraryPaths

    filters = SearchFilters(   # folders as real paths: a running Seekwise has another working folder
        folders=tuple(os.path.realpath(os.path.expanduser(f)) for f in args.folders),
        types=tuple(t for arg in args.types for t in arg.split(",") if t),
        after=args.after, before=args.before, path_contains=args.path_contains)
    prefs = _settings()
    request = query_server.SearchRequest(
        query, k=args.limit, mode=args.mode, dense="exact" if args.exact else args.dense,
        oversample=args.oversample, ef=args.ef, filters=filters,
        model=query_server.effective_model(prefs.model_spec(getattr(args, "model", None))))
    data_dir = LibraryPaths.resolve(prefs.library_dir(getattr(args, "data_dir", None))).root
    reply = query_server.ask(data_dir, request)   # the app or `seekwise watch`, if one runs on it
    if reply is not None:
        hits = reply.hits
        empty = None if hits else library_emptiness(reply.files, reply.chunks, reply.root)
        say_meaning_coverage(reply, args.mode)
    else:
        # Nothing here multiplies big matrices: OpenBLAS's thread pool, started as numpy is imported,
        # would only cost this short process its start (about 50 ms of CPU); the results are the same.
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        if args.mode != "lexical":
            _preload_model(prefs, args, data_dir)
        with _open(args, readonly=True, prefs=prefs, ef=args.ef, oversample=args.oversample) as lib:
            hits = search_once(lib, request)
            empty = None if hits else library_emptiness(**lib.store.counts(), root=lib.paths.root)
            say_meaning_coverage(lib, args.mode)
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
    print("\n".join(render_hits(hits, query, bold)))
    return EXIT_OK


WEAKER = "── weaker matches ──"


def render_hits(hits: list[Hit], query: str, bold: bool) -> list[str]:
    """The hits as text lines: relevance (0-100 %), path, the matched passage. Hits below the good-match
    bar come after a divider, and when none reaches it the first line says there is no good match."""
    good = len(good_matches(hits))
    lines = [] if good else [f'No good match for "{query}".', WEAKER]
    for rank, hit in enumerate(hits, 1):
        if good and rank == good + 1:
            lines.append(WEAKER)
        more = f"  (+{plural(len(hit.others), 'more passage')})" if hit.others else ""
        where = f"  p. {hit.page}" if hit.page else f":{hit.line}"
        lines.append(f"{rank:2}. {round(hit.relevance * 100):3d}%  {hit.path}{where}{more}")
        text, marks = snippet(hit.text, marks=hit.best.marks)
        lines.append("    " + render_marks(text, marks, bold))
    return lines


def say_meaning_coverage(lib: Library, mode: str) -> None:
    """While the meaning phase has passages still to embed, a search by meaning sees only part of the
    library: one line on stderr says how much (stdout, and --json, stay as they are)."""
    if mode == "lexical":
        return
    share = lib.meaning_share()
    if share < 1.0:
        print(f"seekwise: meaning covers {percent(share)} of passages so far; keywords find every file",
              file=sys.stderr)


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


def _preload_model(prefs: settings.Settings, args: argparse.Namespace, data_dir: os.PathLike) -> None:
    """With nothing running, a search by meaning loads the model itself: that starts here, in a
    thread (encoder.preload), while the library is imported and opened; it is the same model the
    library then resolves. Nothing starts for a folder that holds no library (Library says so)."""
    from seekwise.core.paths import LibraryPaths

    paths = LibraryPaths.resolve(data_dir)
    if not paths.store.exists():
        return
    from seekwise.core.embedding import resolve_model
    from seekwise.core.embedding.encoder import preload

    try:
        manifest = resolve_model(prefs.model_spec(getattr(args, "model", None)), paths.models)
    except SeekwiseError:
        return   # opening the library raises it, in its words
    preload(manifest, record=paths.verified_models)


def search_once(lib: Library, request: SearchRequest) -> list[Hit]:
    """A search in a process that exits after it. The meaning leg, unless told which, reads the
    library's sign codes (48 bytes a passage) and rescores the nearest COLD_OVERSAMPLE times the
    candidates wanted exactly from the memory-mapped store, instead of loading the whole HNSW graph
    for one query: the same files as an HNSW search, in a fraction of the time and memory. The
    indexes the search reads are opened first: while the model may still be loading (_preload_model)."""
    dense, oversample = request.dense, request.oversample
    if dense is None:
        dense, oversample = "binary", max(oversample, COLD_OVERSAMPLE)
    if request.mode != "dense":
        lib.derived.current_lexical()
    if request.mode != "lexical" and dense == "binary":
        lib.derived.current_binary()
    return lib.search(request.query, k=request.k, mode=request.mode, dense=dense, filters=request.filters,
                      oversample=oversample)


def library_emptiness(files: int, chunks: int, root: object, **_counts: int) -> str | None:
    """Nothing found because there is nothing to search: say so, and how to fix it."""
    if not files:
        return f"nothing is indexed in {root} yet: seekwise index FOLDER"
    if not chunks:
        return (f"none of the {plural(files, 'file')} in the library has text to search "
                "(seekwise status says why)")
    return None


def hit_json(rank: int, hit: Hit) -> dict:
    """`score` orders the hits (the ranking's own scale); `relevance` (0-1) and `match` are what to show
    or threshold on; the raw leg scores keep their names (dense_cosine, bm25, coverage, fused)."""
    return {"rank": rank, "path": hit.path, "score": round(hit.score, 4), "relevance": hit.relevance,
            "match": hit.relevance >= GOOD_MATCH, **{name: round(v, 4) for name, v in hit.legs.items()},
            "line": hit.line,
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
        f"Keywords: {plural(st.keyword_files, 'file')} searchable",
        "Meaning:  " + meaning_coverage(st),
        *([f"Pictures: {plural(st.awaiting_ocr, 'file')} with text only OCR can read: "
           + (st.ocr_unavailable or "waiting for the OCR pass")] if st.awaiting_ocr else []),
        f"Sizes:    store {st.store_bytes / 2**20:.1f} MB, vector index {st.ann_bytes / 2**20:.1f} MB, "
        f"keyword index {st.lexical_bytes / 2**20:.1f} MB",
        f"Indexed:  {when}",
    ]
    if st.problems:
        lines.append("Problems:")
        lines += [f"  [{status}] {path}: {reason}" for path, status, reason in st.problems]
    return "\n".join(lines)


def meaning_coverage(st: LibraryStatus) -> str:
    if not st.chunks_without_vectors:
        return f"every passage ({st.chunks_with_vectors:,})"
    eta = f", ETA {_duration(st.meaning_eta_s)}" if st.meaning_eta_s is not None else ""
    return (f"{percent(st.meaning_share)} of passages ({st.chunks_with_vectors:,} with a vector, "
            f"{st.chunks_without_vectors:,} to embed{eta})")


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


# The benchmark commands' code is seekwise.devtools: in the pip package, not in the frozen app.
_DEVTOOLS = {"bench": "seekwise.devtools.bench", "bench-vectors": "seekwise.devtools.vecbench"}


def _devtool(command: str) -> ModuleType:
    """The module behind a benchmark command, imported only once that command is parsed; where the
    build leaves the benchmarks out, a plain explanation (exit 1) instead of an import error."""
    import importlib
    module = _DEVTOOLS[command]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as missing:
        if missing.name not in ("seekwise.devtools", module):
            raise
        raise SeekwiseError(f"`seekwise {command}` is not part of this build: the benchmarks come with "
                            "the Python package (pip install . from the source)") from None


def _bench_vectors_arguments(parser: argparse.ArgumentParser) -> None:
    _devtool("bench-vectors").add_arguments(parser)


def cmd_bench(args: argparse.Namespace) -> int:
    return _devtool("bench").run_bench(args)


def cmd_bench_vectors(args: argparse.Namespace) -> int:
    return _devtool("bench-vectors").run(args)


def cmd_eval(args: argparse.Namespace) -> int:
    from seekwise.evaluation import run_eval

    return run_eval(args)


def cmd_gui(args: argparse.Namespace) -> int:
    """Qt is imported only here: the rest of the CLI runs where PySide6 cannot load."""
    from seekwise.gui.launch import main as gui_main
    argv = [f"--{name.replace('_', '-')}={getattr(args, name)}" for name in ("data_dir", "model") if hasattr(args, name)]
    return gui_main(argv + args.gui_args)


COMMANDS = {"gui": cmd_gui, "index": cmd_index, "watch": cmd_watch, "search": cmd_search, "status": cmd_status, "bench": cmd_bench,
            "eval": cmd_eval, "bench-vectors": cmd_bench_vectors, "repair": cmd_repair}

if __name__ == "__main__":
    raise SystemExit(main())
