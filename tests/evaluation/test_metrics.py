"""Metrics agree with scikit-learn and follow the project's conventions (1 = counterfeit, high = suspect)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from banknote_guard.errors import ParameterError
from banknote_guard.evaluation import metrics


def _random_case(seed: int, n: int = 300, ties: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < 0.3).astype(int)
    labels[:2] = [0, 1]
    scores = rng.normal(size=n) + 1.2 * labels
    if ties:
        scores = np.round(scores, 1)
    return labels, scores


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ties", [False, True])
def test_roc_curve_and_auc_match_sklearn(seed: int, ties: bool) -> None:
    labels, scores = _random_case(seed, ties=ties)
    fpr, tpr, thr = metrics.roc_curve(labels, scores)
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(labels, scores, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thr[1:], sk_thr[1:])
    assert thr[0] == np.inf
    assert metrics.roc_auc(labels, scores) == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-12)
    assert metrics.roc_auc(labels, scores) == pytest.approx(skm.auc(fpr, tpr), abs=1e-12)


def test_auc_extremes_and_missing_class() -> None:
    assert metrics.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert metrics.roc_auc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert metrics.roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert math.isnan(metrics.roc_auc([0, 0, 0], [0.1, 0.2, 0.3]))
    assert math.isnan(metrics.equal_error_rate([1, 1], [0.1, 0.2]))
    assert all(math.isnan(v) for v in metrics.catch_rate_at_far([0, 0], [0.1, 0.2], 0.01))


@pytest.mark.parametrize("seed", [0, 3])
def test_equal_error_rate_is_where_false_alarms_meet_misses(seed: int) -> None:
    labels, scores = _random_case(seed, n=2000)
    eer = metrics.equal_error_rate(labels, scores)
    thr = metrics.equal_error_threshold(labels, scores)
    fpr, tpr, _ = skm.roc_curve(labels, scores)
    fnr = 1 - tpr
    i = int(np.nanargmin(np.abs(fnr - fpr)))
    assert eer == pytest.approx((fpr[i] + fnr[i]) / 2, abs=0.01)
    # At the EER threshold both error rates are close to the EER.
    far = np.mean(scores[labels == 0] > thr)
    miss = np.mean(scores[labels == 1] <= thr)
    assert far == pytest.approx(eer, abs=0.01)
    assert miss == pytest.approx(eer, abs=0.01)
    assert metrics.equal_error_rate([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 0.0


def test_catch_rate_at_far_respects_the_false_alarm_budget() -> None:
    labels, scores = _random_case(5, n=3000)
    genuine = scores[labels == 0]
    counterfeit = scores[labels == 1]
    for far in (0.1, 0.01, 0.001):
        catch, thr = metrics.catch_rate_at_far(labels, scores, far)
        assert np.sum(genuine > thr) <= math.floor(far * genuine.size)
        assert catch == pytest.approx(np.mean(counterfeit > thr))
        # The threshold is the lowest allowed one: one step lower would exceed the budget.
        lower = np.max(genuine[genuine < thr]) if np.any(genuine < thr) else -np.inf
        assert np.sum(genuine > lower) > math.floor(far * genuine.size)
        # Agrees with the sklearn ROC curve at the same operating point.
        fpr, tpr, _ = skm.roc_curve(labels, scores, drop_intermediate=False)
        budget = math.floor(far * genuine.size) / genuine.size
        assert catch == pytest.approx(tpr[fpr <= budget + 1e-12].max(), abs=1e-12)
    assert metrics.catch_rate_at_far([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4], 0.01) == (1.0, 0.2)
    assert metrics.catch_rate_at_far([0, 0, 1], [0.1, 0.2, 0.3], 1.0)[0] == 1.0
    with pytest.raises(ParameterError, match="'far' parameter of catch_rate_at_far"):
        metrics.catch_rate_at_far([0, 1], [0.1, 0.2], 1.5)


def test_false_alarms_per_10k_with_thresholds_and_flags() -> None:
    genuine = np.array([0.1, 0.5, 0.9, 1.5])
    assert metrics.false_alarms_per_10k(genuine, 1.0) == 2500.0
    assert metrics.false_alarms_per_10k(genuine, [0.05, 1.0, 1.0, 1.0]) == 5000.0  # 0.1 and 1.5
    assert metrics.false_alarms_per_10k(genuine, [0.0, 0.0, 0.0, 0.0]) == 10000.0
    assert metrics.false_alarms_per_10k(genuine, np.array([True, False, False, False])) == 2500.0
    assert metrics.false_alarms_per_10k(genuine, 0.9) == 2500.0  # equal to the threshold is not flagged
    assert math.isnan(metrics.false_alarms_per_10k([], 1.0))
    with pytest.raises(ParameterError):
        metrics.false_alarms_per_10k(genuine, [1.0, 2.0])


def test_confusion_matrix_matches_sklearn_and_skips_unlisted_labels() -> None:
    rng = np.random.default_rng(0)
    names = ["A/1", "A/5", "B/10"]
    true = list(rng.choice(names, 200))
    pred = list(rng.choice(names + ["unknown"], 200))
    ours = metrics.confusion_matrix(true, pred, names)
    ref = skm.confusion_matrix(true, pred, labels=names)
    np.testing.assert_array_equal(ours, ref)
    with_unknown = metrics.confusion_matrix(true, pred, names + ["unknown"])
    assert with_unknown.sum() == 200
    assert with_unknown[:, 3].sum() == sum(p == "unknown" for p in pred)
    assert metrics.confusion_matrix(["A/1"], [None], ["A/1"]).sum() == 0
    assert metrics.accuracy(true, pred) == pytest.approx(skm.accuracy_score(true, pred))


def test_bad_inputs_raise_readable_errors() -> None:
    with pytest.raises(ParameterError, match="0 \\(genuine\\) or 1 \\(counterfeit\\)"):
        metrics.roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(ParameterError, match="as long as labels"):
        metrics.roc_curve([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ParameterError, match="finite"):
        metrics.roc_auc([0, 1], [0.1, float("nan")])
    with pytest.raises(ParameterError):
        metrics.confusion_matrix(["a"], ["a", "b"], ["a", "b"])
