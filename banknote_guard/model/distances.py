"""Distances between embeddings, as swappable objects (torch for training, numpy for verification).

``SquaredEuclidean`` is the default: ||a - b||², in [0, 4] for L2-normalised embeddings. ``Cosine`` is
1 - cos(a, b), in [0, 2]. For normalised embeddings the two are proportional (||a - b||² = 2 (1 - cos)).
"""

from __future__ import annotations

import numpy as np
import torch

from banknote_guard.errors import parameter_error


class BaseDistance:
    """A distance: ``pairwise(a, b)`` gives the (N, M) matrix between rows of a (N, D) and b (M, D)."""

    name: str = ""

    def pairwise(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        return self.pairwise(a, a if b is None else b)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SquaredEuclidean(BaseDistance):
    """||a - b||², computed as ||a||² + ||b||² - 2 a·b and clamped at 0."""

    name = "sqeuclidean"

    def pairwise(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a2 = (a * a).sum(dim=1, keepdim=True)
        b2 = (b * b).sum(dim=1, keepdim=True).T
        return (a2 + b2 - 2.0 * a @ b.T).clamp_min(0.0)


class Cosine(BaseDistance):
    """1 - cos(a, b); vectors need not be normalised."""

    name = "cosine"

    def pairwise(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        an = torch.nn.functional.normalize(a, dim=1, eps=1e-12)
        bn = torch.nn.functional.normalize(b, dim=1, eps=1e-12)
        return (1.0 - an @ bn.T).clamp_min(0.0)


DISTANCES: dict[str, type[BaseDistance]] = {"sqeuclidean": SquaredEuclidean, "cosine": Cosine}


def get_distance(name: str) -> BaseDistance:
    """A distance object by name ("sqeuclidean" or "cosine")."""
    try:
        return DISTANCES[name]()
    except KeyError:
        raise parameter_error("distance", "get_distance", "one of " + ", ".join(DISTANCES), name) from None


def pairwise_numpy(name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The same distances in numpy (float32 in, float32 out) for code that has no tensors.

    Args:
        name: "sqeuclidean" or "cosine".
        a: (N, D) array; a single (D,) vector is treated as (1, D).
        b: (M, D) array; likewise.

    Returns:
        (N, M) float32 array.
    """
    a = np.atleast_2d(np.asarray(a, dtype=np.float32))
    b = np.atleast_2d(np.asarray(b, dtype=np.float32))
    if name == "sqeuclidean":
        d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
        return np.maximum(d, 0.0).astype(np.float32, copy=False)
    if name == "cosine":
        an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return np.maximum(1.0 - an @ bn.T, 0.0).astype(np.float32, copy=False)
    raise parameter_error("distance", "pairwise_numpy", "one of " + ", ".join(DISTANCES), name)
