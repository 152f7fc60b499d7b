"""The outcome of verifying one note. Shared by the engine, the CLI (``verify --json``), reports and the GUI.

Fields may be added, never renamed: ``to_json()`` is the format of DESIGN.md §5.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

#: "genuine": recognised and authenticated; "suspect": counterfeit evidence; "unknown": not a note, or a
#: denomination the model does not know; "uncertain": a note, but not clearly authenticated (reasons
#: say why); "retake": the picture is not good enough to judge (blurred, cut off, ...; reasons say why).
Verdict = Literal["genuine", "suspect", "unknown", "uncertain", "retake"]
#: Verdicts that are not a positive authentication: a batch with any of these needs a person's look.
NOT_GENUINE: tuple[str, ...] = ("suspect", "unknown", "uncertain", "retake")
Status = Literal["ok", "error"]


@dataclass
class VerificationResult:
    """One note's verdict.

    Attributes:
        path: where the image came from (a file path, or a name such as "clipboard" / "camera").
        status: "ok", or "error" when the image could not be used (then ``error`` says why).
        error: a readable message, or None.
        denomination: best-matching denomination id ("EUR/20"), or None.
        verdict: "genuine", "suspect" (a counterfeit is likely) or "unknown" (far from every known
            denomination, or not a note at all).
        counterfeit_score: continuous, higher = more suspicious; the distance to the matched
            denomination's genuine centroid divided by that denomination's spread.
        threshold: the score above which this denomination's notes are called suspect (the calibrated
            threshold times ``threshold_scale``).
        threshold_scale: the operator's threshold scale the verdict was reached with (1.0: as calibrated).
        distances: denomination id -> distance of the embedding to that denomination's centroid.
        probabilities: denomination id -> one-vs-rest SVM probability.
        note_found: whether the note's outline was found in the image (False: the whole image was used).
        ambiguity: nearest / next-nearest denomination distance (0: clear, 1: two equally close).
        denomination_unclear: True when ``ambiguity`` is above the model's margin: never "genuine".
        reasons: readable sentences saying why a verdict is "unknown", "uncertain" or "retake" (or what
            else the operator should know); empty for a plain genuine verdict; a suspect verdict of a
            model with local evidence names the regions that differ most.
        rectified: the upright note image (H, W, 3) uint8 RGB that was scored; not written to JSON.
        global_score: the embedding's score (distance / spread, plus the counterfeit head's share when the
            model has one, :mod:`~banknote_guard.verify.counterfeit_head`), or None.
        local_score: the local evidence score (:mod:`~banknote_guard.verify.local_evidence`), or None when
            the model has no local evidence; ``counterfeit_score`` fuses the two.
        regions: why suspect: the regions of the straightened note that differ most from the
            denomination's genuine notes, highest first, each ``{"score", "box" (pixels of the
            straightened note), "box_fraction", "name"}`` (name where the layout is known, else None).
        heatmap: (rows, cols) deviation of each cell of the straightened note (None without local
            evidence); not written to JSON.
        print_match: what the note's print said of its denomination
            (:mod:`~banknote_guard.verify.keypoints`: ``denomination``, ``inliers``, ``runner_up``,
            ``runner_up_inliers``, ``decided``), or None when the model has no print prototypes.
        seconds: time taken for this note.
    """

    path: str
    status: Status = "ok"
    error: str | None = None
    denomination: str | None = None
    verdict: Verdict | None = None
    counterfeit_score: float | None = None
    threshold: float | None = None
    threshold_scale: float = 1.0
    distances: dict[str, float] = field(default_factory=dict)
    probabilities: dict[str, float] = field(default_factory=dict)
    note_found: bool | None = None
    reasons: list[str] = field(default_factory=list)
    ambiguity: float | None = None
    denomination_unclear: bool = False
    rectified: np.ndarray | None = field(default=None, repr=False, compare=False)
    seconds: float | None = None
    global_score: float | None = None
    local_score: float | None = None
    regions: list[dict[str, Any]] = field(default_factory=list)
    heatmap: np.ndarray | None = field(default=None, repr=False, compare=False)
    print_match: dict[str, Any] | None = None

    @classmethod
    def failed(cls, path: str, error: str) -> "VerificationResult":
        return cls(path=path, status="error", error=error, verdict=None)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        """The JSON object of DESIGN.md §5 (plus ``note_found`` and ``seconds``)."""
        return {
            "path": self.path,
            "status": self.status,
            "error": self.error,
            "denomination": self.denomination,
            "verdict": self.verdict,
            "counterfeit_score": _finite_or_none(self.counterfeit_score),
            "distances": {k: _finite_or_none(v) for k, v in self.distances.items()},
            "probabilities": {k: _finite_or_none(v) for k, v in self.probabilities.items()},
            "threshold": _finite_or_none(self.threshold),
            "threshold_scale": float(self.threshold_scale),
            "note_found": self.note_found,
            "reasons": list(self.reasons),
            "ambiguity": _finite_or_none(self.ambiguity),
            "denomination_unclear": bool(self.denomination_unclear),
            "seconds": self.seconds,
            "global_score": _finite_or_none(self.global_score),
            "local_score": _finite_or_none(self.local_score),
            "regions": [dict(r) for r in self.regions],
            "print_match": None if self.print_match is None else dict(self.print_match),
        }


def _finite_or_none(value: float | None) -> float | None:
    """A JSON-safe number: NaN and infinities (and None) become None."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None
