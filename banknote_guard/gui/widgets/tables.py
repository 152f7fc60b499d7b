"""The list of rows the pages share (Verify, History, Capture, Datasets): whole rows selected one at a
time, nothing editable, no row numbers. Each page adds its own column widths and eliding."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtWidgets import QAbstractItemView, QTableWidget


def row_table(columns: Sequence[str]) -> QTableWidget:
    """A read-only table with these column titles whose rows are picked one whole row at a time."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    return table
