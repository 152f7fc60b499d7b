"""Augmentation varies captures but keeps fine detail."""

from __future__ import annotations

import numpy as np
import torch

from banknote_guard.model.augment import AugmentOptions, augment_batch


def _images(n: int = 6) -> np.ndarray:
    rng = np.random.default_rng(0)
    checker = ((np.indices((32, 64)).sum(0) % 2) * 120 + 60).astype(np.uint8)
    base = np.repeat(checker[None, :, :, None], 3, axis=3).repeat(n, axis=0)
    return np.clip(base + rng.integers(0, 10, base.shape), 0, 255).astype(np.uint8)


def test_shape_range_and_reproducibility() -> None:
    images = _images()
    a = augment_batch(images, torch.Generator().manual_seed(1))
    b = augment_batch(images, torch.Generator().manual_seed(1))
    c = augment_batch(images, torch.Generator().manual_seed(2))
    assert a.shape == (6, 3, 32, 64) and a.dtype == torch.float32
    assert float(a.min()) >= 0.0 and float(a.max()) <= 1.0
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_fine_one_pixel_detail_survives_without_resampling() -> None:
    # Without the occasional rotation and noise, a one-pixel checkerboard keeps its contrast.
    images = _images()
    options = AugmentOptions(affine_p=0.0, noise_p=0.0)
    x = augment_batch(images, torch.Generator().manual_seed(0), options)
    grey = x.mean(1)
    neighbour_diff = (grey[:, 4:-4, 5:-4] - grey[:, 4:-4, 4:-5]).abs().mean()
    original = torch.from_numpy(images).float().div(255).mean(3)
    original_diff = (original[:, 4:-4, 5:-4] - original[:, 4:-4, 4:-5]).abs().mean()
    assert neighbour_diff > 0.6 * original_diff
