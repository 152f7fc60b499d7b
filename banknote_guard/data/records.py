"""Plain records describing a dataset in the layout DATASET/<CURRENCY>/<DENOMINATION>/{genuine,counterfeit}/.

These shapes are shared by the whole engine, the CLI and the GUI: fields may be added, never renamed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Label = Literal["genuine", "counterfeit"]
#: The labels, which are also the names of the label folders.
GENUINE: Label = "genuine"
COUNTERFEIT: Label = "counterfeit"
LABELS: tuple[Label, ...] = (GENUINE, COUNTERFEIT)

#: Optional file at the dataset root giving each image's side and counterfeit method (the synthetic
#: generator writes it); ``path`` is relative to the root, with forward slashes.
MANIFEST_NAME = "manifest.csv"
MANIFEST_COLUMNS: tuple[str, ...] = ("path", "currency", "denomination", "side", "label", "method", "seed")


def denomination_id(currency: str, denomination: str) -> str:
    """The id of a denomination, ``"<CURRENCY>/<DENOMINATION>"``, e.g. ``"EUR/20"``."""
    return f"{currency}/{denomination}"


def denomination_sort_key(denom_id: str) -> tuple[str, float, str]:
    """Sort "KRT/5" before "KRT/10": by currency, then face value, then name."""
    cur, _, den = denom_id.partition("/")
    try:
        value = float(den)
    except ValueError:
        value = math.inf
    return cur, value, den


@dataclass(frozen=True)
class ImageRecord:
    """One image file of a dataset.

    ``method`` (the counterfeit process) and ``side`` ("front"/"back") come from ``manifest.csv`` when
    the dataset has one (the synthetic generator writes it); otherwise they are None.
    """

    path: Path
    currency: str
    denomination: str
    label: Label
    method: str | None = None
    side: str | None = None

    @property
    def denom_id(self) -> str:
        return denomination_id(self.currency, self.denomination)

    @property
    def is_genuine(self) -> bool:
        return self.label == GENUINE


@dataclass
class Dataset:
    """All images found under ``root``, in a stable (sorted) order."""

    root: Path
    records: list[ImageRecord] = field(default_factory=list)

    @property
    def denominations(self) -> list[str]:
        """Denomination ids, sorted."""
        return sorted({r.denom_id for r in self.records})

    def genuine(self, denom_id: str | None = None) -> list[ImageRecord]:
        return [r for r in self.records if r.is_genuine and (denom_id is None or r.denom_id == denom_id)]

    def counterfeit(self, denom_id: str | None = None) -> list[ImageRecord]:
        return [r for r in self.records if not r.is_genuine and (denom_id is None or r.denom_id == denom_id)]

    def __len__(self) -> int:
        return len(self.records)
