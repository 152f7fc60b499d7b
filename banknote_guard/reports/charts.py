"""The two charts of a report, as geometry in fractions (0..1) that the PDF and HTML writers draw.

* :func:`score_gauge`: the counterfeit score on a scale from 0, with the threshold marked; the part
  of the scale above the threshold is the suspect zone.
* :func:`distance_chart`: the note's distance to every denomination's genuine centre, nearest
  first, the matched denomination highlighted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Denominations a distance chart shows at most (the nearest ones); the rest are counted.
MAX_BARS = 8


def _finite(value: float | None) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Gauge:
    """A score against its threshold on a scale 0..``scale_max``.

    ``score_at`` and ``threshold_at`` are positions on the scale as fractions (0..1); ``over`` says
    whether the score lies above the threshold.
    """

    score: float
    threshold: float
    scale_max: float
    score_at: float
    threshold_at: float
    over: bool


def score_gauge(score: float | None, threshold: float | None) -> Gauge | None:
    """The gauge of a score and its threshold; None when either is missing or not a finite number."""
    if not (_finite(score) and _finite(threshold)):
        return None
    s, t = max(float(score), 0.0), max(float(threshold), 0.0)  # type: ignore[arg-type]
    scale = max(s, t) * 1.25 or 1.0
    return Gauge(score=float(score), threshold=float(threshold), scale_max=scale,  # type: ignore[arg-type]
                 score_at=min(s / scale, 1.0), threshold_at=min(t / scale, 1.0), over=float(score) > float(threshold))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Bar:
    """One denomination's distance: ``length`` is the bar's share of the chart's width (0..1)."""

    label: str
    value: float | None
    length: float
    matched: bool

    @property
    def text(self) -> str:
        return "n/a" if self.value is None else f"{self.value:.3f}"


@dataclass(frozen=True)
class DistanceChart:
    """Bars, nearest denomination first; ``more`` denominations were left out (farther away)."""

    bars: tuple[Bar, ...]
    more: int = 0

    @property
    def empty(self) -> bool:
        return not self.bars


def distance_chart(distances: dict[str, float], matched: str | None, limit: int = MAX_BARS) -> DistanceChart:
    """The chart of ``distances`` (denomination -> distance); the matched denomination is always shown."""
    finite = sorted(((d, float(v)) for d, v in distances.items() if _finite(v)), key=lambda dv: (dv[1], dv[0]))
    broken = sorted(d for d, v in distances.items() if not _finite(v))
    ordered: list[tuple[str, float | None]] = [*finite, *((d, None) for d in broken)]
    shown = ordered[:limit]
    if matched is not None and matched in distances and all(d != matched for d, _ in shown):
        shown = [*shown[: limit - 1], next(dv for dv in ordered if dv[0] == matched)]
    top = max((v for _, v in shown if v is not None), default=0.0)
    scale = top * 1.05 if top > 0 else 1.0
    bars = tuple(Bar(label=str(d), value=v, length=0.0 if v is None else max(0.0, v) / scale, matched=d == matched)
                 for d, v in shown)
    return DistanceChart(bars=bars, more=len(ordered) - len(shown))
