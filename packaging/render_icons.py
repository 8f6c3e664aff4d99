"""Render resources/icons/seekwise.svg to the PNG sizes of the hicolor theme (and 1024 for macOS).

Uses Qt's own SVG renderer (PySide6 is in the build venv anyway), so no rsvg/ImageMagick is needed.
Usage: python packaging/render_icons.py OUT_DIR  ->  OUT_DIR/hicolor/<n>x<n>/apps/seekwise.png,
OUT_DIR/seekwise.ico (Windows exe and installer) and OUT_DIR/seekwise.icns (macOS), written by Qt's
own image plugins, so PyInstaller needs no Pillow to convert them.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display on a build machine

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SVG = Path(__file__).resolve().parents[1] / "resources" / "icons" / "seekwise.svg"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512, 1024)


def main(out: Path) -> int:
    app = QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage painting needs an application)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"render_icons: cannot read {SVG}", file=sys.stderr)
        return 1
    images = {}
    for n in SIZES:
        image = QImage(n, n, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        images[n] = image
        dest = out / "hicolor" / f"{n}x{n}" / "apps" / "seekwise.png"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(dest), "PNG"):
            print(f"render_icons: cannot write {dest}", file=sys.stderr)
            return 1
    for name, n, fmt in (("seekwise.ico", 256, "ICO"), ("seekwise.icns", 1024, "ICNS")):
        if not images[n].save(str(out / name), fmt):  # a Qt without that image plugin: the default icon
            print(f"render_icons: warning: cannot write {out / name}; the executable keeps the default icon",
                  file=sys.stderr)
    scalable = out / "hicolor" / "scalable" / "apps" / "seekwise.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(SVG.read_bytes())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
