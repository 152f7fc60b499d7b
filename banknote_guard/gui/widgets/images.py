"""Conversions between numpy images and Qt images."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """An independent :class:`QImage` copy of an (H, W, 3) uint8 RGB (or (H, W) grey) array."""
    arr = np.asarray(rgb)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] < 3:
        raise ValueError(f"expected an (H, W, 3) image, got shape {arr.shape}")
    arr = np.ascontiguousarray(arr[:, :, :3], dtype=np.uint8)
    h, w, _ = arr.shape
    return QImage(arr.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array from any :class:`QImage`."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = img.width(), img.height()
    bpl = img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()
