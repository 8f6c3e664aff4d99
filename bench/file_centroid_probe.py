"""Is a file's mean passage vector good file-level evidence for meaning search? A benchmark.

    python bench/file_centroid_probe.py LIBRARY CORPUS [--split dev]

Over a library already indexed from CORPUS (the bench corpus or bench/realdocs/make_subset.py's
subset), for each judged realdocs query of the split: exact cosine to every passage, the 300 best
grouped by file as search does (search.file_score), then each file's score plus gamma x the cosine
of the query to the file's centroid (the normalised mean of its passage vectors). Prints top-5 file
hits, MRR@5 and nDCG@10 per query kind and gamma; "only" ranks files by the centroid alone. Meaning
leg only: it says whether the evidence is worth building into the ranking, not what hybrid gets.
"""

from __future__ import annotations

import argparse
import collections
import os
from pathlib import Path

import numpy as np

from seekwise.core.library import Library
from seekwise.core.search import file_score
from seekwise.evaluation import hit_at, load_folder_set, mrr_at, ndcg_at

HERE = Path(__file__).resolve().parent
GAMMAS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)
PASSAGES = 300


def centroids(lib: Library) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """(passage matrix, each passage's file index, file paths, file centroids)."""
    matrix, ids = lib._exact_matrix()
    paths = [rec.path for rec in lib.store.get_chunks(ids.tolist())]
    files = sorted(set(paths))
    index = {p: i for i, p in enumerate(files)}
    owner = np.fromiter((index[p] for p in paths), dtype=np.int64, count=len(paths))
    cent = np.zeros((len(files), matrix.shape[1]), np.float32)
    np.add.at(cent, owner, matrix)
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-9)
    return matrix, owner, files, cent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("library")
    ap.add_argument("corpus")
    ap.add_argument("--split", default="dev")
    args = ap.parse_args()
    data = load_folder_set(HERE / "realdocs", args.corpus, args.split)
    root = os.path.abspath(args.corpus)
    scores: dict[tuple[str, object], list[tuple[float, float, float]]] = collections.defaultdict(list)
    with Library(args.library, readonly=True) as lib:
        encoder = lib.encoder.get()
        matrix, owner, files, cent = centroids(lib)

        def judged(kind: str, label: object, ranked: list[int], rels: dict[str, int]) -> None:
            names = [os.path.relpath(files[f], root) for f in ranked]
            scores[(kind, label)].append((hit_at(names, rels, 5), mrr_at(names, rels, 5), ndcg_at(names, rels, 10)))

        for qid, rels in data.qrels.items():
            kind = data.kinds[qid]
            q = encoder.embed_query(data.queries[qid])
            cos = matrix @ q
            by_file: dict[int, list[float]] = collections.defaultdict(list)
            for j in np.argsort(-cos)[:PASSAGES]:
                by_file[int(owner[j])].append(float(cos[j]))
            base = {f: file_score(s) for f, s in by_file.items()}
            to_file = cent @ q
            for gamma in GAMMAS:
                judged(kind, gamma, sorted(base, key=lambda f: -(base[f] + gamma * to_file[f])), rels)
            judged(kind, "only", np.argsort(-to_file)[:50].tolist(), rels)
    for (kind, label), rows in sorted(scores.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        hit, mrr, ndcg = np.mean(rows, axis=0)
        print(f"{kind:<10} gamma {label!s:<5} n={len(rows):<3} hit@5 {hit:.3f}  mrr@5 {mrr:.3f}  ndcg@10 {ndcg:.3f}")


if __name__ == "__main__":
    main()
