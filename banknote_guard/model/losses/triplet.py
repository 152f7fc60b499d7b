"""Triplet loss: d(a, p) + alpha < d(a, n) for anchor a, positive p (same class), negative n."""

from __future__ import annotations

import torch

from banknote_guard.model.losses.base import BaseMetricLoss


def triplet_terms(
    dist: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, margin: float, mining: str
) -> torch.Tensor:
    """The hinge terms [d(a,p) - d(a,n) + margin]+ of the mined triplets (1-D; may be empty).

    ``hard``: one term per anchor that has a positive and a negative (hardest of each); ``all`` and
    ``semihard``: one term per valid (a, p, n), semihard keeping those with d(a, n) > d(a, p).
    """
    if mining == "hard":
        valid = pos.any(1) & neg.any(1)
        hardest_pos = dist.masked_fill(~pos, float("-inf")).amax(1)
        hardest_neg = dist.masked_fill(~neg, float("inf")).amin(1)
        return torch.relu(hardest_pos[valid] - hardest_neg[valid] + margin)
    d_ap = dist[:, :, None]
    d_an = dist[:, None, :]
    mask = pos[:, :, None] & neg[:, None, :]
    if mining == "semihard":
        mask = mask & (d_an > d_ap)
    return torch.relu(d_ap - d_an + margin)[mask]


class TripletLoss(BaseMetricLoss):
    """Triplet margin loss on squared distances (see :class:`BaseMetricLoss` for the arguments).

    ``hard`` mining averages over anchors (batch-hard, Hermans et al. 2017); ``all``/``semihard``
    average over the active triplets. No valid triplet gives a zero loss with a (zero) gradient.
    """

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        dist = self.distance.pairwise(embeddings, embeddings)
        pos, neg = self.masks(labels)
        margin = self.margin_for_batch(dist, pos, neg)
        terms = triplet_terms(dist, pos, neg, margin, self.mining)
        if self.mining == "hard":
            loss = terms.mean() if terms.numel() else None
            active = float((terms > 0).float().mean()) if terms.numel() else 0.0
        else:
            loss, active = self.mean_active(terms)
        self.last_stats = {"margin": margin, "active": active}
        return self.zero(embeddings) if loss is None else loss + self.zero(embeddings)
