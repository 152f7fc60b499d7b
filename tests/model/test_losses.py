"""Each loss against a slow, obvious Python loop; edge cases; gradients; mining."""

from __future__ import annotations

import itertools

import pytest
import torch

from banknote_guard.errors import ParameterError
from banknote_guard.model.config import TrainConfig
from banknote_guard.model.distances import Cosine, SquaredEuclidean
from banknote_guard.model.losses import ContrastiveLoss, QuadrupletLoss, TripletLoss, create_loss

MININGS = ["hard", "semihard", "all"]


def d(e: torch.Tensor, i: int, j: int, dist: str) -> float:
    a, b = e[i].double(), e[j].double()
    if dist == "sqeuclidean":
        return float(((a - b) ** 2).sum())
    return float(1 - (a @ b) / (a.norm() * b.norm()))


def batch(seed: int = 0, n_classes: int = 4, per_class: int = 3, dim: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    emb = torch.nn.functional.normalize(torch.randn(n_classes * per_class, dim, generator=g), dim=1)
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    perm = torch.randperm(len(labels), generator=g)
    return emb[perm], labels[perm]


def mean_active(terms: list[float]) -> float:
    active = [t for t in terms if t > 0]
    return sum(active) / len(active) if active else 0.0


def relu(v: float) -> float:
    return max(0.0, v)


def brute_triplet(e: torch.Tensor, y: torch.Tensor, m: float, mining: str, dist: str) -> float:
    n = len(y)
    if mining == "hard":
        terms = []
        for a in range(n):
            pos = [d(e, a, p, dist) for p in range(n) if p != a and y[p] == y[a]]
            neg = [d(e, a, k, dist) for k in range(n) if y[k] != y[a]]
            if pos and neg:
                terms.append(relu(max(pos) - min(neg) + m))
        return sum(terms) / len(terms) if terms else 0.0
    terms = []
    for a, p, k in itertools.product(range(n), repeat=3):
        if p == a or y[p] != y[a] or y[k] == y[a]:
            continue
        dap, dan = d(e, a, p, dist), d(e, a, k, dist)
        if mining == "semihard" and not dan > dap:
            continue
        terms.append(relu(dap - dan + m))
    return mean_active(terms)


def brute_quadruplet(e: torch.Tensor, y: torch.Tensor, m1: float, m2: float, mining: str, dist: str) -> float:
    n = len(y)
    term1 = brute_triplet(e, y, m1, mining, dist)
    if mining == "hard":
        terms = []
        for a in range(n):
            pos = [d(e, a, p, dist) for p in range(n) if p != a and y[p] == y[a]]
            pairs = [d(e, l, k, dist) for l in range(n) for k in range(n)
                     if y[l] != y[a] and y[k] != y[a] and y[l] != y[k]]
            if pos and pairs:
                terms.append(relu(max(pos) - min(pairs) + m2))
        return term1 + (sum(terms) / len(terms) if terms else 0.0)
    terms = []
    for a, p in itertools.product(range(n), repeat=2):
        if p == a or y[p] != y[a]:
            continue
        dap = d(e, a, p, dist)
        for l, k in itertools.product(range(n), repeat=2):
            if y[l] == y[a] or y[k] == y[a] or y[l] == y[k]:
                continue
            dlk = d(e, l, k, dist)
            if mining == "semihard" and not dlk > dap:
                continue
            terms.append(relu(dap - dlk + m2))
    return term1 + mean_active(terms)


def brute_contrastive(e: torch.Tensor, y: torch.Tensor, m: float, mining: str, dist: str) -> float:
    n = len(y)
    if mining == "hard":
        pos_t, neg_t = [], []
        for a in range(n):
            pos = [d(e, a, p, dist) for p in range(n) if p != a and y[p] == y[a]]
            neg = [d(e, a, k, dist) for k in range(n) if y[k] != y[a]]
            if pos:
                pos_t.append(max(pos))
            if neg:
                neg_t.append(relu(m - min(neg)))
        return (sum(pos_t) / len(pos_t) if pos_t else 0.0) + (sum(neg_t) / len(neg_t) if neg_t else 0.0)
    pos_t = [d(e, i, j, dist) for i in range(n) for j in range(n) if i != j and y[i] == y[j]]
    neg_t = [relu(m - d(e, i, j, dist)) for i in range(n) for j in range(n) if y[i] != y[j]]
    return mean_active(pos_t) + mean_active(neg_t)


DIST = {"sqeuclidean": SquaredEuclidean, "cosine": Cosine}


@pytest.mark.parametrize("mining", MININGS)
@pytest.mark.parametrize("dist", ["sqeuclidean", "cosine"])
@pytest.mark.parametrize("seed", [0, 1])
def test_triplet_matches_brute_force(mining: str, dist: str, seed: int) -> None:
    e, y = batch(seed)
    loss = TripletLoss(0.3, mining=mining, distance=DIST[dist]())(e, y)
    assert torch.isclose(loss.double(), torch.tensor(brute_triplet(e, y, 0.3, mining, dist), dtype=torch.float64), atol=1e-5)


@pytest.mark.parametrize("mining", MININGS)
@pytest.mark.parametrize("dist", ["sqeuclidean", "cosine"])
@pytest.mark.parametrize("seed", [0, 1])
def test_quadruplet_matches_brute_force(mining: str, dist: str, seed: int) -> None:
    e, y = batch(seed, n_classes=4, per_class=2)
    loss = QuadrupletLoss(0.4, 0.2, mining=mining, distance=DIST[dist]())(e, y)
    expected = brute_quadruplet(e, y, 0.4, 0.2, mining, dist)
    assert expected > 0
    assert torch.isclose(loss.double(), torch.tensor(expected, dtype=torch.float64), atol=1e-5)


@pytest.mark.parametrize("mining", MININGS)
@pytest.mark.parametrize("dist", ["sqeuclidean", "cosine"])
def test_contrastive_matches_brute_force(mining: str, dist: str) -> None:
    e, y = batch(3)
    loss = ContrastiveLoss(0.8, mining=mining, distance=DIST[dist]())(e, y)
    assert torch.isclose(loss.double(), torch.tensor(brute_contrastive(e, y, 0.8, mining, dist), dtype=torch.float64), atol=1e-5)


def test_quadruplet_adaptive_margin_uses_batch_statistics() -> None:
    e, y = batch(4, n_classes=3, per_class=3)
    n = len(y)
    pos = [d(e, i, j, "sqeuclidean") for i in range(n) for j in range(n) if i != j and y[i] == y[j]]
    neg = [d(e, i, j, "sqeuclidean") for i in range(n) for j in range(n) if y[i] != y[j]]
    alpha1 = max(0.0, sum(neg) / len(neg) - sum(pos) / len(pos))
    loss_fn = QuadrupletLoss(0.4, 0.1, adaptive_margin=True, mining="hard")
    loss = loss_fn(e, y)
    assert loss_fn.last_stats["margin"] == pytest.approx(alpha1, abs=1e-5)
    assert loss_fn.last_stats["margin2"] == pytest.approx(alpha1 / 4, abs=1e-5)
    expected = brute_quadruplet(e, y, alpha1, alpha1 / 4, "hard", "sqeuclidean")
    assert float(loss) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("cls", [TripletLoss, QuadrupletLoss, ContrastiveLoss])
@pytest.mark.parametrize("mining", MININGS)
def test_backward_gives_finite_nonzero_gradients(cls: type, mining: str) -> None:
    e, y = batch(5)
    e = e.clone().requires_grad_(True)
    loss = cls(mining=mining)(e, y)
    loss.backward()
    assert e.grad is not None and torch.isfinite(e.grad).all() and e.grad.abs().sum() > 0


@pytest.mark.parametrize("cls", [TripletLoss, QuadrupletLoss])
@pytest.mark.parametrize("mining", MININGS)
def test_no_valid_tuples_gives_zero_with_gradient(cls: type, mining: str) -> None:
    # One class only: no negatives at all.
    e = torch.randn(4, 3, requires_grad=True)
    loss = cls(mining=mining)(e, torch.zeros(4, dtype=torch.long))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert e.grad is not None and torch.equal(e.grad, torch.zeros_like(e))


@pytest.mark.parametrize("mining", MININGS)
def test_quadruplet_needs_three_classes_for_second_term(mining: str) -> None:
    # Two classes: triplets exist, but no pair of two *other* classes, so only the first term counts.
    e, y = batch(6, n_classes=2, per_class=3)
    quad = QuadrupletLoss(0.4, 0.2, mining=mining)(e, y)
    trip = TripletLoss(0.4, mining=mining)(e, y)
    assert torch.isclose(quad, trip, atol=1e-6)


def test_singletons_have_no_positive_pairs() -> None:
    e = torch.randn(3, 4, requires_grad=True)
    y = torch.tensor([0, 1, 2])
    for loss_fn in (TripletLoss(), QuadrupletLoss(), ContrastiveLoss()):
        loss = loss_fn(e, y)
        loss.backward()
    assert float(TripletLoss()(e, y).detach()) == 0.0 and float(QuadrupletLoss()(e, y).detach()) == 0.0


def test_hard_mining_picks_hardest_tuples() -> None:
    # Anchor 0 (class 0): positives at squared distance 1 (idx 1) and 4 (idx 2);
    # negatives at 9 (idx 3), 2.25 (idx 4), 2.5 (idx 5). Class 1 = {3, 5}, class 2 = {4, 6}.
    e = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [0.0, -3.0], [-1.5, 0.0], [-1.5, 0.5], [-1.5, -0.2]])
    y = torch.tensor([0, 0, 0, 1, 2, 1, 2])
    n = len(y)
    dist = SquaredEuclidean().pairwise(e, e)
    idx = torch.arange(n)
    trip_terms, quad_terms = [], []
    for a in range(n):
        pos = dist[a][(y == y[a]) & (idx != a)]
        neg = dist[a][y != y[a]]
        pairs = [float(dist[l, k]) for l in range(n) for k in range(n) if len({int(y[a]), int(y[l]), int(y[k])}) == 3]
        trip_terms.append(max(0.0, float(pos.max() - neg.min() + 10.0)))
        quad_terms.append(max(0.0, float(pos.max()) - min(pairs) + 5.0))
    # Anchor 0: farthest positive is idx 2 (4.0), nearest negative idx 4 (2.25),
    # nearest pair of classes 1 and 2 is (5, 4) at 0.25.
    assert trip_terms[0] == pytest.approx(4.0 - 2.25 + 10.0)
    assert quad_terms[0] == pytest.approx(4.0 - 0.25 + 5.0)
    trip = TripletLoss(margin=10.0, mining="hard")
    assert float(trip(e, y)) == pytest.approx(sum(trip_terms) / n, abs=1e-5)
    quad = QuadrupletLoss(margin=10.0, margin2=5.0, mining="hard")
    expected = sum(trip_terms) / n + sum(quad_terms) / n
    assert float(quad(e, y)) == pytest.approx(expected, abs=1e-5)
    # Hard mining differs from averaging every tuple.
    assert float(TripletLoss(margin=10.0, mining="all")(e, y)) < float(trip(e, y))


def test_all_mining_ignores_inactive_tuples() -> None:
    # Well separated classes: every term is 0, so the loss is exactly 0.
    e = torch.tensor([[0.0, 0.0], [0.01, 0.0], [5.0, 0.0], [5.01, 0.0], [0.0, 5.0], [0.0, 5.01]])
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    for mining in MININGS:
        assert float(QuadrupletLoss(0.4, 0.2, mining=mining)(e, y)) == 0.0


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(ParameterError, match="margin2"):
        QuadrupletLoss(0.2, 0.3)
    with pytest.raises(ParameterError, match="margin"):
        TripletLoss(-1.0)
    with pytest.raises(ParameterError, match="mining"):
        TripletLoss(mining="random")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="labels"):
        TripletLoss()(torch.randn(4, 2), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ParameterError, match="embeddings"):
        TripletLoss()(torch.randn(4), torch.zeros(4, dtype=torch.long))


@pytest.mark.parametrize("name,cls", [("quadruplet", QuadrupletLoss), ("triplet", TripletLoss), ("contrastive", ContrastiveLoss)])
def test_create_loss_follows_config(name: str, cls: type) -> None:
    config = TrainConfig(loss=name, margin=0.5, margin2=0.1, mining="all")  # type: ignore[arg-type]
    config.model.distance = "cosine"
    loss = create_loss(config)
    assert isinstance(loss, cls) and loss.margin == 0.5 and loss.mining == "all"
    assert isinstance(loss.distance, Cosine)
    with pytest.raises(ParameterError):
        create_loss(TrainConfig(loss="nope"))  # type: ignore[arg-type]
