"""The two text fields that name a denomination (currency + denomination), as every form asks for them."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit


def denomination_edits(example_value: str = "20") -> tuple[QLineEdit, QLineEdit]:
    """(currency, denomination) line edits with the same hints and tooltips wherever a form asks for a
    denomination; ``example_value`` is the denomination shown as placeholder."""
    currency = QLineEdit()
    currency.setPlaceholderText("e.g. EUR")
    currency.setToolTip("Currency code: letters and digits, e.g. EUR, USD, KRT.")
    denomination = QLineEdit()
    denomination.setPlaceholderText(f"e.g. {example_value}")
    denomination.setToolTip(
        f"Denomination name; its first number is the note's value, e.g. {example_value} or {example_value}_2019."
    )
    return currency, denomination
