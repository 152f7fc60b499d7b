"""Training augmentation: the variation of genuine captures, without erasing counterfeit cues.

What varies between two captures of the same genuine note, and is therefore simulated: exposure
(brightness, contrast, gamma), a little white balance, sensor noise, the note's position after
rectification (a few pixels of shift, up to ~2 degrees of rotation and ~4 % of scale) and its
orientation (a note can be scanned upside down: 180 degree turns).

What is deliberately *not* simulated, because it is what counterfeits look like: blur and loss of
fine lines, strong colour or hue shifts, printer-like dot patterns, heavy JPEG blocking. Shifts are
done in whole pixels (no resampling blur); only the occasional small rotation resamples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentOptions:
    """Strength of each random change (each is drawn independently per image)."""

    flip180: float = 0.5
    shift_fraction: float = 0.03
    affine_p: float = 0.3
    max_rotation_deg: float = 2.0
    max_scale: float = 0.04
    brightness: float = 0.15
    contrast: float = 0.15
    gamma: float = 0.15
    white_balance: float = 0.03
    noise_p: float = 0.3
    noise_sigma: float = 0.015


def augment_batch(
    images: np.ndarray, generator: torch.Generator, options: AugmentOptions = AugmentOptions()
) -> torch.Tensor:
    """Randomly vary a batch of notes.

    Args:
        images: (N, H, W, 3) uint8 notes.
        generator: the source of randomness (seeded by the caller for reproducible runs).
        options: strengths.

    Returns:
        (N, 3, H, W) float tensor in [0, 1] (not yet normalised).
    """
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    n, _, h, w = x.shape

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator)

    # Orientation: 180-degree turns.
    flip = rand(n) < options.flip180
    if flip.any():
        x[flip] = torch.flip(x[flip], dims=(2, 3))

    # Whole-pixel shifts with edge replication (no interpolation blur).
    dy = int(round(h * options.shift_fraction))
    dx = int(round(w * options.shift_fraction))
    if dx or dy:
        padded = F.pad(x, (dx, dx, dy, dy), mode="replicate")
        oy = (rand(n) * (2 * dy + 1)).long().clamp_max(2 * dy)
        ox = (rand(n) * (2 * dx + 1)).long().clamp_max(2 * dx)
        x = torch.stack([padded[i, :, oy[i] : oy[i] + h, ox[i] : ox[i] + w] for i in range(n)])

    # Occasional small rotation / scale (rectification is never perfect).
    x = random_affine(x, generator, options)

    # Exposure and white balance.
    brightness = 1 + (rand(n, 1, 1, 1) * 2 - 1) * options.brightness
    contrast = 1 + (rand(n, 1, 1, 1) * 2 - 1) * options.contrast
    gamma = 1 + (rand(n, 1, 1, 1) * 2 - 1) * options.gamma
    balance = 1 + (rand(n, 3, 1, 1) * 2 - 1) * options.white_balance
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean) * brightness * balance
    x = x.clamp_(0.0, 1.0).pow_(gamma)

    # Sensor noise.
    noisy = (rand(n) < options.noise_p).float().view(n, 1, 1, 1)
    if options.noise_sigma > 0 and noisy.any():
        sigma = rand(n, 1, 1, 1) * options.noise_sigma * noisy
        x = x + torch.randn(x.shape, generator=generator) * sigma
    return x.clamp_(0.0, 1.0)


def random_affine(x: torch.Tensor, generator: torch.Generator, options: AugmentOptions = AugmentOptions()) -> torch.Tensor:
    """Small random rotation / scale of a share ``options.affine_p`` of a float batch (N, 3, H, W).

    This resamples (bilinear), so it is applied to the global view only, never to texture patches.
    """
    n, _, h, w = x.shape
    sel = torch.rand(n, generator=generator) < options.affine_p
    if sel.any():
        k = int(sel.sum())
        angle = (torch.rand(k, generator=generator) * 2 - 1) * math.radians(options.max_rotation_deg)
        scale = 1 + (torch.rand(k, generator=generator) * 2 - 1) * options.max_scale
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        aspect = w / h
        theta = torch.zeros(k, 2, 3)
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin / aspect
        theta[:, 1, 0], theta[:, 1, 1] = sin * aspect, cos
        grid = F.affine_grid(theta, [k, 3, h, w], align_corners=False)
        x = x.clone()
        x[sel] = F.grid_sample(x[sel], grid, mode="bilinear", padding_mode="border", align_corners=False)
    return x


def augment_two_views(
    images: np.ndarray,
    generator: torch.Generator,
    global_size: tuple[int, int],
    options: AugmentOptions = AugmentOptions(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment detail-resolution notes for a network with a texture branch.

    The full-resolution image gets only changes that keep texture intact (180-degree turns, whole-pixel
    shifts, exposure, white balance, a little sensor noise: no resampling blur); the global view is
    area-downscaled from it and then also gets the occasional small rotation / scale.

    Returns:
        ``(full, global_view)`` float tensors in [0, 1] (not yet normalised): (N, 3, H, W) and
        (N, 3, *global_size).
    """
    full = augment_batch(images, generator, replace(options, affine_p=0.0))
    small = F.adaptive_avg_pool2d(full, global_size) if tuple(full.shape[-2:]) != tuple(global_size) else full
    return full, random_affine(small, generator, options).clamp_(0.0, 1.0)

