"""The OCR pass through the product: scans of real pages indexed, timed, and searched. A benchmark.

    python bench/ocr_pass.py PDF [PDF ...] [--files 10] [--pages 3] [--dpi 200]

Prose pages of the given PDFs (their text layer is the truth) are drawn at --dpi by PDFium and put,
--pages at a time, into image-only PDFs (what a scanner makes), which `Library.index` takes into a
fresh library; prints how long each phase took, the pictures pass's pages per second (the extraction
pool: a worker per core), and the character error rate of the text the library now holds against
the text layer (needs `pip install rapidfuzz`; skipped without it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pypdfium2 as pdfium

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import makedocs  # noqa: E402 - the tests' image-only PDF writer

from seekwise.core.library import Library  # noqa: E402


def prose_pages(paths: list[str], wanted: int) -> list[tuple[pdfium.PdfPage, str]]:
    out = []
    for path in paths:
        pdf = pdfium.PdfDocument(path)
        for i in range(2, len(pdf)):
            text = " ".join(pdf[i].get_textpage().get_text_range().split())
            if len(text) > 1500 and sum(c.isalpha() for c in text) / len(text) > 0.75:
                out.append((pdf[i], text))
                if len(out) == wanted:
                    return out
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("pdfs", nargs="+")
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--dpi", type=int, default=200)
    args = ap.parse_args()
    pages = prose_pages(args.pdfs, args.files * args.pages)
    work = Path(tempfile.mkdtemp(prefix="ocr-pass-"))
    (work / "docs").mkdir()
    truths = {}
    for f in range(0, len(pages), args.pages):
        group = pages[f:f + args.pages]
        pictures = []
        for page, _ in group:
            pixels = page.render(scale=args.dpi / 72, grayscale=True).to_numpy()
            pictures.append((pixels.shape[1], pixels.shape[0], pixels.tobytes()))
        path = work / "docs" / f"scan-{f // args.pages:03d}.pdf"
        path.write_bytes(makedocs.pictures_pdf(pictures))
        truths[str(path)] = " ".join(text for _, text in group)
    marks: dict[str, float] = {}
    t0 = time.monotonic()

    def progress(p) -> None:  # noqa: ANN001
        marks.setdefault(p.phase, time.monotonic() - t0)

    with Library(work / "lib") as lib:
        report = lib.index([work / "docs"], progress=progress)
        total = time.monotonic() - t0
        ocr_s = marks.get("saving", marks.get("done", total)) - marks["pictures"]
        print(f"{len(pages)} scanned pages in {len(truths)} PDFs ({args.dpi} dpi), {os.cpu_count()} cores")
        print("phases (s from start): " + ", ".join(f"{k} {v:.1f}" for k, v in marks.items()) + f", end {total:.1f}")
        print(f"pictures pass incl. the meaning of its passages: {ocr_s:.1f} s, {len(pages) / ocr_s:.2f} pages/s; "
              f"files read by OCR {report.files_read_by_ocr}")
        try:
            from rapidfuzz.distance import Levenshtein
        except ImportError:
            return
        errors = chars = 0
        for path, truth in truths.items():
            rec = lib.store.get_file(path)
            got = " ".join(" ".join(c.text for c in lib.store.get_chunks(rec.chunk_ids)).split())
            errors += Levenshtein.distance(got, truth)
            chars += len(truth)
        print(f"character error rate of the stored text: {errors / chars:.4f} ({chars:,} characters)")


if __name__ == "__main__":
    main()
