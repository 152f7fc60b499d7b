"""The card that shows one note's verdict: image, verdict in colour and words, score, distances, probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from banknote_guard.api import HEATMAP_VERDICTS, heat_alpha
from banknote_guard.gui.style import GENUINE_COLOUR, SUSPECT_COLOUR, verdict_style
from banknote_guard.gui.widgets.bar_chart import BarChart
from banknote_guard.gui.widgets.images import rgb_to_qimage

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import VerificationResult


class ScoreGauge(QWidget):
    """A bar from 0 to about twice the threshold: green below the threshold mark, red above, and a needle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.score: float | None = None
        self.threshold: float | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(QFontMetrics(self.font()).height() * 2 + 6)

    def set_values(self, score: float | None, threshold: float | None) -> None:
        self.score, self.threshold = score, threshold
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(300, self.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        if self.score is None or self.threshold is None or self.threshold <= 0:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = QFontMetrics(self.font())
        top = fm.height() + 2
        bar = QRectF(1, top, self.width() - 2, self.height() - top - 2)
        vmax = max(self.threshold * 2.0, self.score * 1.1)
        tx = bar.left() + self.threshold / vmax * bar.width()
        p.fillRect(QRectF(bar.left(), bar.top(), tx - bar.left(), bar.height()), QColor(GENUINE_COLOUR).lighter(170))
        p.fillRect(QRectF(tx, bar.top(), bar.right() - tx, bar.height()), QColor(SUSPECT_COLOUR).lighter(170))
        p.setPen(QColor("#4a4f55"))
        p.drawRect(bar)
        p.drawLine(int(tx), int(bar.top() - 3), int(tx), int(bar.bottom()))
        label = f"threshold {self.threshold:.2f}"
        lw = fm.horizontalAdvance(label) + 4
        lx = min(max(0.0, tx - lw / 2), self.width() - lw)  # keep the label inside the widget
        p.drawText(QRectF(lx, 0, lw, fm.height()), Qt.AlignmentFlag.AlignHCenter, label)
        sx = bar.left() + min(self.score, vmax) / vmax * bar.width()
        p.setBrush(QColor("#1f1f1f"))
        p.drawRect(QRectF(sx - 2, bar.top() - 1, 4, bar.height() + 2))
        p.end()




def paint_heatmap(pix: QPixmap, heatmap, regions) -> QPixmap:  # type: ignore[no-untyped-def]
    """``pix`` (the straightened note) with the local evidence drawn over it: each cell tinted red by its
    deviation, the top regions outlined and numbered (1 = most deviant)."""
    out = QPixmap(pix)
    rows, cols = heatmap.shape
    w, h = out.width(), out.height()
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    red = QColor(SUSPECT_COLOUR)
    for r in range(rows):
        for c in range(cols):
            alpha = heat_alpha(heatmap[r, c])
            if alpha > 0:
                red.setAlphaF(0.6 * alpha)
                p.fillRect(QRectF(c * w / cols, r * h / rows, w / cols, h / rows), red)
    pen_colour = QColor("#ffd400")
    font = p.font()
    font.setBold(True)
    p.setFont(font)
    fm = QFontMetrics(font)
    for i, reg in enumerate(regions, 1):
        x0, y0, x1, y1 = reg["box_fraction"]
        rect = QRectF(x0 * w + 1, y0 * h + 1, (x1 - x0) * w - 2, (y1 - y0) * h - 2)
        p.setPen(pen_colour)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        tag = QRectF(rect.left(), rect.top(), fm.horizontalAdvance(str(i)) + 6, fm.height())
        p.fillRect(tag, QColor("#1f1f1f"))
        p.drawText(tag, Qt.AlignmentFlag.AlignCenter, str(i))
    p.end()
    return out


class ResultCard(QFrame):
    """Everything about one verified note. Call :meth:`show_result`; :meth:`clear` empties it."""

    IMAGE_SIZE = QSize(340, 170)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.result: VerificationResult | None = None

        self.badge = QLabel()
        self.badge.setObjectName("verdictBadge")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sentence = QLabel()
        self.sentence.setWordWrap(True)
        self.image = QLabel()
        self.image.setFixedSize(self.IMAGE_SIZE)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: #eef1f4; border: 1px solid #d0d5db;")
        self.name = QLabel()
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.gauge = ScoreGauge()
        self.distances = BarChart("Distance to each denomination (smaller = closer)", "{:.3f}", max_items=8)
        self.probabilities = BarChart("SVM probability per denomination", "{:.0%}", fixed_max=1.0, max_items=5)

        head = QHBoxLayout()
        head.addWidget(self.badge)
        head.addWidget(self.sentence, 1)

        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.name)
        lay.addWidget(self.image, 0, Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.details)
        lay.addWidget(self.gauge)
        lay.addWidget(self.distances)
        lay.addWidget(self.probabilities)
        lay.addStretch(1)
        self.clear()

    def clear(self, message: str = "Select a row to see the note's details.") -> None:
        """Show an empty card with ``message``."""
        self.result = None
        self.badge.hide()
        self.sentence.setText(message)
        self.image.clear()
        self.image.hide()
        self.name.clear()
        self.details.clear()
        self.gauge.set_values(None, None)
        self.gauge.hide()
        self.distances.hide()
        self.probabilities.hide()

    def show_result(self, result: VerificationResult) -> None:
        """Fill the card from ``result`` (an error result shows its message)."""
        self.result = result
        style = verdict_style(result.verdict, result.status)
        self.badge.setText(style.label)
        self.badge.setStyleSheet(f"background: {style.background}; color: {style.foreground};")
        self.badge.show()
        self.image.show()
        self.name.setText(f"<b>{Path(result.path).name or result.path}</b>")
        self.name.setToolTip(result.path)
        if result.rectified is not None:
            try:
                pix = QPixmap.fromImage(rgb_to_qimage(result.rectified))
                pix = pix.scaled(self.IMAGE_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
                if result.heatmap is not None and result.verdict in HEATMAP_VERDICTS:
                    pix = paint_heatmap(pix, result.heatmap, result.regions)
                self.image.setPixmap(pix)
            except ValueError:
                self.image.setText("No image")
        else:
            self.image.clear()
            self.image.setText("No image")
        if not result.ok:
            self.sentence.setText(result.error or style.sentence)
            self.details.setText("")
            self.gauge.hide()
            self.distances.hide()
            self.probabilities.hide()
            return
        self.sentence.setText(" ".join([style.sentence, *result.reasons]))
        rows = [f"Denomination: <b>{result.denomination or 'none recognised'}</b>"]
        if result.counterfeit_score is not None and result.threshold is not None:
            above = result.counterfeit_score > result.threshold
            rows.append(
                f"Counterfeit score: <b>{result.counterfeit_score:.2f}</b> "
                f"({'above' if above else 'below'} the threshold {result.threshold:.2f})"
            )
        if result.regions and result.heatmap is not None and result.verdict in HEATMAP_VERDICTS:
            rows.append("Red on the note: where it differs from genuine notes of its denomination; the "
                        "numbered boxes are the regions named above.")
        if result.note_found is not None:
            rows.append("Note outline found and straightened." if result.note_found
                        else "Note outline not found: the whole image was used.")
        pm = result.print_match
        if pm and pm.get("denomination"):
            how = "names it on its own" if pm.get("decided") else "leans to it"
            runner = f", next {pm['runner_up']} with {pm['runner_up_inliers']}" if pm.get("runner_up") else ""
            rows.append(f"Print: {pm['inliers']} points match genuine {pm['denomination']} notes{runner} "
                        f"({how}).")
        elif pm is not None:
            rows.append("Print: matches no genuine picture the model holds.")
        if result.seconds is not None:
            rows.append(f"Checked in {result.seconds * 1000:.0f} ms.")
        self.details.setText("<br>".join(rows))
        self.gauge.set_values(result.counterfeit_score, result.threshold)
        self.gauge.setVisible(result.counterfeit_score is not None and result.threshold is not None)
        self.distances.set_items(list(result.distances.items()), highlight=result.denomination, sort="asc")
        self.distances.setVisible(bool(result.distances))
        self.probabilities.set_items(list(result.probabilities.items()), highlight=result.denomination, sort="desc")
        self.probabilities.setVisible(bool(result.probabilities))
