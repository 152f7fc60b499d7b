"""The live picture of the Capture page: the camera frame (or scanned page) fitted to the widget, the
outlines of the notes found drawn on it, and the operator's hint in a band along the bottom."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from banknote_guard.gui.style import GENUINE_COLOUR, RETAKE_COLOUR, UNKNOWN_COLOUR
from banknote_guard.gui.widgets.images import rgb_to_qimage

#: Outline colour per auto-capture state: green when the note is taken or about to be, amber while
#: it must still be moved or held still.
OUTLINE_COLOURS = {
    "captured": GENUINE_COLOUR, "focusing": RETAKE_COLOUR, "waiting": GENUINE_COLOUR, "manual": RETAKE_COLOUR,
    "moving": UNKNOWN_COLOUR, "outside": UNKNOWN_COLOUR, "small": UNKNOWN_COLOUR, "page": RETAKE_COLOUR,
}


class LiveView(QWidget):
    """Shows one picture at a time with note outlines and a hint; cheap to update many times a second."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(QSize(320, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.image: QImage | None = None
        self.outlines: list[np.ndarray] = []
        self.state = ""
        self.hint = "No picture yet."
        self.status = ""
        self.flash = False

    def show_frame(self, rgb: np.ndarray | QImage | None, outlines: Sequence[np.ndarray] = (), *, state: str = "",
                   hint: str = "", status: str = "", flash: bool = False) -> None:
        """Show a picture (RGB array or QImage) with the note outlines (corners in its pixels)."""
        if rgb is not None:
            self.image = rgb if isinstance(rgb, QImage) else rgb_to_qimage(rgb)
        self.outlines = [np.asarray(o, np.float32) for o in outlines]
        self.state, self.hint, self.status, self.flash = state, hint, status, flash
        self.update()

    def clear(self, hint: str = "No picture yet.") -> None:
        self.image = None
        self.outlines = []
        self.state, self.hint, self.status, self.flash = "", hint, "", False
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(640, 480)

    def image_rect(self) -> QRectF:
        """Where the picture is drawn: as large as fits, centred, aspect kept."""
        if self.image is None or self.image.isNull():
            return QRectF(self.rect())
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = iw * scale, ih * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#1f2933"))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        target = self.image_rect()
        if self.image is not None and not self.image.isNull():
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(target, self.image)
            sx = target.width() / self.image.width()
            pen = QPen(QColor(OUTLINE_COLOURS.get(self.state, GENUINE_COLOUR)), 3)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for quad in self.outlines:
                poly = QPolygonF([QPointF(target.left() + (x + 0.5) * sx, target.top() + (y + 0.5) * sx)
                                  for x, y in quad])
                p.drawPolygon(poly)
            if self.flash:
                p.setPen(QPen(QColor(GENUINE_COLOUR), 8))
                p.drawRect(target.adjusted(4, 4, -4, -4))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() + 2)
        font.setBold(True)
        p.setFont(font)
        if self.hint:
            band = QRectF(0, self.height() - 38, self.width(), 38)
            p.fillRect(band, QColor(0, 0, 0, 150))
            p.setPen(QColor("#ffffff"))
            p.drawText(band, Qt.AlignmentFlag.AlignCenter, self.hint)
        if self.status:
            p.setFont(self.font())
            p.setPen(QColor("#ffffff"))
            p.drawText(QRectF(8, 6, self.width() - 16, 22), Qt.AlignmentFlag.AlignRight, self.status)
        p.end()
