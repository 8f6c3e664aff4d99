#!/usr/bin/env bash
# Mutation testing of the core's decision code, where a wrong answer is silent (mutmut 3.8.1).
# Slow on 2 cores: run by hand, not in CI.
#
#   bench/mutation.sh                 # all modules below
#   MUT_MODULES="query binary" bench/mutation.sh
#   MUT_BASELINE=1 bench/mutation.sh  # without tests/unit/test_mutants_*.py (the score before them)
#
# Of store.py only Store.commit and the _drop_file it calls are mutated, of indexer.py only the diff
# (_diff, _outdated): the rest of those modules is reached by the integration tests, too slow here.
#
# Needs a venv with seekwise's deps and mutmut==3.8.1 (MUT_PYTHON, default .venv/bin/python).
# Works in a scratch copy (MUT_SCRATCH, default /tmp/seekwise-mutation), never in the checkout:
# mutmut only puts ./, src/ or source/ of its copy on sys.path, so the copy has app/ renamed src/,
# and its config goes in the copy's setup.cfg (pyproject.toml has no [tool.mutmut]).
# Prints per module: killed / survived / timeout / no tests, and the score (killed+timeout over all).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${MUT_PYTHON:-$ROOT/.venv/bin/python}"
SCRATCH="${MUT_SCRATCH:-/tmp/seekwise-mutation}"
MODULES="${MUT_MODULES:-query binary search chunking indexer store}"
MUTMUT="$(dirname "$PY")/mutmut"
[ -x "$MUTMUT" ] || { echo "no mutmut beside $PY: pip install mutmut==3.8.1" >&2; exit 2; }

# Fast tests only (no model loads in subprocesses); mutmut runs just those that reach a mutated function.
TESTS="tests/unit/test_query.py tests/unit/test_binary.py tests/unit/test_chunking.py
tests/unit/test_lexical.py tests/unit/test_store.py tests/unit/test_ann.py"
[ -n "${MUT_BASELINE:-}" ] || TESTS="$TESTS $(cd "$ROOT" && { ls tests/unit/test_mutants_*.py 2>/dev/null || true; } | tr '\n' ' ')"

rm -rf "$SCRATCH" && mkdir -p "$SCRATCH"
(cd "$ROOT" && git ls-files -co --exclude-standard -z -- app tests resources pyproject.toml | xargs -0 cp --parents -t "$SCRATCH")
mv "$SCRATCH/app" "$SCRATCH/src"
{
  echo "[mutmut]"
  echo "source_paths = src"
  echo "only_mutate ="
  for m in $MODULES; do echo "    src/seekwise/core/$m.py"; done
  echo "also_copy = resources"      # the tokenizer: found beside the package from a source tree
  echo "pytest_add_cli_args = -p no:cacheprovider"
  echo "pytest_add_cli_args_test_selection ="
  for t in $TESTS; do echo "    $t"; done
  echo "timeout_multiplier = 5.0"
  echo "timeout_constant = 5.0"
  echo "use_git_change_detection = false"
} > "$SCRATCH/setup.cfg"

cd "$SCRATCH"
NAMES=()
for m in $MODULES; do
  case $m in
    store)   NAMES+=("seekwise.core.store.xǁStoreǁcommit__mutmut_*" "seekwise.core.store.xǁStoreǁ_drop_file__mutmut_*") ;;
    indexer) NAMES+=("seekwise.core.indexer.xǁIndexerǁ_diff__mutmut_*" "seekwise.core.indexer.xǁIndexerǁ_outdated__mutmut_*") ;;
    *)       NAMES+=("seekwise.core.$m.*") ;;
  esac
done
start=$(date +%s)
# mutmut exits non-zero when anything survives; the summary below is the result.
nice -n 10 "$MUTMUT" run --max-children "${MUT_CHILDREN:-2}" "${NAMES[@]}" > mutmut-run.log 2>&1 || true
tail -c 2000 mutmut-run.log | tr '\r' '\n' | tail -5
echo "wall time: $(( $(date +%s) - start )) s"

"$PY" - "$MODULES" <<'PYEOF'
import fnmatch, json, sys
from collections import Counter
from pathlib import Path
from mutmut.stats import status_by_exit_code
rows = []
for mod in sys.argv[1].split():
    meta = Path(f"mutants/src/seekwise/core/{mod}.py.meta")
    if not meta.exists():
        print(f"{mod}: no results"); continue
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    only = {"store": ["*ǁStoreǁcommit__*", "*ǁStoreǁ_drop_file__*"],
            "indexer": ["*ǁIndexerǁ_diff__*", "*ǁIndexerǁ_outdated__*"]}.get(mod)
    if only:
        codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in only)}
    c = Counter(status_by_exit_code[v] for v in codes.values())
    total = sum(c.values()); dead = c["killed"] + c["timeout"]
    print(f"{mod:9} total {total:4}  killed {c['killed']:4}  survived {c['survived']:4}  "
          f"timeout {c['timeout']:3}  no-tests {c['no tests']:3}  other {total - dead - c['survived'] - c['no tests']:3}"
          f"  score {100 * dead / max(total, 1):5.1f}%")
    rows += [k for k, v in codes.items() if status_by_exit_code[v] in ("survived", "no tests")]
Path("survivors.txt").write_text("".join(k + "\n" for k in rows))
print(f"{len(rows)} survivors (survived or no tests) in {Path('survivors.txt').resolve()}; "
      f"see one with: cd {Path.cwd()} && mutmut show NAME")
PYEOF
