"""A smaller copy of the bench corpus for tuning: every judged file plus a fixed random sample of the
rest, hard-linked (no copy, and not symlinks, which the indexer does not follow out of a folder).

    python bench/realdocs/make_subset.py CORPUS OUT [--others 770] [--seed 13]

Scores on the subset are easier than on the whole corpus (fewer distractors); tune on it, report
on the whole corpus.
"""

from __future__ import annotations

import argparse
import os
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent


def judged() -> set[str]:
    paths = set()
    for split in ("dev", "test"):
        for line in (HERE / "qrels" / f"{split}.tsv").read_text(encoding="utf-8").splitlines()[1:]:
            if line.strip():
                paths.add(line.split("\t")[1])
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--others", type=int, default=770)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    every = sorted(str(p.relative_to(args.corpus)) for p in args.corpus.rglob("*") if p.is_file())
    keep = judged()
    missing = keep - set(every)
    if missing:
        raise SystemExit(f"{len(missing)} judged files are not in {args.corpus}, e.g. {sorted(missing)[0]}")
    rest = [p for p in every if p not in keep]
    keep |= set(random.Random(args.seed).sample(rest, min(args.others, len(rest))))
    for rel in sorted(keep):
        dst = args.out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():
            os.link(args.corpus / rel, dst)
    print(f"{len(keep)} files in {args.out}")


if __name__ == "__main__":
    main()
