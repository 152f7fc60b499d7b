"""Colours, verdict wording and the application style sheet.

A verdict is never shown by colour alone: every verdict has a colour, a symbol and a word
(:func:`verdict_style`), so an operator with colour-blindness reads the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class VerdictStyle:
    """How one verdict looks: background and text colour, a symbol, a short word and a sentence."""

    key: str
    background: str
    foreground: str
    symbol: str
    word: str
    sentence: str

    @property
    def label(self) -> str:
        """Symbol and word, e.g. ``"✔ GENUINE"``."""
        return f"{self.symbol} {self.word}"


GENUINE_COLOUR = "#1e7e34"
SUSPECT_COLOUR = "#c62828"
UNKNOWN_COLOUR = "#f2a900"
ERROR_COLOUR = "#5f6368"
UNCERTAIN_COLOUR = "#8e24aa"
RETAKE_COLOUR = "#1565c0"
ACCENT_COLOUR = "#1a5fb4"
LOSS_COLOUR = "#1a5fb4"
METRIC_COLOUR = "#c05600"

VERDICTS: dict[str, VerdictStyle] = {
    "genuine": VerdictStyle(
        "genuine", GENUINE_COLOUR, "#ffffff", "\u2714", "GENUINE", "Matches the genuine notes of its denomination."
    ),
    "suspect": VerdictStyle(
        "suspect", SUSPECT_COLOUR, "#ffffff", "\u2716", "SUSPECT", "Possible counterfeit: set this note aside and check it."
    ),
    "unknown": VerdictStyle(
        "unknown", UNKNOWN_COLOUR, "#1f1f1f", "?", "UNKNOWN", "Not close to any known denomination (or not a note)."
    ),
    "uncertain": VerdictStyle(
        "uncertain", UNCERTAIN_COLOUR, "#ffffff", "?", "UNCERTAIN",
        "A note, but its denomination is not clear: check it by hand; its value is not counted.",
    ),
    "retake": VerdictStyle(
        "retake", RETAKE_COLOUR, "#ffffff", "\u21bb", "RETAKE", "The picture is not good enough to judge: take it again.",
    ),
    "error": VerdictStyle("error", ERROR_COLOUR, "#ffffff", "\u26a0", "ERROR", "The image could not be used."),
}


def verdict_style(verdict: str | None, status: str = "ok") -> VerdictStyle:
    """The style of a result's verdict; an error result (or a missing verdict) gets the error style."""
    if status != "ok" or verdict is None:
        return VERDICTS["error"]
    return VERDICTS.get(verdict, VERDICTS["unknown"])


def colour(name: str) -> QColor:
    """A :class:`QColor` from a ``#rrggbb`` string."""
    return QColor(name)


STYLE_SHEET = """
QListWidget#navigation {
    background: #243447;
    color: #e8edf2;
    border: none;
    font-size: 11pt;
    padding-top: 8px;
    outline: 0;
}
QListWidget#navigation::item { padding: 9px 14px; }
QListWidget#navigation::item:selected { background: #1a5fb4; color: white; }
QListWidget#navigation::item:disabled { color: #7d8b99; }
QLabel#pageTitle { font-size: 16pt; font-weight: 600; }
QLabel#pageHint { color: #4a4f55; }
QLabel#alertBanner {
    background: #c62828; color: white; font-weight: 600; font-size: 12pt;
    padding: 8px 12px; border-radius: 4px;
}
QLabel#infoBanner {
    background: #fff4ce; color: #3b2f00; padding: 8px 12px; border: 1px solid #e7c55c; border-radius: 4px;
}
QLabel#verdictBadge { font-size: 15pt; font-weight: 700; padding: 6px 12px; border-radius: 4px; }
QFrame#dropArea { border: 2px dashed #9aa5b1; border-radius: 6px; background: #f6f8fa; }
QGroupBox { font-weight: 600; }
QPushButton#primary { background: #1a5fb4; color: white; padding: 5px 16px; border-radius: 3px; }
QPushButton#primary:disabled { background: #9aa5b1; }
"""


def apply_style(app: QApplication) -> None:
    """Use the Fusion style with a light palette and the project's style sheet."""
    app.setStyle("Fusion")
    palette = app.style().standardPalette()
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT_COLOUR))
    app.setPalette(palette)
    font = app.font()
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
        app.setFont(font)
    app.setStyleSheet(STYLE_SHEET)


def bold(font: QFont, size_delta: float = 0.0) -> QFont:
    """A bold copy of ``font``, optionally bigger by ``size_delta`` points."""
    f = QFont(font)
    f.setBold(True)
    if size_delta:
        f.setPointSizeF(max(6.0, f.pointSizeF() + size_delta))
    return f
