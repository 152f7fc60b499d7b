"""The verdict rule: the one place that turns a score into "genuine", "suspect" or "unknown".

Every caller (the verifier, the command line, the GUI re-judging shown results under another
threshold scale, evaluation) goes through :func:`judge` or :func:`rejudge`, so the rule cannot drift.

Rule, for a note whose nearest denomination has calibrated threshold ``t``:

- ``"retake"`` when the picture is not good enough to judge (blurred, too dark, glare, note cut off
  or too small, several notes: the capture-quality reasons given by the caller): a blurred or cut-off
  genuine note must not raise an alarm, and a blurred counterfeit must not pass;
- ``"unknown"`` when the picture lies closer to pictures without a note (desks, documents, screens,
  hands) than to the notes the model knows, beyond the model's calibrated gate
  (``not_a_note``); or when the score exceeds the model's unknown threshold (far beyond every known note,
  counterfeits included), or when no note outline was found *and* the score exceeds both ``t`` and
  the highest score of any known note seen at calibration (``unknown_threshold / UNKNOWN_FACTOR``):
  probably not a note at all. A counterfeit in a tightly cropped scan (no outline to find) is
  therefore still "suspect", not "unknown";
- else ``"suspect"`` when the score is above ``t x threshold_scale`` (counterfeit evidence; a suspect
  note whose denomination is also unclear stays suspect, with that said in its reasons);
- else ``"uncertain"`` when the note's denomination is not clear: its ambiguity (nearest / next
  nearest denomination distance) is above the model's calibrated margin threshold; for a model that
  also reads the note's print (:mod:`~banknote_guard.verify.keypoints`) the caller says whether the
  name is clear (``name_clear``) and that decides instead;
- else ``"genuine"``.

The rule **fails closed**: "genuine" needs a finite score positively at or below a finite, positive
threshold. A NaN or infinite score or threshold (a damaged model, a numerical fault) gives
"suspect", never "genuine". The threshold scale (an operator's setting, default 1.0) moves only the
genuine/suspect boundary; below 1.0 more notes are flagged.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Sequence

from banknote_guard.errors import parameter_error
from banknote_guard.verify.calibration import UNKNOWN_FACTOR

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.result import Verdict, VerificationResult

#: The threshold scales an operator may choose (inclusive), shared by the CLI and the GUI.
THRESHOLD_SCALE_RANGE = (0.5, 2.0)
DEFAULT_THRESHOLD_SCALE = 1.0


def check_threshold_scale(scale: float, owner: str = "verify") -> float:
    """Validate a threshold scale (a float within :data:`THRESHOLD_SCALE_RANGE`)."""
    lo, hi = THRESHOLD_SCALE_RANGE
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not (lo <= float(scale) <= hi):
        raise parameter_error("threshold_scale", owner, f"a float in [{lo:g}, {hi:g}]", scale)
    return float(scale)


def judge(
    score: float,
    threshold: float,
    unknown_threshold: float,
    *,
    note_found: bool = True,
    threshold_scale: float = DEFAULT_THRESHOLD_SCALE,
    retake_reasons: Sequence[str] = (),
    ambiguity: float = 0.0,
    margin_threshold: float = float("inf"),
    not_a_note: bool = False,
    distance_score: float | None = None,
    name_clear: bool | None = None,
) -> "Verdict":
    """The verdict of one note (see the module docstring for the rule).

    ``distance_score``: the embedding distance score alone, for the "unknown" tests, when ``score``
    fuses it with local evidence (:mod:`~banknote_guard.verify.local_evidence`): how far a note lies
    from every known denomination is a question for the embedding, whether it is counterfeit one for
    the fused score. Default: ``score``. ``name_clear``: None to judge the name by ``ambiguity``
    against ``margin_threshold``; True or False when the print named the note (or failed to back it).
    """
    if retake_reasons:
        return "retake"
    far = score if distance_score is None else distance_score
    if any(math.isnan(x) for x in (score, far, threshold, unknown_threshold, threshold_scale, ambiguity,
                                   margin_threshold)):
        return "suspect"  # a damaged model or a numerical fault: flag the note, never pass it
    if not_a_note:
        return "unknown"
    if far > unknown_threshold or (not note_found and far > max(threshold, unknown_threshold / UNKNOWN_FACTOR)):
        return "unknown"
    limit = threshold * threshold_scale
    if not (math.isfinite(score) and math.isfinite(limit) and limit > 0 and score <= limit):
        return "suspect"
    if (ambiguity > margin_threshold) if name_clear is None else (name_clear is not True):
        return "uncertain"
    return "genuine"


def rejudge(result: "VerificationResult", threshold_scale: float) -> "VerificationResult":
    """``result`` as judged with another threshold scale (the same object when nothing changes).

    Only the genuine/suspect boundary moves; "unknown", "retake" and error results stay as they are,
    and a note whose denomination is unclear never becomes "genuine" (it is "uncertain" when its score
    passes). The reported threshold becomes the calibrated threshold times ``threshold_scale``.
    """
    if (
        not result.ok
        or result.verdict not in ("genuine", "suspect", "uncertain")
        or result.threshold is None
        or result.counterfeit_score is None
        or abs(threshold_scale - result.threshold_scale) < 1e-12
    ):
        return result
    calibrated = float(result.threshold) / result.threshold_scale
    threshold = calibrated * threshold_scale
    limit_ok = math.isfinite(threshold) and threshold > 0
    score = float(result.counterfeit_score)
    passes = limit_ok and math.isfinite(score) and score <= threshold
    verdict: Verdict = ("uncertain" if result.denomination_unclear else "genuine") if passes else "suspect"
    return dataclasses.replace(result, threshold=threshold, threshold_scale=threshold_scale, verdict=verdict)
