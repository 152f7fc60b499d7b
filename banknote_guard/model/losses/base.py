"""Shared work of the metric-learning losses: checks, masks, margins and the "no valid tuple" case."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from banknote_guard.errors import parameter_error
from banknote_guard.model.distances import BaseDistance, SquaredEuclidean

Mining = Literal["hard", "semihard", "all"]
MININGS: tuple[str, ...] = ("hard", "semihard", "all")


class BaseMetricLoss(nn.Module):
    """Base class: ``forward(embeddings, labels)`` checks shapes, then calls :meth:`compute_loss`.

    Args:
        margin: the (first) margin alpha1, > 0. Distances are those of ``distance`` (squared Euclidean
            by default), so the margin is in squared units.
        mining: which tuples of the batch count:
            ``"hard"`` (default) - per anchor, its hardest positive and hardest negative(s) only;
            ``"semihard"`` - every tuple whose negative is farther than the positive (FaceNet's
            semi-hard tuples once the hinge drops the easy ones), averaged over the active ones;
            ``"all"`` - every valid tuple, averaged over the active (non-zero) ones.
        adaptive_margin: replace alpha1 by the batch's mean negative distance minus its mean positive
            distance (detached, at least 0), as Chen et al. (2017) do.
        distance: a :class:`~banknote_guard.model.distances.BaseDistance`.

    After each call ``last_stats`` holds a few numbers for logging (active fraction, margins used).
    """

    def __init__(
        self,
        margin: float = 0.4,
        *,
        mining: Mining = "hard",
        adaptive_margin: bool = False,
        distance: BaseDistance | None = None,
    ) -> None:
        super().__init__()
        owner = type(self).__name__
        if not isinstance(margin, (int, float)) or not margin > 0 or margin != margin:
            raise parameter_error("margin", owner, "a float in (0, inf)", margin)
        if mining not in MININGS:
            raise parameter_error("mining", owner, "one of " + ", ".join(MININGS), mining)
        self.margin = float(margin)
        self.mining = mining
        self.adaptive_margin = bool(adaptive_margin)
        self.distance = distance if distance is not None else SquaredEuclidean()
        self.last_stats: dict[str, float] = {}

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Loss of a batch: embeddings (N, D) float, labels (N,) integer class ids."""
        owner = type(self).__name__
        if not isinstance(embeddings, torch.Tensor) or embeddings.ndim != 2:
            raise parameter_error("embeddings", owner, "a 2-D tensor (N, D)", getattr(embeddings, "shape", embeddings))
        labels = torch.as_tensor(labels, device=embeddings.device)
        if labels.ndim != 1 or labels.shape[0] != embeddings.shape[0]:
            raise parameter_error(
                "labels", owner, f"a 1-D tensor of length {embeddings.shape[0]}", tuple(labels.shape)
            )
        if labels.dtype.is_floating_point:
            raise parameter_error("labels", owner, "integer class ids", labels.dtype)
        return self.compute_loss(embeddings.float(), labels)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The loss of one batch (subclasses implement)."""
        raise NotImplementedError

    # --- helpers for subclasses ---------------------------------------------------------------

    @staticmethod
    def masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(positive, negative) boolean (N, N) masks; the diagonal is neither."""
        same = labels[:, None] == labels[None, :]
        eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        return same & ~eye, ~same

    def margin_for_batch(self, dist: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> float:
        """alpha1: the fixed margin, or the adaptive one from this batch's distances."""
        if not self.adaptive_margin or not pos.any() or not neg.any():
            return self.margin
        with torch.no_grad():
            return float((dist[neg].mean() - dist[pos].mean()).clamp_min(0.0))

    @staticmethod
    def zero(embeddings: torch.Tensor) -> torch.Tensor:
        """A zero loss that still has a gradient path (all zeros) to the embeddings."""
        return (embeddings * 0.0).sum()

    @staticmethod
    def mean_active(values: torch.Tensor) -> tuple[torch.Tensor | None, float]:
        """Mean of the positive entries of a 1-D tensor (None if none), and the active fraction."""
        if values.numel() == 0:
            return None, 0.0
        active = values > 0
        n = int(active.sum())
        if n == 0:
            return None, 0.0
        return values[active].mean(), n / values.numel()

    def extra_repr(self) -> str:
        return f"margin={self.margin}, mining={self.mining!r}, adaptive_margin={self.adaptive_margin}, distance={self.distance}"
