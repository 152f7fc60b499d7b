"""The embedding network: a backbone, a projection head and optional L2 normalisation.

This is the one network of the Siamese setup: every image of a pair, triplet or quadruplet goes through
the same weights. Rebuilding it for inference needs only its :class:`ModelConfig` and a state dict::

    net = EmbeddingNet(config)
    net.load_state_dict(state_dict)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from banknote_guard.errors import parameter_error
from banknote_guard.model.backbones import create_backbone, get_backbone_spec
from banknote_guard.model.config import ModelConfig


def validate_model_config(config: ModelConfig) -> None:
    """Raise ParameterError for a configuration no network can be built from."""
    spec = get_backbone_spec(config.backbone)
    if not isinstance(config.embedding_dim, int) or not 2 <= config.embedding_dim <= 4096:
        raise parameter_error("embedding_dim", "ModelConfig", "an integer in [2, 4096]", config.embedding_dim)
    for field_name in ("image_height", "image_width"):
        value = getattr(config, field_name)
        if not isinstance(value, int) or not spec.min_size <= value <= 2048:
            raise parameter_error(
                field_name, "ModelConfig", f"an integer in [{spec.min_size}, 2048] for {spec.name}", value
            )
    if config.distance not in ("sqeuclidean", "cosine"):
        raise parameter_error("distance", "ModelConfig", "'sqeuclidean' or 'cosine'", config.distance)


class EmbeddingNet(nn.Module):
    """Backbone + linear projection to ``config.embedding_dim`` (+ L2 normalisation when configured).

    Args:
        config: architecture and input size.
        pretrained: start the backbone from its ImageNet weights (raises WeightsUnavailableError when
            they are not on this machine). Not needed to load a trained state dict.
    """

    def __init__(self, config: ModelConfig, *, pretrained: bool = False) -> None:
        super().__init__()
        validate_model_config(config)
        self.config = config
        self.backbone, self.feature_dim = create_backbone(config.backbone, "imagenet" if pretrained else None)
        self.head = nn.Linear(self.feature_dim, config.embedding_dim)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features (N, F) before the projection head."""
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map normalised images (N, 3, H, W) to embeddings (N, embedding_dim)."""
        z = self.head(self.backbone(x))
        if self.config.normalize:
            z = F.normalize(z.float(), dim=1, eps=1e-12)
        return z
