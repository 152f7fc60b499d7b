"""Validation metric of training: how well distances to genuine centroids separate counterfeits.

The same scoring the verifier uses, in miniature: each denomination's centroid is the mean embedding of
its (training) genuine notes and its spread the mean distance of those notes to it; a note's
counterfeit score is its distance to its own denomination's centroid divided by that spread.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from banknote_guard.model.distances import pairwise_numpy


def centroids(
    embeddings: np.ndarray, denoms: Sequence[str], distance: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(denomination ids, centroids (M, D), spreads (M,)) from genuine embeddings and their denominations."""
    names = sorted(set(denoms))
    denoms_arr = np.asarray(denoms)
    cents = np.stack([embeddings[denoms_arr == d].mean(0) for d in names]).astype(np.float32)
    spreads = np.empty(len(names), dtype=np.float32)
    for j, d in enumerate(names):
        dist = pairwise_numpy(distance, embeddings[denoms_arr == d], cents[j : j + 1])[:, 0]
        spreads[j] = max(float(dist.mean()), 1e-6)
    return names, cents, spreads


def catch_rate_at(genuine_scores: np.ndarray, counterfeit_scores: np.ndarray, false_alarm: float = 0.01) -> float:
    """Share of counterfeits scored above the threshold that flags at most ``false_alarm`` of genuine notes."""
    if len(genuine_scores) == 0 or len(counterfeit_scores) == 0:
        return math.nan
    g = np.sort(genuine_scores)
    allowed = int(math.floor(false_alarm * len(g)))  # genuine notes that may lie above the threshold
    threshold = g[len(g) - 1 - allowed]
    return float((counterfeit_scores > threshold).mean())


def verification_metrics(
    ref_embeddings: np.ndarray,
    ref_denoms: Sequence[str],
    embeddings: np.ndarray,
    denoms: Sequence[str],
    genuine: Sequence[bool],
    distance: str = "sqeuclidean",
    false_alarm: float = 0.01,
    ref_groups: Sequence[str] | None = None,
) -> dict[str, float]:
    """Genuine-vs-counterfeit metrics of ``embeddings`` against centroids of ``ref_embeddings``.

    Args:
        ref_embeddings, ref_denoms: genuine reference notes (training genuine) and their denomination ids.
        embeddings, denoms, genuine: the notes to score, their (true) denomination and label.
        distance: "sqeuclidean" or "cosine".
        false_alarm: the false-alarm rate of ``catch_rate``.
        ref_groups: optional finer groups of the reference notes (e.g. denomination and side); each
            group gets its own centroid (a prototype of its denomination) and a note is scored
            against the nearest prototype of its denomination.

    Returns:
        ``auc`` (ROC AUC of the counterfeit score, counterfeit = positive; NaN without both labels),
        ``catch_rate`` (counterfeits caught at ``false_alarm``), ``denom_accuracy`` (genuine notes whose
        nearest centroid is their own denomination), ``score`` (mean of the available ones; the early
        stopping metric).
    """
    from sklearn.metrics import roc_auc_score

    groups = list(ref_groups) if ref_groups is not None else list(ref_denoms)
    group_denom = dict(zip(groups, ref_denoms))
    proto_names, cents, spreads = centroids(ref_embeddings, groups, distance)
    proto_denoms = np.array([group_denom[g] for g in proto_names])
    names = sorted(set(ref_denoms))
    index = {d: j for j, d in enumerate(names)}
    genuine_arr = np.asarray(genuine, dtype=bool)
    known = np.array([d in index for d in denoms], dtype=bool)
    n = len(embeddings)
    pd = pairwise_numpy(distance, embeddings, cents) if n else np.zeros((0, len(proto_names)), np.float32)
    # Per denomination: the raw distance and the spread-scaled score of the nearest prototype.
    dist = np.full((n, len(names)), np.inf, np.float32)
    scaled = np.full((n, len(names)), np.inf, np.float32)
    for j, d in enumerate(names):
        cols = np.flatnonzero(proto_denoms == d)
        if n:
            dist[:, j] = pd[:, cols].min(1)
            scaled[:, j] = (pd[:, cols] / spreads[cols]).min(1)
    own = np.array([index.get(d, 0) for d in denoms], dtype=int)
    scores = scaled[np.arange(n), own] if n else np.zeros(0, np.float32)
    scores, labels, dist_k, own_k = scores[known], genuine_arr[known], dist[known], own[known]
    out: dict[str, float] = {"auc": math.nan, "catch_rate": math.nan, "denom_accuracy": math.nan}
    if labels.any() and (~labels).any():
        out["auc"] = float(roc_auc_score(~labels, scores))
        out["catch_rate"] = catch_rate_at(scores[labels], scores[~labels], false_alarm)
    if labels.any():
        out["denom_accuracy"] = float((dist_k[labels].argmin(1) == own_k[labels]).mean())
    parts = [v for v in out.values() if not math.isnan(v)]
    out["score"] = float(np.mean(parts)) if parts else math.nan
    return out
