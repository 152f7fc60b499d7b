"""The layout the Verify, History and Capture pages share: a list on the left, a note's card on the right."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QSplitter, QWidget


def beside_card(
    left: QWidget,
    card: QWidget,
    *,
    card_min_width: int,
    stretch: tuple[int, int] = (1, 1),
    sizes: tuple[int, int] = (620, 430),
) -> QSplitter:
    """A splitter with ``left`` beside ``card``; the card scrolls vertically and never sideways."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(card)
    scroll.setMinimumWidth(card_min_width)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    split = QSplitter()
    split.addWidget(left)
    split.addWidget(scroll)
    split.setStretchFactor(0, stretch[0])
    split.setStretchFactor(1, stretch[1])
    split.setSizes(list(sizes))
    return split
