"""A horizontal bar chart painted with QPainter (PySide6-Essentials has no QtCharts).

Used for a note's distances to every denomination's centroid and for its SVM probabilities.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from banknote_guard.gui.style import ACCENT_COLOUR


class BarChart(QWidget):
    """Labelled horizontal bars, one per item, with the value written beside each bar.

    Args:
        title: shown above the bars.
        value_format: format of the value text, e.g. ``"{:.2f}"`` or ``"{:.0%}"``.
        fixed_max: the value of a full-length bar (e.g. 1.0 for probabilities); None scales to the data.
        max_items: at most this many bars; the rest are summarised in one line.
    """

    ROW_HEIGHT_EM = 1.45

    def __init__(
        self,
        title: str = "",
        value_format: str = "{:.2f}",
        fixed_max: float | None = None,
        max_items: int = 10,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.value_format = value_format
        self.fixed_max = fixed_max
        self.max_items = max_items
        self.items: list[tuple[str, float]] = []
        self.highlight: str | None = None
        self.highlight_colour = ACCENT_COLOUR
        self.bar_colour = "#9aa5b1"
        self.empty_text = "No data"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_items(self, items: list[tuple[str, float]], highlight: str | None = None, sort: str = "asc") -> None:
        """Show ``items`` ((label, value) pairs); ``sort`` is "asc", "desc" or "none"."""
        clean = [(str(k), float(v)) for k, v in items if v is not None and math.isfinite(float(v))]
        if sort == "asc":
            clean.sort(key=lambda kv: kv[1])
        elif sort == "desc":
            clean.sort(key=lambda kv: -kv[1])
        self.items = clean
        self.highlight = highlight
        self.updateGeometry()
        self.update()

    def _rows(self) -> int:
        n = min(len(self.items), self.max_items)
        return max(1, n) + (1 if len(self.items) > self.max_items else 0)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        fm = QFontMetrics(self.font())
        h = int(fm.height() * (self.ROW_HEIGHT_EM * self._rows() + (1.6 if self.title else 0.3)))
        return QSize(320, h)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(200, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(self.font())
        text = self.palette().text().color()
        y = 0.0
        if self.title:
            f = p.font()
            f.setBold(True)
            p.setFont(f)
            p.setPen(text)
            p.drawText(QRectF(0, 0, self.width(), fm.height() * 1.4), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
            f.setBold(False)
            p.setFont(f)
            y = fm.height() * 1.6
        if not self.items:
            p.setPen(QColor("#6b7280"))
            p.drawText(QRectF(0, y, self.width(), fm.height() * 1.4), Qt.AlignmentFlag.AlignLeft, self.empty_text)
            p.end()
            return
        shown = self.items[: self.max_items]
        label_w = min(self.width() * 0.4, max(fm.horizontalAdvance(k) for k, _ in shown) + 10)
        value_w = max(fm.horizontalAdvance(self.value_format.format(v)) for _, v in shown) + 10
        bar_x = label_w
        bar_w_max = max(10.0, self.width() - label_w - value_w - 4)
        vmax = self.fixed_max or max((abs(v) for _, v in shown), default=1.0) or 1.0
        row_h = fm.height() * self.ROW_HEIGHT_EM
        for label, value in shown:
            is_hl = label == self.highlight
            p.setPen(text)
            f = p.font()
            f.setBold(is_hl)
            p.setFont(f)
            elided = fm.elidedText(label, Qt.TextElideMode.ElideMiddle, int(label_w - 8))
            p.drawText(QRectF(0, y, label_w - 8, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, elided)
            w = max(1.0, min(1.0, abs(value) / vmax) * bar_w_max)
            bar = QRectF(bar_x, y + row_h * 0.18, w, row_h * 0.64)
            p.setPen(QPen(QColor("#4a4f55"), 1) if is_hl else Qt.PenStyle.NoPen)
            p.setBrush(QColor(self.highlight_colour if is_hl else self.bar_colour))
            p.drawRect(bar)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(text)
            p.drawText(QRectF(bar_x + w + 5, y, value_w, row_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       self.value_format.format(value))
            y += row_h
        f = p.font()
        f.setBold(False)
        p.setFont(f)
        if len(self.items) > self.max_items:
            p.setPen(QColor("#6b7280"))
            p.drawText(QRectF(bar_x, y, self.width() - bar_x, row_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       f"+ {len(self.items) - self.max_items} more")
        p.end()
