from __future__ import annotations

import numpy as np
import pytest

from banknote_guard.errors import NotFittedError, ParameterError
from banknote_guard.verify.gallery import Gallery, pairwise_distances


def test_fit_returns_self_and_learns_centroids(blobs) -> None:
    x, ids, centres = blobs
    g = Gallery()
    assert g.fit(x, ids) is g
    assert g.classes_ == sorted(set(ids))
    assert g.centroids_.shape == (4, x.shape[1])
    assert np.all(g.counts_ == 40)
    assert np.all(g.spreads_ > 0)
    # Centroids lie near the true centres (up to the normalisation of the samples).
    for i, c in enumerate(g.classes_):
        true = centres[int(c.split("/")[1])]
        assert np.linalg.norm(g.centroids_[i] / np.linalg.norm(g.centroids_[i]) - true) < 0.1


def test_scores_pick_the_right_class_and_rise_with_distance(blobs) -> None:
    x, ids, _ = blobs
    g = Gallery().fit(x, ids)
    best, score, d = g.scores(x)
    assert [g.classes_[b] for b in best] == ids
    assert d.shape == (len(x), 4)
    # Genuine scores are about 1 (the spread is the median distance); a point shifted away scores higher.
    assert 0.5 < np.median(score) < 1.5
    far = x[:1] + 0.5
    assert g.scores(far)[1][0] > 5 * np.median(score)


def test_pairwise_distances_match_a_loop() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    sq = pairwise_distances("sqeuclidean", a, b)
    cos = pairwise_distances("cosine", a, b)
    for i in range(5):
        for j in range(4):
            assert sq[i, j] == pytest.approx(np.sum((a[i] - b[j]) ** 2))
            assert cos[i, j] == pytest.approx(1 - a[i] @ b[j] / np.linalg.norm(a[i]) / np.linalg.norm(b[j]))


def test_not_fitted_and_bad_parameters() -> None:
    with pytest.raises(NotFittedError):
        Gallery().distances(np.zeros((1, 3)))
    with pytest.raises(ParameterError, match="'distance' parameter of Gallery"):
        Gallery(distance="manhattan").fit(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(ParameterError):
        Gallery().fit(np.zeros((2, 3)), ["a"])


def test_enrolling_a_new_blob_from_five_points_classifies_it(blob_maker) -> None:
    x, ids, _ = blob_maker(n_classes=5, per_class=60, seed=3)
    train = np.array([i != "CUR/4" for i in ids])
    g = Gallery().fit(x[train], [i for i, t in zip(ids, train) if t])
    new = x[~train]
    source = g.add_class("CUR/4", new[:5])
    assert source == "in-sample"
    best, score, _ = g.scores(new[5:])
    assert all(g.classes_[b] == "CUR/4" for b in best)
    # The small-sample correction keeps the new class's scores on the scale of the trained ones.
    assert 0.4 < np.median(score) < 2.5


def test_single_image_class_takes_the_pooled_spread(blobs) -> None:
    x, ids, _ = blobs
    g = Gallery().fit(x, ids)
    pooled = g.pooled_spread()
    assert g.add_class("NEW/1", x[:1] + 0.3) == "pooled"
    assert g.spreads_[-1] == pytest.approx(2 * pooled)
    assert "NEW/1" in g.classes_


def test_refresh_replaces_a_class_and_its_reference_set(blobs) -> None:
    x, ids, _ = blobs
    g = Gallery().fit(x, ids)
    n_ref = len(g.reference_labels_)
    g.add_class("CUR/0", x[:3])
    assert g.counts_[0] == 3
    assert len(g.classes_) == 4
    assert len(g.reference_labels_) == n_ref - 40 + 3


def test_heldout_spreads_replace_in_sample_ones(blob_maker) -> None:
    x, ids, _ = blob_maker(per_class=80, seed=5)
    g = Gallery().fit(x[::2], ids[::2])
    g.set_heldout_spreads(x[1::2], ids[1::2])
    assert g.spread_sources_ == ["held-out"] * 4
    _, score, _ = g.scores(x[1::2])
    assert np.median(score) == pytest.approx(1.0, abs=0.1)


def test_round_trip_through_arrays(blobs) -> None:
    x, ids, _ = blobs
    g = Gallery(distance="cosine").fit(x, ids)
    arrays, meta = g.to_arrays()
    h = Gallery.from_arrays(arrays, meta)
    np.testing.assert_array_equal(g.scores(x)[1], h.scores(x)[1])


def test_two_sided_class_gets_two_prototypes(blob_maker) -> None:
    # Each "denomination" has two sides: two far-apart sub-blobs. A one-blob class keeps one prototype.
    x, ids, _ = blob_maker(n_classes=6, per_class=30, seed=11)
    two_sided = np.concatenate([x[:30], x[30:60]])  # classes 0 and 1 become the two sides of "TWO/1"
    g = Gallery().fit(np.concatenate([two_sided, x[60:]]), ["TWO/1"] * 60 + ids[60:])
    assert g.n_prototypes_[g.classes_.index("TWO/1")] == 2
    assert g.n_prototypes_[g.classes_.index("CUR/2")] == 1
    # k-shot: 3 + 2 images of the two sides still recognise every other image of both sides.
    h = Gallery().fit(x[60:], ids[60:])
    h.add_class("TWO/1", np.concatenate([x[:3], x[30:32]]))
    best, score, _ = h.scores(two_sided)
    assert all(h.classes_[b] == "TWO/1" for b in best)
    single = Gallery(max_prototypes=1).fit(x[60:], ids[60:])
    single.add_class("TWO/1", np.concatenate([x[:3], x[30:32]]))
    # A point between the two sides is like neither; one centroid would sit right on it.
    middle = two_sided.mean(0, keepdims=True)
    assert single.scores(middle)[1][0] < 0.5
    assert h.scores(middle)[1][0] > 3.0
    back = Gallery.from_arrays(*h.to_arrays())
    np.testing.assert_array_equal(back.scores(two_sided)[1], score)
