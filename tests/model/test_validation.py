"""The validation metric: centroid scoring, prototypes, catch rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from banknote_guard.model.validation import verification_metrics


def test_separated_counterfeits_score_auc_one_and_denominations_are_named() -> None:
    rng = np.random.default_rng(0)
    centres = {"A": np.array([0.0, 0.0]), "B": np.array([10.0, 0.0])}
    ref = np.concatenate([centres[d] + rng.normal(0, 0.1, (20, 2)) for d in "AB"])
    ref_d = ["A"] * 20 + ["B"] * 20
    q_genuine = np.concatenate([centres[d] + rng.normal(0, 0.1, (5, 2)) for d in "AB"])
    q_fake = np.stack([centres[d] + np.array([0.0, 2.0]) for d in "AB"])
    q = np.concatenate([q_genuine, q_fake])
    q_d = ["A"] * 5 + ["B"] * 5 + ["A", "B"]
    labels = [True] * 10 + [False] * 2
    m = verification_metrics(ref, ref_d, q, q_d, labels)
    assert m["auc"] == 1.0 and m["catch_rate"] == 1.0 and m["denom_accuracy"] == 1.0
    assert m["score"] == pytest.approx(1.0)


def test_prototypes_handle_two_sided_denominations() -> None:
    # Denomination A has two far-apart sides; one centroid sits between them, where the fake is.
    rng = np.random.default_rng(1)
    front, back = np.array([0.0, 0.0]), np.array([0.0, 10.0])
    ref = np.concatenate([front + rng.normal(0, 0.1, (10, 2)), back + rng.normal(0, 0.1, (10, 2))])
    ref_d = ["A"] * 20
    groups = ["A|front"] * 10 + ["A|back"] * 10
    q = np.array([[0.05, 0.0], [0.0, 9.95], [0.0, 5.0]])
    labels = [True, True, False]
    single = verification_metrics(ref, ref_d, q, ["A"] * 3, labels)
    proto = verification_metrics(ref, ref_d, q, ["A"] * 3, labels, ref_groups=groups)
    assert single["auc"] < 0.5 and proto["auc"] == 1.0


def test_without_counterfeits_auc_is_nan_and_score_uses_accuracy() -> None:
    ref = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    m = verification_metrics(ref, ["A", "A", "B", "B"], np.array([[0.0, 0.1], [5.0, 5.2]]), ["A", "B"], [True, True])
    assert math.isnan(m["auc"]) and math.isnan(m["catch_rate"])
    assert m["denom_accuracy"] == 1.0 and m["score"] == 1.0
