"""Typed configuration of the embedding network and of training.

The GUI builds its training form from :class:`TrainConfig` (field names, defaults and the ``help``
metadata are its tooltips); the CLI builds ``train`` flags from it. Fields may be added, never renamed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

LossName = Literal["quadruplet", "triplet", "contrastive"]
DistanceName = Literal["sqeuclidean", "cosine"]


def _f(default: Any, help: str, **extra: Any) -> Any:  # noqa: A002 - "help" reads best here
    return field(default=default, metadata={"help": help, **extra})


@dataclass
class ModelConfig:
    """Everything needed to rebuild the embedding network (and its input preprocessing) from weights.

    Two views of a note (see :mod:`banknote_guard.model.network`):

    * the global view, ``image_height`` x ``image_width`` (default 128 x 256): layout, colour, gamut;
    * the texture branch (``detail_patches > 0``, off by default, ``--detail-patches 8`` turns it on):
      ``detail_patches`` square patches
      of ``detail_patch_size`` = 48 px cut from the note rectified at ``detail_height`` x
      ``detail_width`` = 256 x 512, about the capture's own resolution (notes ~640 px wide in the
      photo), where inkjet halftone dots, toner speckle and softened fine lines (1-2 px) still exist;
      the 2x area downscale to the global view averages them away. 512 px is the width the note finder
      already rectifies to, so preparing a note costs the same as before; a 256 x 512 x 3 note is
      393 KB in the training cache (about 400 MB for 1,000 images).

    Cost, measured on one CPU thread (``benchmarks/train_speed.py``; CPU time, not wall): network
    inference 11 ms per note with the branch at 128 x 256 (8 ms without), training about 44 ms per image
    (24 ms without); at 96 x 192 the figures are 8 / 39 ms (3 / 12 ms without). The default stays
    128 x 256 so that the global view is the one the network had before the branch existed.

    Quality, measured (synthetic hard notes, train 480 images seed 3, test 480 images seed 4, 6 epochs,
    test ROC AUC of counterfeit vs genuine): 128 x 256 without the branch 0.632, with it 0.650; 96 x 192
    0.649 / 0.653. Within noise: on these sets simple high-frequency statistics at 512 px do not
    separate counterfeits either, i.e. the texture cues barely survive the simulated capture yet. Since
    no gain is measured and the branch doubles training time, it is off by default
    (``detail_patches=0``); ``--detail-patches 8`` turns it on for data whose fine print survives capture.

    ``from_dict`` of a dict without ``detail_patches`` (model files written before the branch existed)
    gives ``detail_patches = 0``: the old network and input size.
    """

    backbone: str = _f(
        "efficientnet_lite0",
        "Feature extractor: efficientnet_lite0 (default, fine-tuned from the ImageNet weights that ship with the "
        "application), small_cnn (fast on a CPU, learns from scratch) or a torchvision family.",
    )
    embedding_dim: int = _f(64, "Length of the embedding vector.")
    normalize: bool = _f(True, "L2-normalise embeddings (points on a sphere).")
    distance: DistanceName = _f("sqeuclidean", "Distance between embeddings: squared Euclidean or cosine.")
    image_height: int = _f(128, "Height in pixels of the rectified note fed to the network.")
    image_width: int = _f(256, "Width in pixels of the rectified note fed to the network.")
    detail_patches: int = _f(
        0, "Texture patches per note cut at high resolution (0: no texture branch, global view only)."
    )
    detail_height: int = _f(256, "Height in pixels of the high-resolution note the texture patches come from.")
    detail_width: int = _f(512, "Width in pixels of the high-resolution note the texture patches come from.")
    detail_patch_size: int = _f(48, "Side in pixels of a square texture patch.")
    detail_dim: int = _f(64, "Channels of the texture branch's last layer (it gives 4x this many features).")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        """Rebuild from :meth:`to_dict` output; unknown keys are ignored.

        A dict without ``detail_patches`` was written before the texture branch existed: it describes
        a network without one, so ``detail_patches`` becomes 0 (old model files keep loading).
        """
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs.setdefault("detail_patches", 0)
        return cls(**kwargs)


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run."""

    model: ModelConfig = field(default_factory=ModelConfig)
    pretrained: bool = _f(True, "Start from ImageNet weights (backbones without any, such as small_cnn, start from random weights).")
    loss: LossName = _f("quadruplet", "Metric-learning loss: quadruplet (default), triplet or contrastive.")
    margin: float = _f(0.4, "Margin alpha1 between positive and negative distances.")
    margin2: float = _f(0.2, "Second margin alpha2 of the quadruplet loss (smaller than the first).")
    adaptive_margin: bool = _f(False, "Set margins from the batch's mean positive/negative distances.")
    mining: Literal["hard", "semihard", "all"] = _f(
        "all", "Which tuples of a batch the loss uses (all: every valid tuple, averaged over the active ones)."
    )
    epochs: int = _f(8, "Training epochs; validation, checkpoint and early stopping come after each (it may end sooner).")
    steps_per_epoch: int = _f(
        40, "Optimiser steps (batches) per epoch; 0: enough batches to show every training image about once."
    )
    classes_per_batch: int = _f(8, "P: classes in each batch.")
    images_per_class: int = _f(4, "K: images of each class in each batch.")
    learning_rate: float = _f(3e-4, "Initial learning rate (AdamW, warm-up then cosine decay).")
    weight_decay: float = _f(1e-4, "AdamW weight decay.")
    augment: bool = _f(True, "Random capture variation (light, white balance, noise, shifts, small rotations) while training.")
    val_fraction: float = _f(0.2, "Share of each class held out for validation and calibration.")
    patience: int = _f(4, "Stop after this many epochs without a better validation metric.")
    seed: int = _f(0, "Random seed: the same seed and data give the same model.")
    num_threads: int | None = _f(None, "CPU threads for torch (None: all cores).")
    split_sides: bool = _f(
        False, "Train the front and back of a note as separate classes when the dataset says which side is shown."
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known and k != "model"}
        kwargs.setdefault("steps_per_epoch", 0)  # written before the setting existed: one pass per epoch
        return cls(model=ModelConfig.from_dict(data.get("model", {})), **kwargs)
