"""The counterfeit head: a counterfeit direction in the embedding, fitted on training notes, stored
without pickling, checked at load, added to the distance score and calibrated with it."""

from __future__ import annotations

import numpy as np
import pytest

from banknote_guard.errors import ModelFileError
from banknote_guard.evaluation.metrics import roc_auc
from banknote_guard.verify.bundle import ModelBundle
from banknote_guard.verify.counterfeit_head import CounterfeitHead, fit_head, head_bonus


def _embeddings(rng: np.random.Generator, n: int, dim: int = 16, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Notes of 3 denominations around their centres; ``shift`` moves them along one common direction
    (as counterfeits of every denomination move), by less than the genuine spread."""
    centres = np.eye(dim)[:3] * 4.0
    direction = np.zeros(dim)
    direction[-1] = 1.0
    labels = rng.integers(0, 3, n)
    x = centres[labels] + rng.normal(0, 1.0, (n, dim)) + shift * direction
    return x.astype(np.float32), labels


def test_the_head_finds_the_common_counterfeit_direction_that_a_distance_barely_sees() -> None:
    rng = np.random.default_rng(0)
    g_tr, _ = _embeddings(rng, 120)
    c_tr, _ = _embeddings(rng, 60, shift=2.5)
    ref, _ = _embeddings(rng, 40)
    head = fit_head(np.concatenate([g_tr, c_tr]), np.r_[np.ones(120, bool), np.zeros(60, bool)], ref)
    assert head is not None and head.reference == "held-out"
    g_te, lg = _embeddings(rng, 200)
    c_te, lc = _embeddings(rng, 200, shift=2.5)
    centres = np.eye(16)[:3] * 4.0
    dist = np.r_[np.linalg.norm(g_te - centres[lg], axis=1), np.linalg.norm(c_te - centres[lc], axis=1)]
    dist /= np.median(dist[:200])  # distance / spread, as the model scores
    y = np.r_[np.zeros(200), np.ones(200)]
    bonus = head.bonus(np.concatenate([g_te, c_te]))
    assert roc_auc(y, dist) < 0.8  # the distance to the centre tells them apart poorly
    assert roc_auc(y, dist + bonus) > roc_auc(y, dist) + 0.1  # the head does
    z = head.z(g_te)
    assert abs(np.median(z)) < 0.3  # standardised on genuine notes: a typical one is at 0 ...
    assert np.all(bonus >= 0) and np.mean(bonus[:200] == 0) > 0.65  # ... and most get nothing added
    nan = np.full((1, 16), np.nan, np.float32)
    assert np.isnan(head.bonus(nan)).all()  # a broken embedding stays broken (the verdict fails closed)


def test_no_head_without_enough_counterfeits_and_a_small_reference_falls_back_to_training_notes() -> None:
    rng = np.random.default_rng(1)
    g, _ = _embeddings(rng, 50)
    c, _ = _embeddings(rng, 9, shift=2.0)
    assert fit_head(np.concatenate([g, c]), np.r_[np.ones(50, bool), np.zeros(9, bool)]) is None
    c, _ = _embeddings(rng, 20, shift=2.0)
    head = fit_head(np.concatenate([g, c]), np.r_[np.ones(50, bool), np.zeros(20, bool)], g[:3])
    assert head is not None and head.reference == "training"


def test_the_head_round_trips_and_a_damaged_head_is_refused(tiny_bundle, tmp_path) -> None:
    rng = np.random.default_rng(2)
    dim = tiny_bundle.gallery.centroids_.shape[1]
    head = CounterfeitHead(weights=rng.normal(size=dim).astype(np.float32), bias=0.3, centre=-0.2, spread=0.7)
    tiny_bundle.counterfeit_head = head
    x = rng.normal(size=(5, dim)).astype(np.float32)
    loaded = ModelBundle.load(tiny_bundle.save(tmp_path / "m.bgm"))
    assert loaded.describe()["counterfeit_head"] is True
    assert np.allclose(head_bonus(loaded, x), head.bonus(x))
    arrays, meta = head.to_arrays()
    for bad_arrays, bad_meta, what in (
        ({"weights": arrays["weights"][:-1]}, meta, "one weight per embedding dimension"),
        ({"weights": np.full(dim, np.nan, np.float32)}, meta, "not numbers"),
        (arrays, {**meta, "spread": 0.0}, "out of range"),
        (arrays, {**meta, "spread": float("nan")}, "out of range"),
        (arrays, {**meta, "version": 99}, "unknown layout"),
        (arrays, {k: v for k, v in meta.items() if k != "bias"}, "missing a number"),
    ):
        with pytest.raises(ModelFileError, match=what):
            CounterfeitHead.from_arrays(bad_arrays, bad_meta, dim, "m.bgm")
    tiny_bundle.counterfeit_head = None
    assert head_bonus(tiny_bundle, x).tolist() == [0.0] * 5


def test_training_with_counterfeits_fits_a_head_and_calibrates_on_its_score(tmp_path) -> None:
    """build_bundle fits the head on the training notes and sets thresholds on distance + head, so that
    genuine held-out notes stay within the false-alarm rate while the verifier scores with the head."""
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.verify.calibration import CalibrationConfig
    from banknote_guard.verify.verifier import Verifier
    from banknote_guard.workflows.training import build_bundle
    from tests.conftest import tiny_net, write_pattern_dataset

    records = write_pattern_dataset(tmp_path / "data", genuine=12, counterfeit=8)
    net, cfg = tiny_net()
    train = [r for i, r in enumerate(records) if i % 4 != 3]
    val = [r for i, r in enumerate(records) if i % 4 == 3]
    bundle, _ = build_bundle(net, cfg, TrainConfig(model=cfg), train, val,
                             calibration=CalibrationConfig(false_alarm_rate=0.05))
    head = bundle.counterfeit_head
    assert head is not None and bundle.describe()["counterfeit_head"] is True
    results = Verifier(bundle).verify_paths([r.path for r in val])
    by_path = {r.path: r for r in results}
    for rec in val:
        res = by_path[str(rec.path)]
        assert res.ok
        # the global score is the distance score plus the head's share (never less than the distance)
        dist = res.distances[res.denomination] / bundle.gallery.spreads_[bundle.gallery.classes_.index(res.denomination)]
        assert res.global_score >= dist - 1e-6
    genuine = [by_path[str(r.path)] for r in val if r.is_genuine]
    assert sum(r.verdict == "suspect" for r in genuine) <= max(1, round(0.2 * len(genuine)))
