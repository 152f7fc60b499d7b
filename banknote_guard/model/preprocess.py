"""From a photo or scan to the network's input: find the note, warp it upright, resize, normalise.

Input size. The default network input is a rectified note of ``ModelConfig.image_height`` x
``image_width`` = 128 x 256 pixels (landscape, about the 2:1 aspect of most notes), i.e. about 1.7
pixels per millimetre of a 150 mm note. Counterfeit cues are fine: printer halftone grain, softened
guilloche lines, slight colour and gamut shifts, flat or missing security features. Colour, gamut and
layout cues survive any size; grain and line sharpness need resolution, and on the hard synthetic
set 128 x 256 validated better than 96 x 192 (val AUC 0.68 vs 0.65 after 3 epochs) while the small
CNN still trains a ~1,000-image set in minutes on two cores (about 30 ms of CPU per training image
versus 12 ms at 96 x 192). Downscaling uses area averaging, which keeps the *statistics* of fine
texture (grain shows as a different local grey level and noise) instead of aliasing them away.

Texture branch. With ``ModelConfig.detail_patches > 0`` the prepared note is kept at the higher
``detail_height`` x ``detail_width`` resolution (default 256 x 512, about 3.4 px/mm, close to the
capture's own resolution of a note ~640 px wide), so that 1-2 px cues (inkjet halftone dots, toner
speckle, softened fine lines) survive. The network itself downsamples that image (area averaging, in
:class:`~banknote_guard.model.network.EmbeddingNet`) for its global view and cuts the texture patches
from the full-resolution one. :func:`prepared_size` gives the size of a prepared note.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np

from banknote_guard.model.config import ModelConfig
from banknote_guard.model.specs import backbone_normalization

if TYPE_CHECKING:  # pragma: no cover - torch is needed only by to_tensor (training and the torch embedder)
    import torch

    from banknote_guard.data.rectify import RectifiedNote


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if (h, w) == (height, width):
        return rgb
    interp = cv2.INTER_AREA if (w >= width and h >= height) else cv2.INTER_LINEAR
    return cv2.resize(rgb, (width, height), interpolation=interp)


def _as_rgb_uint8(rgb: np.ndarray) -> np.ndarray:
    arr = np.asarray(rgb)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W, 3) RGB image, got shape {arr.shape}")
    arr = arr[:, :, :3]
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def prepared_size(config: ModelConfig) -> tuple[int, int]:
    """(height, width) of a note as :func:`prepare_image` returns it: the texture branch's resolution
    when the network has one, else the network's input size."""
    if config.detail_patches > 0:
        return int(config.detail_height), int(config.detail_width)
    return int(config.image_height), int(config.image_width)


@dataclass
class PreparedNote:
    """A photo or scan turned into the network's input, with what the note finder saw on the way
    (the capture-quality checks of :mod:`banknote_guard.verify.quality` look at it).

    Attributes:
        image: the network's input, (H, W, 3) uint8 RGB at :func:`prepared_size`.
        found: whether the note's outline was found (False: the whole picture was used).
        upright: the upright note at the intermediate resolution it was warped to (at least twice
            the input width), before the final resize.
        corners: (4, 2) float32 corners of the note in ``source`` pixels, or None when not found.
        confidence: how sure the note finder was, in [0, 1] (0 when nothing was found).
        source: the photo or scan as given, (H, W, 3) uint8 RGB.
    """

    image: np.ndarray
    found: bool
    upright: np.ndarray
    corners: np.ndarray | None
    confidence: float
    source: np.ndarray


def _rectified(rgb: np.ndarray, config: ModelConfig) -> "RectifiedNote | None":
    """The note finder's result at an intermediate resolution (at least twice the input width), or
    None when the note finder is not installed."""
    try:
        from banknote_guard.data.rectify import rectify_note
    except ImportError:  # the note finder is optional for plain, already-cropped scans
        return None
    return rectify_note(rgb, out_width=max(2 * config.image_width, 256, prepared_size(config)[1]))


def rectify_for_network(rgb: np.ndarray, config: ModelConfig) -> tuple[np.ndarray, bool]:
    """Rectified note at an intermediate resolution (at least twice the input width) and whether it was found."""
    note = _rectified(rgb, config)
    if note is None:
        return rgb, False
    return _as_rgb_uint8(note.image), bool(note.found)


def prepare_note(rgb: np.ndarray, config: ModelConfig) -> PreparedNote:
    """Turn a photo or scan into the network's input image, keeping what the note finder saw.

    Args:
        rgb: (H, W, 3) uint8 RGB (grey and RGBA are accepted).
        config: gives the input size.

    Returns:
        A :class:`PreparedNote`; its ``image`` is what :func:`prepare_image` returns.
    """
    rgb = _as_rgb_uint8(rgb)
    found_note = _rectified(rgb, config)
    upright = rgb if found_note is None else _as_rgb_uint8(found_note.image)
    found = found_note is not None and bool(found_note.found)
    note = upright
    if note.shape[0] > note.shape[1] and config.image_width > config.image_height:
        note = np.ascontiguousarray(np.rot90(note))  # a portrait crop of a landscape note
    h, w = prepared_size(config)
    return PreparedNote(
        image=_resize(note, w, h),
        found=found,
        upright=note,
        corners=None if found_note is None or found_note.corners is None else found_note.corners,
        confidence=0.0 if found_note is None else float(found_note.confidence),
        source=rgb,
    )


def prepare_image(rgb: np.ndarray, config: ModelConfig) -> tuple[np.ndarray, bool]:
    """Turn a photo or scan into the network's input image.

    Args:
        rgb: (H, W, 3) uint8 RGB (grey and RGBA are accepted).
        config: gives the input size.

    Returns:
        ``(note, note_found)``: the upright note as (H, W, 3) uint8 RGB with (H, W) =
        :func:`prepared_size` (``detail_height`` x ``detail_width`` with the texture branch, else
        ``image_height`` x ``image_width``), and whether the note's outline was found (False: the
        whole image was used).
    """
    prepared = prepare_note(rgb, config)
    return prepared.image, prepared.found


def load_and_prepare_note(path: str | Path, config: ModelConfig) -> PreparedNote:
    """Read an image file and :func:`prepare_note` it; raises ImageLoadError for unreadable files."""
    return prepare_note(load_rgb(path, max_side=max(1600, 4 * config.image_width, 2 * prepared_size(config)[1])), config)


def load_and_prepare(path: str | Path, config: ModelConfig) -> tuple[np.ndarray, bool]:
    """Read an image file and :func:`prepare_image` it; raises ImageLoadError for unreadable files."""
    prepared = load_and_prepare_note(path, config)
    return prepared.image, prepared.found


def load_rgb(path: str | Path, max_side: int | None = None) -> np.ndarray:
    """Read an image file as uint8 RGB (through banknote_guard.data.imageio when present)."""
    try:
        from banknote_guard.data.imageio import MIN_NOTE_SIDE, load_image
    except ImportError:
        load_image = None  # type: ignore[assignment]
    if load_image is not None:
        return load_image(path, max_side=max_side, min_side=MIN_NOTE_SIDE)
    from PIL import Image

    from banknote_guard.errors import ImageLoadError

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if max_side and max(im.size) > max_side:
                im.thumbnail((max_side, max_side))
            return np.asarray(im, dtype=np.uint8).copy()
    except FileNotFoundError:
        raise ImageLoadError(path, "file not found") from None
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad files
        raise ImageLoadError(path, f"not a readable image ({exc})") from None


def stack_notes(batch: Sequence[np.ndarray] | np.ndarray, config: ModelConfig) -> np.ndarray:
    """(N, H, W, 3) uint8 notes at the input size (:func:`prepared_size`); other sizes are resized."""
    h, w = prepared_size(config)
    if isinstance(batch, np.ndarray) and batch.ndim == 4 and batch.shape[1:3] == (h, w):
        return np.ascontiguousarray(batch)
    if not len(batch):
        return np.zeros((0, h, w, 3), np.uint8)
    return np.stack([_resize(_as_rgb_uint8(im), w, h) for im in batch])


def to_array(batch: Sequence[np.ndarray] | np.ndarray, config: ModelConfig) -> np.ndarray:
    """The network's input as a float32 (N, 3, H, W) numpy array: :func:`to_tensor` without torch
    (the onnxruntime embedder's input); the same numbers, computed with the same float32 operations."""
    arr = stack_notes(batch, config).transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)
    mean, std = backbone_normalization(config.backbone)
    m = np.asarray(mean, dtype=np.float32).reshape(1, 3, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(1, 3, 1, 1)
    return np.ascontiguousarray((arr - m) / s)


def to_tensor(batch: Sequence[np.ndarray] | np.ndarray, config: ModelConfig) -> "torch.Tensor":
    """Stack (H, W, 3) uint8 notes into a normalised float (N, 3, H, W) tensor.

    Images of another size are resized to the input size (:func:`prepared_size`) first. The
    normalisation is the one the backbone's weights expect
    (:func:`~banknote_guard.model.specs.backbone_normalization`). The tensor keeps the notes' pixel
    order in memory (channels last), which torch's convolutions run fastest on the CPU.
    """
    import torch

    x = torch.from_numpy(stack_notes(batch, config)).permute(0, 3, 1, 2).float().div_(255.0)
    return normalize_tensor(x, config.backbone)


def normalize_tensor(x: "torch.Tensor", backbone: str) -> "torch.Tensor":
    """(x - mean) / std per channel for a float (N, 3, H, W) tensor in [0, 1]."""
    import torch

    mean, std = backbone_normalization(backbone)
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x - m) / s
