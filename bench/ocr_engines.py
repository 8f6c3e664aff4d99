"""OCR engines side by side: character error rate and pages/s on pages whose text we know. A benchmark.

    python bench/ocr_engines.py PDF [PDF ...] [--pages 8] [--engines tesseract,rapidocr]

Each page is one with a text layer (the truth): it is rendered at 150 and 300 dpi with pypdfium2,
and once more as a photo-like copy (300 dpi, a 1.2 degree tilt, a blur, sensor noise, JPEG at 60),
then read by each engine; the CER is the edit distance between the engine's text and the text
layer (both with runs of whitespace collapsed) over the text layer's length. `tesseract` is the
OS's CLI (Debian: tesseract-ocr); `rapidocr` needs `pip install rapidocr_onnxruntime` (and its
OpenCV), which is why this runs outside the product's own dependencies.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import time

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageFilter
from rapidfuzz.distance import Levenshtein


def prose_pages(paths: list[str], per_file: int) -> list[tuple[str, int, pdfium.PdfPage, str]]:
    """Pages of mostly words (not tables of code or formulas), a few per file, spread over it."""
    out = []
    for path in paths:
        pdf = pdfium.PdfDocument(path)
        picked = 0
        step = max(1, len(pdf) // (per_file * 3))
        for i in range(2, len(pdf), step):
            page = pdf[i]
            text = " ".join(page.get_textpage().get_text_range().split())
            letters = sum(c.isalpha() for c in text)
            if len(text) > 1200 and letters / len(text) > 0.75:
                out.append((path, i, page, text))
                picked += 1
                if picked == per_file:
                    break
    return out


def photo_like(img: Image.Image, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    tilted = img.convert("L").rotate(1.2, resample=Image.BICUBIC, expand=True, fillcolor=255)
    blurred = tilted.filter(ImageFilter.GaussianBlur(0.8))
    arr = np.asarray(blurred, dtype=np.float32) * 0.85 + 20 + rng.normal(0, 12, blurred.size[::-1])
    noisy = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    noisy.save(buf, "JPEG", quality=60)
    return Image.open(io.BytesIO(buf.getvalue())).convert("L")


def tesseract(img: Image.Image) -> str:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    res = subprocess.run(["tesseract", "stdin", "stdout", "-l", "eng"], input=buf.getvalue(),
                         capture_output=True, check=True,
                         env={**os.environ, "OMP_THREAD_LIMIT": "1"})  # unset: 8x slower on 2 cores
    return res.stdout.decode("utf-8", "replace")


_RAPID = None


def rapidocr(img: Image.Image) -> str:
    global _RAPID
    if _RAPID is None:
        from rapidocr_onnxruntime import RapidOCR
        _RAPID = RapidOCR()
    result, _ = _RAPID(np.asarray(img.convert("RGB")))
    return "\n".join(r[1] for r in result or [])


ENGINES = {"tesseract": tesseract, "rapidocr": rapidocr}


def cer(got: str, truth: str) -> float:
    got, truth = " ".join(got.split()), " ".join(truth.split())
    return Levenshtein.distance(got, truth) / max(1, len(truth))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("pdfs", nargs="+")
    ap.add_argument("--pages", type=int, default=3, help="pages per file")
    ap.add_argument("--engines", default="tesseract,rapidocr")
    args = ap.parse_args()
    pages = prose_pages(args.pdfs, args.pages)
    print(f"{len(pages)} pages, {sum(len(t) for *_, t in pages):,} characters of truth")
    renders = {}
    for n, (_, _, page, _) in enumerate(pages):
        renders[("150 dpi", n)] = page.render(scale=150 / 72, grayscale=True).to_pil()
        renders[("300 dpi", n)] = page.render(scale=300 / 72, grayscale=True).to_pil()
        renders[("photo-like", n)] = photo_like(renders[("300 dpi", n)], n)
    for name in args.engines.split(","):
        engine = ENGINES[name]
        engine(renders[("150 dpi", 0)])  # load its models outside the clock
        for kind in ("150 dpi", "300 dpi", "photo-like"):
            errors, seconds = [], []
            for n, (*_, truth) in enumerate(pages):
                t0 = time.perf_counter()
                text = engine(renders[(kind, n)])
                seconds.append(time.perf_counter() - t0)
                errors.append(cer(text, truth))
            print(f"{name:10s} {kind:10s} CER median {statistics.median(errors):.3f} "
                  f"mean {statistics.fmean(errors):.3f}  {len(seconds) / sum(seconds):.2f} pages/s "
                  f"(median {statistics.median(seconds):.2f} s a page)")


if __name__ == "__main__":
    main()
