"""Metric-learning losses (one class per module) and :func:`create_loss`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from banknote_guard.errors import parameter_error
from banknote_guard.model.distances import get_distance
from banknote_guard.model.losses.base import MININGS, BaseMetricLoss
from banknote_guard.model.losses.contrastive import ContrastiveLoss
from banknote_guard.model.losses.quadruplet import QuadrupletLoss
from banknote_guard.model.losses.triplet import TripletLoss

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.model.config import TrainConfig

LOSSES = ("quadruplet", "triplet", "contrastive")

__all__ = ["BaseMetricLoss", "ContrastiveLoss", "LOSSES", "MININGS", "QuadrupletLoss", "TripletLoss", "create_loss"]


def create_loss(config: "TrainConfig") -> BaseMetricLoss:
    """The loss a training configuration asks for (loss, margins, mining, distance of its model)."""
    distance = get_distance(config.model.distance)
    common = {"mining": config.mining, "adaptive_margin": config.adaptive_margin, "distance": distance}
    if config.loss == "quadruplet":
        return QuadrupletLoss(config.margin, config.margin2, **common)
    if config.loss == "triplet":
        return TripletLoss(config.margin, **common)
    if config.loss == "contrastive":
        return ContrastiveLoss(config.margin, **common)
    raise parameter_error("loss", "TrainConfig", "one of " + ", ".join(LOSSES), config.loss)
