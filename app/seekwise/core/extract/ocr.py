"""Text in pictures (scanned PDF pages, photos of letters and receipts) through the OS's Tesseract.

Tesseract was chosen on figures (`bench/ocr_engines.py`, 8 prose pages of the bench corpus's PDFs
with their text layer as the truth): character error rate 0.3 % at 150 and 300 dpi and 0.6 % on a
photo-like copy, 0.3-0.6 pages/s on one core, 12 MB installed (Debian's tesseract-ocr and its
English data). RapidOCR (onnxruntime) read the same pages with 5-8 % errors at 0.2 pages/s on two
cores and needs OpenCV, about 200 MB. Tesseract is a program of the OS, not a Python package: without
it, pictures are listed with the reason and read once it is installed.

A page is handed to `tesseract` as a greyscale PNM on its standard input: no file is written. It runs
in the extraction worker (time and memory limits apply to it as a child) with one thread: its OpenMP
build, left to itself on two cores, took 8x as long per page.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable

VERSION = "tesseract/1"          # stamped after the family's own id ("pdf/2+tesseract/1"): part of the cache key
PAGE_DPI = 300                   # what Tesseract is trained for; a smaller render loses small print
MAX_PAGE_PIXELS = 40_000_000     # a page drawn larger (a poster, a hostile MediaBox) is rendered smaller
MAX_IMAGE_PIXELS = 80_000_000    # an image file larger than this (a pixel bomb) is refused, not decoded
PAGE_SECONDS = 120.0             # one page or picture, at most
LANGUAGES_ENV = "SEEKWISE_OCR_LANGUAGES"  # "eng+deu": which of the installed languages to read
SWITCH = "image"                 # the file type whose box in Settings turns OCR off (for PDF pages too)

WAITING = "text in its pictures waits for OCR"
NOT_INSTALLED = "text in pictures is not read: OCR needs Tesseract (Debian/Ubuntu: apt install tesseract-ocr)"
SWITCHED_OFF = "text in pictures is not read: OCR (the 'image' file type) is off in Settings"
NOTHING_FOUND = "no text found in its pictures"


class OcrError(Exception):
    """A page Tesseract could not read; the message is for the user."""


@functools.lru_cache(maxsize=1)
def languages() -> str | None:
    """The `-l` argument: the installed languages SEEKWISE_OCR_LANGUAGES names, else English, else the
    first installed one; None when Tesseract or its language data is missing."""
    exe = shutil.which("tesseract")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, timeout=30, check=False,
                             env=_env()).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError):
        return None
    installed = [line.strip() for line in out.splitlines()[1:] if line.strip() and line.strip() != "osd"]
    wanted = [lang for lang in os.environ.get(LANGUAGES_ENV, "").split("+") if lang in installed]
    if wanted:
        return "+".join(wanted)
    if "eng" in installed:
        return "eng"
    return installed[0] if installed else None


def available() -> bool:
    return languages() is not None


def unavailable(skip_families: Iterable[str] = ()) -> str | None:
    """Why text in pictures cannot be read now (switched off in Settings, no Tesseract), or None."""
    if SWITCH in skip_families:
        return SWITCHED_OFF
    return None if available() else NOT_INSTALLED


def read_picture(data: bytes) -> str:
    """The text Tesseract reads in one picture (PNG, JPEG, TIFF, WebP, BMP, PNM bytes). A multi-page
    TIFF's pages come back separated by form feeds."""
    langs = languages()
    if langs is None:
        raise OcrError(NOT_INSTALLED)
    try:
        res = subprocess.run(["tesseract", "stdin", "stdout", "-l", langs], input=data, capture_output=True,
                             timeout=PAGE_SECONDS, check=False, env=_env())
    except subprocess.TimeoutExpired as exc:
        raise OcrError(f"OCR of a picture took longer than {PAGE_SECONDS:.0f} s") from exc
    except OSError as exc:
        raise OcrError(f"could not run Tesseract ({exc.strerror or exc})") from exc
    if res.returncode != 0:
        raise OcrError("Tesseract could not read the picture (damaged, or too large for the memory allowed)")
    return tidy(res.stdout.decode("utf-8", "replace"))


def pnm(pixels) -> bytes:  # noqa: ANN001 - a 2-D uint8 numpy array (greyscale)
    """A greyscale picture as binary PGM, which Tesseract reads from standard input."""
    height, width = pixels.shape[:2]
    return b"P5\n%d %d\n255\n" % (width, height) + pixels.reshape(height, width).tobytes()


def render_scale(width_pt: float, height_pt: float) -> float:
    """PDFium's scale for a page of this size (points): PAGE_DPI, less for a huge page."""
    scale = PAGE_DPI / 72
    pixels = width_pt * height_pt * scale * scale
    if pixels > MAX_PAGE_PIXELS:
        scale *= (MAX_PAGE_PIXELS / pixels) ** 0.5
    return scale


def tidy(text: str) -> str:
    """Tesseract's lines as ours: no trailing spaces, one blank line between paragraphs."""
    pages = []
    for page in text.split("\f"):
        lines = [line.rstrip() for line in page.replace("\r", "").split("\n")]
        out: list[str] = []
        for line in lines:
            if line or (out and out[-1]):
                out.append(line)
        pages.append("\n".join(out).strip())
    return "\f".join(pages).strip("\f")


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}
