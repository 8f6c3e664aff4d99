#!/usr/bin/env bash
# Smoke-test an installed (or just built) Seekwise on any platform, bash included in Git for Windows:
#   packaging/smoke_test.sh PATH/TO/seekwise PATH/TO/seekwise-gui [SCREENSHOT.png]
# version, index + search tests/data/corpus into a fresh library, then the window rendered offscreen.
set -euo pipefail
absolute() { (cd "$(dirname "$1")" && printf '%s/%s' "$(pwd)" "$(basename "$1")"); }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$(dirname "${3:-$ROOT/dist/x}")"
CLI=$(absolute "$1") GUI=$(absolute "$2") SHOT=$(absolute "${3:-$ROOT/dist/smoke-window.png}")
cd "$ROOT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LIB="$WORK/library"
export QT_QPA_PLATFORM=offscreen

"$CLI" --version | grep -q "^seekwise [0-9]"
"$CLI" index --data-dir "$LIB" --quiet tests/data/corpus
"$CLI" search --data-dir "$LIB" --json -k 3 "how do I get my deposit back" > "$WORK/hits.jsonl"
head -n 1 "$WORK/hits.jsonl" | grep -q "tenancy-agreement.txt" || { cat "$WORK/hits.jsonl"; exit 1; }

"$GUI" --data-dir "$LIB" --query "how do I get my deposit back" --screenshot "$SHOT"
[ "$(head -c 4 "$SHOT" | od -An -c | tr -d ' ')" = "211PNG" ]   # PNG signature
echo "smoke test passed: $("$CLI" --version), window in $SHOT"
