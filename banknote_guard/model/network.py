"""The embedding network: a backbone, an optional texture branch, a projection head, L2 normalisation.

This is the one network of the Siamese setup: every image of a pair, triplet or quadruplet goes through
the same weights. Rebuilding it for inference needs only its :class:`ModelConfig` and a state dict::

    net = EmbeddingNet(config)
    net.load_state_dict(state_dict)

Two views of a note. The *global view* (``image_height`` x ``image_width``) sees layout, colour and
gamut. Counterfeit cues of 1-2 pixels (inkjet halftone dots, toner speckle, softened fine lines) do not
survive that downscale, so with ``detail_patches > 0`` the network takes the note at the higher
``detail_height`` x ``detail_width`` resolution, makes the global view from it by area averaging, and
cuts ``detail_patches`` square patches of ``detail_patch_size`` pixels from the full-resolution image.
A small shared patch CNN (3x3 convolutions at full resolution before any pooling) turns each patch into
features; the mean and the max over the patches (typical texture and the strongest local defect) are
concatenated with the global features before the projection head.

Patch positions: random in training mode (a new draw per image and step from torch's global random
state, which the trainer seeds per epoch), a fixed grid covering the note in eval mode, so inference is
deterministic (:func:`patch_grid`).
"""

from __future__ import annotations

import logging
import math

import torch
import torch.nn.functional as F
from torch import nn

from banknote_guard.model.backbones import (
    create_backbone,
    init_conv_weights,
    mean_max_pool,
)
from banknote_guard.model.config import ModelConfig
from banknote_guard.model.specs import has_imagenet_weights, validate_model_config

__all__ = ["EmbeddingNet", "PatchCNN", "cut_patches", "patch_grid", "random_patches", "validate_model_config"]

log = logging.getLogger(__name__)

#: Share of the note's height / width left out at each border when placing patches (rectification
#: leaves a little background or a cut edge there).
PATCH_MARGIN = 0.03


def _patch_range(length: int, size: int) -> tuple[int, int]:
    """First and last valid patch start along an axis of ``length`` pixels (inside the margins)."""
    margin = int(round(PATCH_MARGIN * length))
    lo, hi = margin, length - size - margin
    if hi < lo:
        lo, hi = 0, length - size
    return lo, hi


def patch_grid(height: int, width: int, size: int, count: int) -> torch.Tensor:
    """Top-left corners (count, 2) as (y, x) of a fixed grid of patches covering the note.

    The grid has about the note's aspect (8 patches on a 2:1 note: 2 rows x 4 columns); when rows x
    columns exceeds ``count``, evenly spaced cells of it are used.
    """
    (y0, y1), (x0, x1) = _patch_range(height, size), _patch_range(width, size)
    rows = max(1, min(count, int(round(math.sqrt(count * height / width)))))
    cols = max(1, math.ceil(count / rows))
    ys = torch.linspace(y0, y1, rows).round().long()
    xs = torch.linspace(x0, x1, cols).round().long()
    cells = torch.stack(torch.meshgrid(ys, xs, indexing="ij"), dim=-1).reshape(-1, 2)
    if len(cells) > count:
        cells = cells[torch.linspace(0, len(cells) - 1, count).round().long()]
    return cells


def random_patches(n: int, height: int, width: int, size: int, count: int, device: torch.device) -> torch.Tensor:
    """Random top-left corners (n, count, 2) inside the margins (torch's global random state)."""
    (y0, y1), (x0, x1) = _patch_range(height, size), _patch_range(width, size)
    ys = torch.randint(y0, y1 + 1, (n, count, 1))
    xs = torch.randint(x0, x1 + 1, (n, count, 1))
    return torch.cat([ys, xs], dim=2).to(device)


def cut_patches(x: torch.Tensor, corners: torch.Tensor, size: int) -> torch.Tensor:
    """Patches (N * P, C, size, size) of images (N, C, H, W) at corners (N, P, 2) or (P, 2) (no resampling)."""
    n = x.shape[0]
    if corners.dim() == 2:
        corners = corners.unsqueeze(0).expand(n, -1, -1)
    corners = corners.to(x.device)
    p = corners.shape[1]
    offs = torch.arange(size, device=x.device)
    rows = corners[:, :, 0, None] + offs  # (N, P, s)
    cols = corners[:, :, 1, None] + offs
    idx = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    patches = x[idx, :, rows[:, :, :, None], cols[:, :, None, :]]  # (N, P, s, s, C)
    return patches.permute(0, 1, 4, 2, 3).reshape(n * p, x.shape[1], size, size)


def _conv(c_in: int, c_out: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class PatchCNN(nn.Module):
    """Small CNN for one texture patch: 3x3 convolutions at full resolution first, then pooling.

    The first layer sees single pixels (stride 1), so halftone dots, speckle and line sharpness reach
    the filters intact. Output: spatial mean and max of the last layer (``2 * dim`` features).
    """

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        w1, w2 = 16, 32
        self.features = nn.Sequential(
            *_conv(3, w1),
            nn.MaxPool2d(2),
            *_conv(w1, w2),
            nn.MaxPool2d(2),
            *_conv(w2, dim),
            *_conv(dim, dim, stride=2),
        )
        self.out_features = 2 * dim
        init_conv_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return mean_max_pool(self.features(x))


class EmbeddingNet(nn.Module):
    """Backbone (+ texture branch) + linear projection to ``config.embedding_dim`` (+ L2 normalisation).

    Args:
        config: architecture and input size.
        pretrained: start the backbone from its ImageNet weights (raises WeightsUnavailableError when
            its family has them but they are not on this machine; a family without any, such as
            ``small_cnn``, starts from random weights). Not needed to load a trained state dict.
    """

    def __init__(self, config: ModelConfig, *, pretrained: bool = False) -> None:
        super().__init__()
        validate_model_config(config)
        self.config = config
        if pretrained and not has_imagenet_weights(config.backbone):
            log.info("The %s backbone has no ImageNet weights; it starts from random weights.", config.backbone)
            pretrained = False
        self.backbone, self.feature_dim = create_backbone(config.backbone, "imagenet" if pretrained else None)
        self.detail: PatchCNN | None = None
        head_in = self.feature_dim
        if config.detail_patches > 0:
            self.detail = PatchCNN(config.detail_dim)
            head_in += 2 * self.detail.out_features
            self.register_buffer(
                "detail_grid",
                patch_grid(config.detail_height, config.detail_width, config.detail_patch_size, config.detail_patches),
                persistent=False,
            )
        self.head = nn.Linear(head_in, config.embedding_dim)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @property
    def has_detail(self) -> bool:
        """Whether the network has the high-resolution texture branch."""
        return self.detail is not None

    def global_view(self, x: torch.Tensor) -> torch.Tensor:
        """The global input (N, 3, image_height, image_width) made from a detail-resolution batch."""
        size = (self.config.image_height, self.config.image_width)
        if tuple(x.shape[-2:]) == size:
            return x
        return F.adaptive_avg_pool2d(x, size)  # area averaging (exact 2x2 means for a 2x downscale)

    def _detail_input(self, x: torch.Tensor) -> torch.Tensor:
        size = (self.config.detail_height, self.config.detail_width)
        if tuple(x.shape[-2:]) != size:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return x

    def detail_features(self, x: torch.Tensor) -> torch.Tensor:
        """Texture features (N, 4 * detail_dim) of a detail-resolution batch (N, 3, detail_height, detail_width)."""
        if self.detail is None:
            raise RuntimeError("This network has no texture branch (detail_patches is 0).")
        c = self.config
        x = self._detail_input(x)
        if self.training:
            corners = random_patches(len(x), c.detail_height, c.detail_width, c.detail_patch_size, c.detail_patches, x.device)
        else:
            corners = self.detail_grid
        f = self.detail(cut_patches(x, corners, c.detail_patch_size)).view(len(x), c.detail_patches, -1)
        return torch.cat([f.mean(dim=1), f.amax(dim=1)], dim=1)

    def features(self, x: torch.Tensor, global_x: torch.Tensor | None = None) -> torch.Tensor:
        """Features (N, F) before the projection head (global, then texture features when present)."""
        if self.detail is None:
            return self.backbone(x)
        x = self._detail_input(x)
        g = self.backbone(self.global_view(x) if global_x is None else global_x)
        return torch.cat([g, self.detail_features(x)], dim=1)

    def forward(self, x: torch.Tensor, global_x: torch.Tensor | None = None) -> torch.Tensor:
        """Map normalised images to embeddings (N, embedding_dim).

        Args:
            x: (N, 3, H, W) normalised notes: the input size, or with the texture branch the detail
                size (``to_tensor`` of a prepared note gives the right one; other sizes are resized).
            global_x: optional global view (N, 3, image_height, image_width) to use instead of the
                area-downscaled ``x`` (training passes its separately augmented global view).
        """
        z = self.head(self.features(x, global_x))
        if self.config.normalize:
            z = F.normalize(z.float(), dim=1, eps=1e-12)
        return z
