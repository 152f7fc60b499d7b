"""A live line chart of training loss (left axis) and a validation metric (right axis), painted with QPainter."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from banknote_guard.gui.style import LOSS_COLOUR, METRIC_COLOUR


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi]."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0, 1.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = [round(start, 10)]
    while ticks[-1] < hi - step * 1e-6:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


class LiveLineChart(QWidget):
    """Two series against a shared x axis (epochs); each with its own y axis.

    Args:
        left_name: name of the left series (drawn solid), e.g. "train loss".
        right_name: name of the right series (drawn dashed with dots), e.g. "validation AUC".
    """

    def __init__(self, left_name: str = "train loss", right_name: str = "validation AUC", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left_name = left_name
        self.right_name = right_name
        self.x_label = "epoch"
        self.left: list[tuple[float, float]] = []
        self.right: list[tuple[float, float]] = []
        self.right_range: tuple[float, float] | None = (0.0, 1.0)
        self.placeholder = "The chart fills in while the model trains."
        self.setMinimumSize(240, 180)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(560, 280)

    def clear(self) -> None:
        self.left.clear()
        self.right.clear()
        self.update()

    def add_left(self, x: float, y: float) -> None:
        """Append a point to the left series (replacing one at the same x)."""
        self._add(self.left, x, y)

    def add_right(self, x: float, y: float) -> None:
        """Append a point to the right series (replacing one at the same x)."""
        self._add(self.right, x, y)

    def set_series(self, left: list[tuple[float, float]], right: list[tuple[float, float]]) -> None:
        self.left = [(float(x), float(y)) for x, y in left if _finite(y)]
        self.right = [(float(x), float(y)) for x, y in right if _finite(y)]
        self.update()

    def _add(self, series: list[tuple[float, float]], x: float, y: float) -> None:
        if not _finite(y):
            return
        series[:] = [p for p in series if p[0] != x]
        series.append((float(x), float(y)))
        series.sort()
        self.update()

    # --- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), self.palette().base())
        fm = QFontMetrics(self.font())
        text_colour = self.palette().text().color()
        if not self.left and not self.right:
            p.setPen(QColor("#6b7280"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            p.end()
            return

        margin_l = fm.horizontalAdvance("00.000") + 14
        margin_r = fm.horizontalAdvance("0.000") + 14
        top = fm.height() * 2 + 8
        bottom = fm.height() * 2 + 8
        plot = QRectF(margin_l, top, self.width() - margin_l - margin_r, self.height() - top - bottom)
        if plot.width() < 20 or plot.height() < 20:
            p.end()
            return

        xs = [x for x, _ in self.left + self.right]
        x_lo, x_hi = min(xs), max(xs)
        if x_hi - x_lo < 1:
            x_lo, x_hi = min(x_lo, 0.0), max(x_hi, x_lo + 1.0)
        ly = [y for _, y in self.left] or [0.0, 1.0]
        l_lo, l_hi = min(0.0, min(ly)), max(ly)
        l_hi = l_hi * 1.1 if l_hi > 0 else 1.0
        l_ticks = nice_ticks(l_lo, l_hi)
        l_lo, l_hi = l_ticks[0], l_ticks[-1]
        if self.right_range is not None:
            r_lo, r_hi = self.right_range
            ry = [y for _, y in self.right]
            if ry and (min(ry) < r_lo or max(ry) > r_hi):
                r_lo, r_hi = min(r_lo, min(ry)), max(r_hi, max(ry))
        else:
            ry = [y for _, y in self.right] or [0.0, 1.0]
            r_lo, r_hi = min(ry), max(ry)
        r_ticks = nice_ticks(r_lo, r_hi)
        r_lo, r_hi = r_ticks[0], r_ticks[-1]

        def px(x: float) -> float:
            return plot.left() + (x - x_lo) / (x_hi - x_lo) * plot.width()

        def py(y: float, lo: float, hi: float) -> float:
            return plot.bottom() - (y - lo) / (hi - lo or 1.0) * plot.height()

        # grid and axes
        grid = QPen(QColor("#e3e6ea"))
        p.setPen(grid)
        for t in l_ticks:
            y = py(t, l_lo, l_hi)
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(QPen(QColor("#9aa5b1")))
        p.drawRect(plot)

        p.setPen(QColor(LOSS_COLOUR))
        for t in l_ticks:
            y = py(t, l_lo, l_hi)
            p.drawText(QRectF(0, y - fm.height() / 2, margin_l - 6, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{t:.3g}")
        p.setPen(QColor(METRIC_COLOUR))
        for t in r_ticks:
            y = py(t, r_lo, r_hi)
            p.drawText(QRectF(plot.right() + 6, y - fm.height() / 2, margin_r - 6, fm.height()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{t:.3g}")

        p.setPen(text_colour)
        for t in nice_ticks(x_lo, x_hi, 6):
            if t < x_lo - 1e-9 or t > x_hi + 1e-9 or abs(t - round(t)) > 1e-9:
                continue
            x = px(t)
            p.drawText(QRectF(x - 30, plot.bottom() + 3, 60, fm.height()), Qt.AlignmentFlag.AlignHCenter, f"{t:g}")
        p.drawText(QRectF(plot.left(), plot.bottom() + fm.height() + 4, plot.width(), fm.height()),
                   Qt.AlignmentFlag.AlignHCenter, self.x_label)

        # legend: above the plot, moved left (into the axis margin) when the chart is too narrow for it
        entries = ((self.left_name, LOSS_COLOUR, False), (self.right_name, METRIC_COLOUR, True))
        legend_width = sum(30 + fm.horizontalAdvance(name) + 24 for name, _, _ in entries) - 24
        lx = max(4.0, min(plot.left(), self.width() - legend_width - 4))
        for name, col, dashed in entries:
            pen = QPen(QColor(col), 2.5, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            p.setPen(pen)
            yline = fm.height() * 0.8
            p.drawLine(QPointF(lx, yline), QPointF(lx + 24, yline))
            p.setPen(text_colour)
            p.drawText(QPointF(lx + 30, yline + fm.ascent() / 2 - 1), name)
            lx += 30 + fm.horizontalAdvance(name) + 24

        # series
        for series, col, lo, hi, dashed in (
            (self.left, LOSS_COLOUR, l_lo, l_hi, False),
            (self.right, METRIC_COLOUR, r_lo, r_hi, True),
        ):
            if not series:
                continue
            pen = QPen(QColor(col), 2.2, Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            p.setPen(pen)
            path = QPainterPath(QPointF(px(series[0][0]), py(series[0][1], lo, hi)))
            for x, y in series[1:]:
                path.lineTo(QPointF(px(x), py(y, lo, hi)))
            p.drawPath(path)
            p.setBrush(QColor(col))
            p.setPen(Qt.PenStyle.NoPen)
            if len(series) <= 60:
                for x, y in series:
                    p.drawEllipse(QPointF(px(x), py(y, lo, hi)), 3.2, 3.2)
            p.setBrush(Qt.BrushStyle.NoBrush)
        p.end()


def _finite(y: object) -> bool:
    try:
        return math.isfinite(float(y))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
