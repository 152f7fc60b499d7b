"""Counts and value totals of a batch of verification results (the Verify page, reports, the CLI)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from banknote_guard.verify.result import VerificationResult

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def denomination_value(denom_id: str | None) -> tuple[str, float] | None:
    """The currency and face value of a denomination id: ``"KRT/20"`` -> ``("KRT", 20.0)``.

    The value is the first number in the denomination's name (``"EUR/20_2019"`` -> 20); None when the
    id has no number.
    """
    if not denom_id or "/" not in denom_id:
        return None
    currency, name = denom_id.split("/", 1)
    match = _NUMBER.search(name)
    if not match:
        return None
    return currency, float(match.group(0).replace(",", "."))


@dataclass
class BatchSummary:
    """Counts and value totals of a batch of results."""

    verdicts: Counter = field(default_factory=Counter)
    per_denomination: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    genuine_value: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    suspect_value: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def total(self) -> int:
        return sum(self.verdicts.values())

    def add(self, result: VerificationResult) -> None:
        key = result.verdict if result.ok and result.verdict else "error"
        self.verdicts[key] += 1
        if not result.ok or not result.denomination or key in ("unknown", "retake"):
            return  # no denomination to count: not a note, or a picture to take again
        self.per_denomination[result.denomination][key] += 1
        value = denomination_value(result.denomination)
        if value is None:
            return
        currency, amount = value
        if key == "genuine":
            self.genuine_value[currency] += amount
        elif key == "suspect" and not result.denomination_unclear:
            self.suspect_value[currency] += amount  # an unclear denomination's value is not certain: not added

    def text(self) -> str:
        """One or two lines for a person, e.g. ``"12 notes: 10 genuine, 1 suspect, ..."``."""
        if not self.total:
            return "No notes verified yet."
        parts = [f"{self.verdicts.get(k, 0)} {k}" for k in ("genuine", "suspect", "uncertain", "unknown", "retake", "error")
                 if self.verdicts.get(k)]
        line = f"{self.total} image{'s' if self.total != 1 else ''}: " + ", ".join(parts)
        if self.genuine_value:
            line += ".  Genuine value: " + ", ".join(f"{_money(v)} {c}" for c, v in sorted(self.genuine_value.items()))
        if self.suspect_value:
            line += ".  Suspect value: " + ", ".join(f"{_money(v)} {c}" for c, v in sorted(self.suspect_value.items()))
        return line


def summarise(results: list[VerificationResult]) -> BatchSummary:
    """The :class:`BatchSummary` of ``results``."""
    s = BatchSummary()
    for r in results:
        s.add(r)
    return s


def _money(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"
