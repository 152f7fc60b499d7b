"""Render the application icon's PNG sizes (and a Windows .ico) from the SVG master.

    .venv/bin/python packaging/make_icons.py            # writes assets/icons/banknote_guard_<size>.png and .ico

Uses Qt's SVG renderer (PySide6, already a dependency), so no other tool is needed. The window, the
Linux .desktop entry and AppImage, the Windows installer and the macOS note all use these files.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from banknote_guard.resources import ICON_NAME, ICON_SIZES  # noqa: E402

#: Sizes packed into the Windows .ico (Windows picks the best for each place it shows the icon).
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render(svg: Path, size: int):  # noqa: ANN201 - QImage
    """The SVG drawn on a transparent square of ``size`` pixels."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"make_icons: {svg} is not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def write_ico(pngs: dict[int, bytes], out: Path) -> None:
    """A Windows .ico holding PNG images (the format Windows Vista and later read)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        entries += struct.pack("<BBBBHHII", s % 256, s % 256, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    out.write_bytes(header + entries + blobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "icons", help="icon folder (default assets/icons)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - Qt needs it for fonts and images
    svg = args.out / f"{ICON_NAME}.svg"
    ico: dict[int, bytes] = {}
    for size in ICON_SIZES:
        image = render(svg, size)
        path = args.out / f"{ICON_NAME}_{size}.png"
        if not image.save(str(path)):
            raise SystemExit(f"make_icons: could not write {path}")
        if size in ICO_SIZES:
            buf = QByteArray()
            dev = QBuffer(buf)
            dev.open(QIODevice.OpenModeFlag.WriteOnly)
            image.save(dev, "PNG")
            ico[size] = bytes(buf.data())
        print(f"wrote {path}")
    write_ico(ico, args.out / f"{ICON_NAME}.ico")
    print(f"wrote {args.out / (ICON_NAME + '.ico')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
