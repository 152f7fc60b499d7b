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
    """Everything needed to rebuild the embedding network (and its input preprocessing) from weights."""

    backbone: str = _f("small_cnn", "Feature extractor: small_cnn (fast on a CPU) or a torchvision family.")
    embedding_dim: int = _f(64, "Length of the embedding vector.")
    normalize: bool = _f(True, "L2-normalise embeddings (points on a sphere).")
    distance: DistanceName = _f("sqeuclidean", "Distance between embeddings: squared Euclidean or cosine.")
    image_height: int = _f(128, "Height in pixels of the rectified note fed to the network.")
    image_width: int = _f(256, "Width in pixels of the rectified note fed to the network.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run."""

    model: ModelConfig = field(default_factory=ModelConfig)
    pretrained: bool = _f(False, "Start from ImageNet weights when the backbone has them on this machine.")
    loss: LossName = _f("quadruplet", "Metric-learning loss: quadruplet (default), triplet or contrastive.")
    margin: float = _f(0.4, "Margin alpha1 between positive and negative distances.")
    margin2: float = _f(0.2, "Second margin alpha2 of the quadruplet loss (smaller than the first).")
    adaptive_margin: bool = _f(False, "Set margins from the batch's mean positive/negative distances.")
    mining: Literal["hard", "semihard", "all"] = _f(
        "all", "Which tuples of a batch the loss uses (all: every valid tuple, averaged over the active ones)."
    )
    epochs: int = _f(20, "Passes over the training set (early stopping may end sooner).")
    classes_per_batch: int = _f(8, "P: classes in each batch.")
    images_per_class: int = _f(4, "K: images of each class in each batch.")
    learning_rate: float = _f(1e-3, "Initial learning rate (AdamW, cosine decay).")
    weight_decay: float = _f(1e-4, "AdamW weight decay.")
    augment: bool = _f(True, "Random capture variation (light, white balance, noise, shifts, small rotations) while training.")
    val_fraction: float = _f(0.2, "Share of each class held out for validation and calibration.")
    patience: int = _f(6, "Stop after this many epochs without a better validation metric.")
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
        return cls(model=ModelConfig.from_dict(data.get("model", {})), **kwargs)
