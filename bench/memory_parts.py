"""What each part of indexing costs in memory, measured alone in this process. A benchmark.

    python bench/memory_parts.py DOCS.pickle [--vectors 20000]

DOCS.pickle is what `bench/chunk_sweep.py count` keeps (every file's extracted text). Each step
prints the rise of the peak RSS (VmHWM, reset between steps through /proc/self/clear_refs) and of
anonymous memory that stays afterwards.
"""

from __future__ import annotations

import argparse
import gc
import pickle
import tempfile
from pathlib import Path

import numpy as np


def status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    raise KeyError(field)


def anon() -> int:
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Anonymous:"):
            return int(line.split()[1]) // 1024
    raise KeyError("Anonymous")


class Step:
    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> "Step":
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")   # VmHWM := current RSS
        self.rss0, self.anon0 = status("VmRSS"), anon()
        return self

    def __exit__(self, *exc: object) -> None:
        gc.collect()
        print(f"{self.name:58} peak +{status('VmHWM') - self.rss0:5d} MB, "
              f"anon kept +{anon() - self.anon0:5d} MB (RSS now {status('VmRSS')} MB)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("docs", type=Path)
    ap.add_argument("--vectors", type=int, default=20000)
    args = ap.parse_args()
    print(f"python start: RSS {status('VmRSS')} MB")
    with Step("import seekwise (library, indexer, ORT, hnswlib)"):
        import hnswlib  # noqa: F401
        import onnxruntime  # noqa: F401

        from seekwise.core.ann import AnnIndex, AnnSettings
        from seekwise.core.chunking import Chunker
        from seekwise.core.embedding import Encoder, TokenCounter, resolve_model
        from seekwise.core.paths import LibraryPaths
    manifest = resolve_model(None, LibraryPaths.resolve(None).models)
    with Step("load the biggest extracted text"):
        docs = pickle.loads(args.docs.read_bytes())
        docs.sort(key=lambda d: -len(d[1]))
        big = docs[0]
        sizes = [len(d[1]) for d in docs]
        del docs
    with Step("tokenizer"):
        counter = TokenCounter(manifest)
    chunker = Chunker(counter, counter.budget, tokenizer_tag=counter.tag)
    with Step(f"chunk {big[0]} ({sizes[0] / 1e6:.1f} M chars)"):
        chunks = chunker.chunk(big[1], big[2], big[3])
    print(f"   -> {len(chunks)} chunks; next biggest texts {[round(s / 1e6, 1) for s in sizes[1:5]]} M chars")
    with Step("load the model (ORT session)"):
        encoder = Encoder(manifest, verify=False)
    texts = [c.text for c in chunks]
    with Step("embed 256 chunks (one indexer batch)"):
        encoder.embed_documents(texts[:256])
    with Step("embed 1024 more chunks"):
        encoder.embed_documents(texts[256:1280])
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        ann = AnnIndex(Path(tmp), AnnSettings("x", 384), threads=2)
        with Step(f"HNSW: add {args.vectors} vectors in batches of 256"):
            for start in range(0, args.vectors, 256):
                vecs = rng.standard_normal((min(256, args.vectors - start), 384)).astype(np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                ann.add(np.arange(start, start + len(vecs)), vecs)
        print(f"   -> {len(ann)} elements, capacity {ann._index.get_max_elements()}")


if __name__ == "__main__":
    main()
