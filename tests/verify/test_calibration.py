from __future__ import annotations

import numpy as np
import pytest

from banknote_guard.errors import ParameterError
from banknote_guard.verify.calibration import Calibration, calibrate, estimate_threshold


@pytest.mark.parametrize("far", [0.01, 0.05])
def test_quantile_threshold_hits_the_false_alarm_rate(far: float) -> None:
    rng = np.random.default_rng(0)
    train = rng.lognormal(0, 0.3, 5000)
    test = rng.lognormal(0, 0.3, 200_000)
    t, method = estimate_threshold(train, far)
    assert method == "quantile"
    assert np.mean(test > t) == pytest.approx(far, rel=0.25)


def test_parametric_for_few_notes_is_close_to_the_truth() -> None:
    rng = np.random.default_rng(1)
    rates = []
    for _ in range(200):
        t, method = estimate_threshold(rng.lognormal(0, 0.3, 40), 0.01)
        assert method == "parametric"
        rates.append(np.mean(rng.lognormal(0, 0.3, 5000) > t))
    assert np.mean(rates) < 0.02


def test_pooled_when_a_denomination_has_too_few_notes() -> None:
    rng = np.random.default_rng(2)
    scores = np.concatenate([rng.lognormal(0, 0.3, 300), rng.lognormal(0, 0.3, 5)])
    denoms = ["A/1"] * 300 + ["B/1"] * 5
    cal = calibrate(["A/1", "B/1", "C/1"], scores, denoms, far=0.01)
    assert cal.methods == {"A/1": "quantile", "B/1": "pooled", "C/1": "pooled"}
    assert cal.heldout_counts["C/1"] == 0
    assert cal.thresholds["B/1"] == pytest.approx(np.quantile(scores, 0.99), rel=0.05)
    assert cal.threshold_for("unseen") == cal.thresholds["C/1"]
    assert cal.unknown_threshold > max(cal.thresholds.values())


def test_unknown_threshold_lies_beyond_known_counterfeits() -> None:
    genuine = np.linspace(0.5, 2.0, 200)
    counterfeit = np.array([4.0, 9.0])
    cal = calibrate(["A/1"], genuine, ["A/1"] * 200, far=0.01, known_scores=np.r_[genuine, counterfeit])
    assert cal.unknown_threshold == pytest.approx(13.5)


def test_json_round_trip_and_far_validation() -> None:
    cal = calibrate(["A/1"], np.linspace(1, 2, 50), ["A/1"] * 50, far=0.02)
    back = Calibration.from_json(cal.to_json(), cal.pooled_scores)
    assert back.thresholds == cal.thresholds and back.methods == cal.methods
    assert back.false_alarm_rate == 0.02
    with pytest.raises(ParameterError, match="false_alarm_rate"):
        calibrate(["A/1"], np.ones(3), ["A/1"] * 3, far=1.5)


def test_kshot_thresholds_hold_the_false_alarm_rate_of_new_denominations(blob_maker) -> None:
    from banknote_guard.verify.calibration import kshot_thresholds
    from banknote_guard.verify.gallery import Gallery, pairwise_distances

    x, ids, _ = blob_maker(n_classes=10, per_class=60, dim=16, noise=0.1, seed=4)
    ids = np.array(ids)
    trained = np.isin(ids, [f"CUR/{i}" for i in range(6)])
    g = Gallery().fit(x[trained][::2], ids[trained][::2])
    thresholds, methods = kshot_thresholds(g, x[trained][1::2], ids[trained][1::2], 0.05, ks=[1, 5])
    assert set(thresholds) == {1, 5} and methods[5] == "k-shot-simulated"
    assert thresholds[1] > 0 and thresholds[5] > 0
    # Enroll the 4 new denominations from 5 images, many times over: false alarms average about 5%.
    rng = np.random.default_rng(0)
    rates = []
    for c in range(6, 10):
        emb = x[ids == f"CUR/{c}"]
        for _ in range(50):
            order = rng.permutation(len(emb))
            protos, spread = g.class_model(emb[order[:5]], g.pooled_spread())
            s = pairwise_distances(g.distance, emb[order[5:]], protos).min(1) / spread
            rates.append(np.mean(s > thresholds[5]))
    assert 0.02 < np.mean(rates) < 0.09
    cal = Calibration(kshot_thresholds=thresholds, kshot_methods=methods)
    back = Calibration.from_json(cal.to_json())
    assert back.threshold_for_k(5) == (thresholds[5], "k-shot-simulated")
    assert back.threshold_for_k(30)[0] == thresholds[5]  # beyond the table: the largest simulated k
    assert back.threshold_for_k(3)[0] == thresholds[1]
