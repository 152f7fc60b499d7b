"""Quadruplet loss (Chen et al., CVPR 2017, "Beyond triplet loss").

For anchor a, positive p (a's class) and negatives n1, n2 from two different classes, neither a's:

    [d(a,p) - d(a,n1) + alpha1]+  +  [d(a,p) - d(n1,n2) + alpha2]+,   alpha2 < alpha1.

The first term is the triplet loss. The second pushes distances between *other* classes above the
anchor's within-class distance, which tightens every class and widens every gap, not only those
around the anchor. Here d is the configured distance (squared Euclidean by default), so the paper's
squared distances are used as they are.
"""

from __future__ import annotations

import torch

from banknote_guard.errors import parameter_error
from banknote_guard.model.distances import BaseDistance
from banknote_guard.model.losses.base import BaseMetricLoss, Mining
from banknote_guard.model.losses.triplet import triplet_terms


class QuadrupletLoss(BaseMetricLoss):
    """Quadruplet loss with online mining inside the batch.

    Args:
        margin: alpha1 of the triplet term.
        margin2: alpha2 of the second term, 0 < margin2 < margin.
        mining: ``hard`` (default): per anchor its farthest positive, its nearest negative (first term)
            and the nearest pair of two other, different classes (second term); each term is averaged
            over the anchors that have such tuples. ``all``: every valid (a, p, n) and (a, p, n1, n2),
            each term averaged over its active tuples. ``semihard``: as ``all`` but only tuples whose
            negative distance exceeds d(a, p).
        adaptive_margin: alpha1 = mean negative - mean positive distance of the batch (detached,
            clamped at 0) and alpha2 = alpha1 * margin2 / margin.
        distance: the distance object (squared Euclidean by default).

    The loss is the sum of both terms; a batch without valid tuples gives 0 with a zero gradient.
    """

    def __init__(
        self,
        margin: float = 0.4,
        margin2: float = 0.2,
        *,
        mining: Mining = "hard",
        adaptive_margin: bool = False,
        distance: BaseDistance | None = None,
    ) -> None:
        super().__init__(margin, mining=mining, adaptive_margin=adaptive_margin, distance=distance)
        if not isinstance(margin2, (int, float)) or not 0 < margin2 < self.margin:
            raise parameter_error("margin2", "QuadrupletLoss", f"a float in (0, margin={self.margin})", margin2)
        self.margin2 = float(margin2)

    def compute_loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        dist = self.distance.pairwise(embeddings, embeddings)
        pos, neg = self.masks(labels)
        alpha1 = self.margin_for_batch(dist, pos, neg)
        alpha2 = alpha1 * self.margin2 / self.margin
        # pair_ok[a, l, k]: l and k belong to two different classes, neither of them a's.
        pair_ok = neg[:, :, None] & neg[:, None, :] & neg[None, :, :]

        terms1 = triplet_terms(dist, pos, neg, alpha1, self.mining)
        if self.mining == "hard":
            valid = pos.any(1) & pair_ok.flatten(1).any(1)
            hardest_pos = dist.masked_fill(~pos, float("-inf")).amax(1)
            nearest_pair = dist[None].masked_fill(~pair_ok, float("inf")).flatten(1).amin(1)
            terms2 = torch.relu(hardest_pos[valid] - nearest_pair[valid] + alpha2)
            loss1 = terms1.mean() if terms1.numel() else None
            loss2 = terms2.mean() if terms2.numel() else None
        else:
            parts = []
            for a in range(len(labels)):  # per anchor keeps memory at N^3 instead of N^4
                if not pos[a].any():
                    continue
                d_ap = dist[a][pos[a]][:, None, None]
                d_lk = dist[None]
                mask = pair_ok[a][None].expand(d_ap.shape[0], -1, -1)
                if self.mining == "semihard":
                    mask = mask & (d_lk > d_ap)
                parts.append(torch.relu(d_ap - d_lk + alpha2)[mask])
            terms2 = torch.cat(parts) if parts else dist.new_zeros(0)
            loss1, _ = self.mean_active(terms1)
            loss2, _ = self.mean_active(terms2)
        loss = self.zero(embeddings)
        for part in (loss1, loss2):
            if part is not None:
                loss = loss + part
        self.last_stats = {
            "margin": alpha1,
            "margin2": alpha2,
            "active1": float((terms1 > 0).float().mean()) if terms1.numel() else 0.0,
            "active2": float((terms2 > 0).float().mean()) if terms2.numel() else 0.0,
        }
        return loss
