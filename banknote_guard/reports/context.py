"""What a report says about itself: who made it, where, over which time span, with which model."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from banknote_guard.history.records import utc_now


@dataclass
class ReportContext:
    """The header facts of a report that the notes themselves do not carry.

    Every field is optional: what is left out is taken from the records (operators, stations,
    batches, time span, model ids, the thresholds the notes were judged against).

    Attributes:
        title: the report's title; by default one per kind ("Batch report", ...).
        operator: who the report is for or by (default: the operators of the records).
        station: the desk or machine (default: the stations of the records).
        since, until: the time span asked for (ISO 8601 UTC); default: the first and last note.
        batch: the batch asked for (default: the batches of the records).
        model: the model's description (``ModelBundle.describe()``: "id", "sha256",
            "false_alarm_rate", "created", ...).
        thresholds: denomination id -> the threshold its notes were judged against (calibrated
            threshold times the threshold scale).
        threshold_scale: the operator's threshold scale (1.0: as calibrated).
        unknown_threshold: the score above which a note is "unknown".
        generated: when the report was made (UTC, ISO 8601).
    """

    title: str | None = None
    operator: str | None = None
    station: str | None = None
    since: str | None = None
    until: str | None = None
    batch: str | None = None
    model: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    threshold_scale: float | None = None
    unknown_threshold: float | None = None
    generated: str = field(default_factory=utc_now)

    @classmethod
    def from_model(cls, model: Any, *, threshold_scale: float = 1.0, **fields: Any) -> "ReportContext":
        """A context naming ``model`` (a ``ModelBundle``): its description and its thresholds.

        ``threshold_scale`` is the operator's scale the notes were judged with; ``fields`` are the
        other attributes (operator, station, batch, ...).
        """
        description = dict(model.describe())
        calibration = getattr(model, "calibration", None)
        thresholds: dict[str, float] = {}
        unknown = None
        if calibration is not None:
            for denom in getattr(model, "denominations", []) or []:
                thresholds[str(denom)] = float(calibration.threshold_for(denom)) * float(threshold_scale)
            unknown_value = float(getattr(calibration, "unknown_threshold", math.inf))
            unknown = unknown_value if math.isfinite(unknown_value) else None
        return cls(model=description, thresholds=thresholds, threshold_scale=float(threshold_scale),
                   unknown_threshold=unknown, **fields)
