"""Contrastive loss on pairs: pull same-class pairs together, push other pairs beyond a margin."""

from __future__ import annotations

import torch

from banknote_guard.errors import parameter_error
from banknote_guard.model.distances import BaseDistance
from banknote_guard.model.losses.base import BaseMetricLoss, Mining


class ContrastiveLoss(BaseMetricLoss):
    """Contrastive loss (Hadsell et al. 2006) on the configured distance.

    A positive pair costs [d - pos_margin]+, a negative pair [margin - d]+. ``all`` (and ``semihard``,
    which is the same for pairs) averages the active positive terms and the active negative terms and
    adds the two means; ``hard`` takes each anchor's farthest positive and nearest negative.

    Args:
        margin: negative margin: different classes should be at least this far apart.
        pos_margin: same-class pairs closer than this cost nothing (default 0).
        mining, adaptive_margin, distance: see :class:`BaseMetricLoss`.
    """

    def __init__(
        self,
        margin: float = 0.4,
        *,
        pos_margin: float = 0.0,
        mining: Mining = "hard",
        adaptive_margin: bool = False,
        distance: BaseDistance | None = None,
    ) -> None:
        super().__init__(margin, mining=mining, adaptive_margin=adaptive_margin, distance=distance)
        if not isinstance(pos_margin, (int, float)) or not 0 <= pos_margin < self.margin:
            raise parameter_error("pos_margin", "ContrastiveLoss", f"a float in [0, margin={self.margin})", pos_margin)
        self.pos_margin = float(pos_margin)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        dist = self.distance.pairwise(embeddings, embeddings)
        pos, neg = self.masks(labels)
        margin = self.margin_for_batch(dist, pos, neg)
        if self.mining == "hard":
            has_pos, has_neg = pos.any(1), neg.any(1)
            hardest_pos = dist.masked_fill(~pos, float("-inf")).amax(1)[has_pos]
            hardest_neg = dist.masked_fill(~neg, float("inf")).amin(1)[has_neg]
            pos_terms = torch.relu(hardest_pos - self.pos_margin)
            neg_terms = torch.relu(margin - hardest_neg)
            pos_loss = pos_terms.mean() if pos_terms.numel() else None
            neg_loss = neg_terms.mean() if neg_terms.numel() else None
        else:
            pos_loss, _ = self.mean_active(torch.relu(dist[pos] - self.pos_margin))
            neg_loss, _ = self.mean_active(torch.relu(margin - dist[neg]))
        loss = self.zero(embeddings)
        for part in (pos_loss, neg_loss):
            if part is not None:
                loss = loss + part
        self.last_stats = {"margin": margin}
        return loss
