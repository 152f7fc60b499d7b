"""Pages that later versions will fill (capture, history, reports): they say so plainly."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.state import AppState


class ComingLaterPage(Page):
    """A page that names a feature of a later version and says what it will do."""

    def __init__(self, state: AppState, title: str, description: str, parent: QWidget | None = None) -> None:
        self.title = title
        self.hint = "Coming in a later version."
        super().__init__(state, parent)
        text = QLabel(description)
        text.setWordWrap(True)
        text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.body.addWidget(text)
        self.body.addStretch(1)


PLACEHOLDERS: list[tuple[str, str, str]] = []
