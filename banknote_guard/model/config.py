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

    The default network is EfficientNet-Lite0 fine-tuned from the ImageNet weights that ship with the
    application (``TrainConfig.pretrained``), with a 64-d L2-normalised embedding, on the rectified note
    at 128 x 256 px. Why, measured on the same hard synthetic notes (train 960 images, seed 3; test 600
    images, seed 4, with one denomination per currency never trained on; ``benchmarks/README.md``):

    ==============================================  =============  ==============  ===========
    features                                         AUC trained    AUC unseen,     train time
                                                     denominations  5-shot          (2 cores)
    ==============================================  =============  ==============  ===========
    small_cnn from scratch, 20 epochs x 1 pass       0.67           0.68            4 min
    ImageNet EfficientNet-Lite0, frozen              0.78           0.64            --
    EfficientNet-Lite0 fine-tuned, 8 x 40 steps      0.97           0.89            10.7 min
    ==============================================  =============  ==============  ===========

    The small CNN never learned the counterfeit cues (its training loss barely moved); the ImageNet
    filters already respond to print texture, and fine-tuning them with the metric loss does.

    Input size: 128 x 256 keeps the note's 2:1 shape and is what the network sees of a capture about
    640 px wide after rectification: fine lines and the halftone/toner texture of a reproduction are
    still present at this scale, while 256 x 512 would cost about four times the compute per note for
    training and verification on a CPU. ``image_height`` / ``image_width`` change it.

    The optional texture branch (``detail_patches > 0``, off by default): ``detail_patches`` square
    patches of ``detail_patch_size`` = 48 px cut from the note rectified at ``detail_height`` x
    ``detail_width`` = 256 x 512, about the capture's own resolution. Measured with the small CNN
    (test AUC 0.632 without, 0.650 with at 128 x 256; within noise) it gave no gain and doubles
    training time, so it stays off; ``--detail-patches 8`` turns it on.

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
