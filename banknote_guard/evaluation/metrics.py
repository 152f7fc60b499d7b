"""Detection and classification metrics as small, pure numpy functions.

Conventions shared by every function here:

* ``labels``: 1 = counterfeit (the positive class), 0 = genuine. Booleans are accepted.
* ``scores``: continuous, higher = more suspicious (a ``counterfeit_score``).
* A note is flagged (called suspect) when its score is strictly **above** the threshold, the same rule
  the verifier uses.

Where a metric is undefined (no counterfeits, or no genuine notes) the functions return ``nan``
rather than raise, so that a per-denomination table can show a gap for a denomination without
counterfeits. The results agree with ``sklearn.metrics`` (see ``tests/verify/test_metrics.py``).
"""

from __future__ import annotations

import math
from typing import Any, Hashable, Sequence

import numpy as np

from banknote_guard.errors import parameter_error

__all__ = [
    "roc_curve",
    "roc_auc",
    "equal_error_rate",
    "equal_error_threshold",
    "catch_rate_at_far",
    "false_alarm_rate",
    "false_alarms_per_10k",
    "confusion_matrix",
    "accuracy",
]


def _check_labels_scores(labels: Any, scores: Any, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (labels as bool, scores as float64) after checking shapes and values."""
    y = np.asarray(labels)
    s = np.asarray(scores, dtype=np.float64)
    if y.ndim != 1:
        raise parameter_error("labels", owner, "a 1-D sequence of 0/1 values", f"an array of shape {y.shape}")
    if s.shape != y.shape:
        raise parameter_error("scores", owner, f"a 1-D sequence as long as labels ({y.shape[0]})", f"shape {s.shape}")
    if y.size and not np.isin(y, (0, 1)).all():
        bad = [v for v in np.unique(y) if v not in (0, 1)][:3]
        raise parameter_error("labels", owner, "0 (genuine) or 1 (counterfeit)", bad)
    if not np.isfinite(s).all():
        raise parameter_error("scores", owner, "finite numbers", "NaN or infinite values")
    return y.astype(bool), s


def roc_curve(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The receiver operating characteristic: one point per distinct score.

    Args:
        labels: 1 = counterfeit, 0 = genuine.
        scores: higher = more suspicious.

    Returns:
        ``(fpr, tpr, thresholds)``: false-alarm rate (share of genuine notes flagged) and catch rate
        (share of counterfeits flagged) when notes with ``score >= thresholds[i]`` are flagged.
        ``thresholds`` decrease; the first is ``inf`` (nothing flagged), so the curve starts at (0, 0)
        and ends at (1, 1). Same as ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``.
        A class with no samples gives a rate of ``nan``.
    """
    y, s = _check_labels_scores(labels, scores, "roc_curve")
    order = np.argsort(-s, kind="mergesort")
    s_sorted = s[order]
    y_sorted = y[order]
    # Last index of each run of equal scores.
    distinct = np.nonzero(np.diff(s_sorted))[0]
    ends = np.r_[distinct, y.size - 1] if y.size else np.array([], dtype=int)
    tps = np.cumsum(y_sorted)[ends] if y.size else np.array([], dtype=float)
    fps = (ends + 1) - tps
    tps = np.r_[0, tps].astype(np.float64)
    fps = np.r_[0, fps].astype(np.float64)
    thresholds = np.r_[np.inf, s_sorted[ends]] if y.size else np.array([np.inf])
    n_pos = tps[-1]
    n_neg = fps[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = tps / n_pos if n_pos > 0 else np.full_like(tps, np.nan)
        fpr = fps / n_neg if n_neg > 0 else np.full_like(fps, np.nan)
    return fpr, tpr, thresholds


def roc_auc(labels: Any, scores: Any) -> float:
    """Area under the ROC curve: the chance that a random counterfeit scores above a random genuine note.

    Ties count one half (the Mann-Whitney statistic), as in ``sklearn.metrics.roc_auc_score``.

    Returns:
        The AUC in [0, 1], or ``nan`` when either class is missing.
    """
    y, s = _check_labels_scores(labels, scores, "roc_auc")
    n_pos = int(y.sum())
    n_neg = int(y.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return math.nan
    # Average ranks (1-based) with ties sharing their mean rank.
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    ranks_sorted = np.empty(s.size, dtype=np.float64)
    boundaries = np.r_[0, np.nonzero(np.diff(s_sorted))[0] + 1, s.size]
    for start, stop in zip(boundaries[:-1], boundaries[1:]):
        ranks_sorted[start:stop] = 0.5 * (start + 1 + stop)
    ranks = np.empty_like(ranks_sorted)
    ranks[order] = ranks_sorted
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def _eer_point(labels: Any, scores: Any, owner: str) -> tuple[float, float]:
    fpr, tpr, thr = roc_curve(labels, scores)
    if np.isnan(fpr).any() or np.isnan(tpr).any():
        return math.nan, math.nan
    fnr = 1.0 - tpr
    diff = fpr - fnr  # rises from -1 (nothing flagged) to +1 (everything flagged)
    i = int(np.argmax(diff >= 0))  # first point where false alarms reach misses
    if diff[i] == 0 or i == 0:
        finite = thr[i] if np.isfinite(thr[i]) else thr[min(i + 1, thr.size - 1)]
        return float(fpr[i]), float(finite)
    # Interpolate linearly between points i-1 (diff < 0) and i (diff > 0).
    d0, d1 = diff[i - 1], diff[i]
    t = d0 / (d0 - d1)
    eer = fpr[i - 1] + t * (fpr[i] - fpr[i - 1])
    lo = thr[i - 1] if np.isfinite(thr[i - 1]) else thr[i]
    threshold = lo + t * (thr[i] - lo)
    return float(eer), float(threshold)


def equal_error_rate(labels: Any, scores: Any) -> float:
    """The rate at which false alarms equal missed counterfeits (lower is better).

    Read off the ROC curve where ``fpr == 1 - tpr``, interpolating linearly between the two points
    around the crossing.

    Returns:
        The EER in [0, 1], or ``nan`` when either class is missing.
    """
    return _eer_point(labels, scores, "equal_error_rate")[0]


def equal_error_threshold(labels: Any, scores: Any) -> float:
    """The score threshold at the equal-error point (``nan`` when either class is missing)."""
    return _eer_point(labels, scores, "equal_error_threshold")[1]


def catch_rate_at_far(labels: Any, scores: Any, far: float) -> tuple[float, float]:
    """The share of counterfeits caught when at most ``far`` of genuine notes may raise a false alarm.

    The threshold is the lowest one (over the genuine scores) that flags at most
    ``floor(far * n_genuine)`` genuine notes, flagging being ``score > threshold``. With fewer than
    ``1 / far`` genuine notes that means no false alarm at all is allowed, so the figure is
    conservative on small sets.

    Args:
        labels: 1 = counterfeit, 0 = genuine.
        scores: higher = more suspicious.
        far: the false-alarm rate allowed, in [0, 1].

    Returns:
        ``(catch_rate, threshold)``; ``(nan, nan)`` when either class is missing.
    """
    if not isinstance(far, (int, float)) or isinstance(far, bool) or not 0.0 <= float(far) <= 1.0:
        raise parameter_error("far", "catch_rate_at_far", "a number in [0, 1]", far)
    y, s = _check_labels_scores(labels, scores, "catch_rate_at_far")
    genuine = np.sort(s[~y])[::-1]
    counterfeit = s[y]
    if genuine.size == 0 or counterfeit.size == 0:
        return math.nan, math.nan
    allowed = int(math.floor(float(far) * genuine.size + 1e-9))
    if allowed >= genuine.size:
        threshold = float(np.nextafter(genuine[-1], -np.inf))  # flag everything
    else:
        threshold = float(genuine[allowed])
    return float(np.mean(counterfeit > threshold)), threshold


def false_alarm_rate(genuine_scores: Any, thresholds_or_flags: Any) -> float:
    """Share of genuine notes flagged; see :func:`false_alarms_per_10k` for the arguments."""
    s = np.asarray(genuine_scores, dtype=np.float64).ravel()
    t = np.asarray(thresholds_or_flags)
    if t.dtype == bool:
        flags = t.ravel()
        if flags.shape != s.shape:
            raise parameter_error(
                "thresholds_or_flags", "false_alarms_per_10k", f"{s.size} flags, one per genuine score", flags.size
            )
    else:
        t = t.astype(np.float64)
        if t.ndim > 0 and t.size != 1 and t.ravel().shape != s.shape:
            raise parameter_error(
                "thresholds_or_flags",
                "false_alarms_per_10k",
                f"one threshold, or {s.size} thresholds (one per genuine score)",
                f"{t.size} values",
            )
        flags = s > t.ravel() if t.size != 1 else s > float(t.ravel()[0])
    if s.size == 0:
        return math.nan
    return float(np.mean(flags))


def false_alarms_per_10k(genuine_scores: Any, thresholds_or_flags: Any) -> float:
    """False alarms per 10,000 genuine notes.

    Args:
        genuine_scores: the scores of genuine notes only.
        thresholds_or_flags: either one threshold for all notes, an array of per-note thresholds
            (each note's denomination threshold; a note is flagged when ``score > threshold``), or a
            boolean array saying which notes were flagged (e.g. ``verdict != "genuine"``).

    Returns:
        ``10000 * flagged / n``, or ``nan`` for no genuine notes.
    """
    return 10000.0 * false_alarm_rate(genuine_scores, thresholds_or_flags)


def confusion_matrix(true: Sequence[Hashable], pred: Sequence[Hashable], labels: Sequence[Hashable]) -> np.ndarray:
    """Counts of (true, predicted) label pairs.

    Args:
        true: the true label of each sample.
        pred: the predicted label of each sample (may hold values outside ``labels``, e.g. None).
        labels: the labels to count, in the order of the rows and columns.

    Returns:
        An int64 matrix ``m`` of shape (len(labels), len(labels)); ``m[i, j]`` counts samples whose
        true label is ``labels[i]`` and prediction is ``labels[j]``. Samples whose true or predicted
        label is not in ``labels`` are not counted (as in ``sklearn.metrics.confusion_matrix``);
        add an explicit label such as "unknown" to count them.
    """
    true = list(true)
    pred = list(pred)
    if len(true) != len(pred):
        raise parameter_error("pred", "confusion_matrix", f"as long as true ({len(true)})", f"length {len(pred)}")
    index = {label: i for i, label in enumerate(labels)}
    if len(index) != len(labels):
        raise parameter_error("labels", "confusion_matrix", "distinct values", list(labels))
    m = np.zeros((len(index), len(index)), dtype=np.int64)
    for t, p in zip(true, pred):
        i = index.get(t)
        j = index.get(p)
        if i is not None and j is not None:
            m[i, j] += 1
    return m


def accuracy(true: Sequence[Hashable], pred: Sequence[Hashable]) -> float:
    """Share of samples whose prediction equals the true label (``nan`` for none)."""
    true = list(true)
    pred = list(pred)
    if len(true) != len(pred):
        raise parameter_error("pred", "accuracy", f"as long as true ({len(true)})", f"length {len(pred)}")
    if not true:
        return math.nan
    return float(np.mean([t == p for t, p in zip(true, pred)]))
