"""Distances: torch and numpy twins agree with the definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from banknote_guard.errors import ParameterError
from banknote_guard.model.distances import Cosine, SquaredEuclidean, get_distance, pairwise_numpy


def test_squared_euclidean_matches_definition() -> None:
    a, b = torch.randn(5, 3), torch.randn(4, 3)
    expected = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    assert torch.allclose(SquaredEuclidean().pairwise(a, b), expected, atol=1e-5)
    assert torch.allclose(get_distance("sqeuclidean")(a), SquaredEuclidean().pairwise(a, a))


def test_cosine_matches_definition_and_ignores_length() -> None:
    a, b = torch.randn(5, 3), torch.randn(4, 3)
    expected = 1 - torch.nn.functional.cosine_similarity(a[:, None, :], b[None, :, :], dim=-1)
    assert torch.allclose(Cosine().pairwise(a, b), expected, atol=1e-5)
    assert torch.allclose(Cosine().pairwise(3 * a, b), expected, atol=1e-5)


@pytest.mark.parametrize("name", ["sqeuclidean", "cosine"])
def test_numpy_twin_agrees_with_torch(name: str) -> None:
    a, b = np.random.default_rng(0).normal(size=(6, 8)), np.random.default_rng(1).normal(size=(3, 8))
    t = get_distance(name).pairwise(torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32))
    n = pairwise_numpy(name, a, b)
    assert n.dtype == np.float32 and n.shape == (6, 3)
    assert np.allclose(n, t.numpy(), atol=1e-5)
    assert pairwise_numpy(name, a[0], b).shape == (1, 3)


def test_unknown_distance_lists_known_names() -> None:
    with pytest.raises(ParameterError, match="sqeuclidean"):
        get_distance("manhattan")
    with pytest.raises(ParameterError, match="cosine"):
        pairwise_numpy("manhattan", np.zeros((1, 2)), np.zeros((1, 2)))
