"""The detector's view of the working copy: its colour space, the background's colour and each
pixel's distance from it, and the foreground masks built from them (background distance, a plain
background, edges closed into regions, colourfulness)."""

from __future__ import annotations

import cv2
import numpy as np

#: Largest 95th percentile of colour distance from the background colour along the picture's border
#: for which the background counts as plain.
UNIFORM_BORDER_SPREAD: float = 12.0

_DIST_WEIGHTS = np.array([[0.5, 1.0, 1.0]], np.float32)
_Y = np.array([0.299, 0.587, 0.114])
_YCC2 = np.array(
    [
        [*_Y, 0.0],
        [*(2 * 0.713 * (np.array([1.0, 0.0, 0.0]) - _Y)), 128.0],
        [*(2 * 0.564 * (np.array([0.0, 0.0, 1.0]) - _Y)), 128.0],
    ],
    np.float32,
)


def colour_space(small: np.ndarray) -> np.ndarray:
    """Y, Cr, Cb with the chroma doubled, so colour differences weigh about as in CIELAB; one fast
    linear transform of the RGB values."""
    return cv2.transform(small, _YCC2)


def _kernels(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    k = max(3, int(round(min(shape[:2]) / 80)) | 1)
    return (
        cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)),
        cv2.getStructuringElement(cv2.MORPH_RECT, (2 * k + 1, 2 * k + 1)),
    )


def _border_pixels(img: np.ndarray) -> np.ndarray:
    """The pixels of a thin band along the picture's border, one row each."""
    sh, sw = img.shape[:2]
    b = max(2, min(sh, sw) // 40)
    per_pixel = (-1, *img.shape[2:])
    return np.concatenate(
        [img[:b].reshape(per_pixel), img[-b:].reshape(per_pixel), img[:, :b].reshape(per_pixel),
         img[:, -b:].reshape(per_pixel)]
    )


def _filled_regions(m: np.ndarray, big: np.ndarray) -> np.ndarray:
    """The regions of ``m`` once closed and filled, opened to cut thin links to clutter."""
    closed = cv2.morphologyEx(m, cv2.MORPH_CLOSE, big)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(closed)
    cv2.drawContours(filled, contours, -1, 255, thickness=-1)
    return cv2.morphologyEx(filled, cv2.MORPH_OPEN, big)


def border_colour(lab: np.ndarray) -> np.ndarray:
    """Median colour of a thin band along the picture's border: the background's colour."""
    return np.median(_border_pixels(lab), axis=0).astype(np.float32)


def background_distance(lab: np.ndarray, bg_colour: np.ndarray) -> np.ndarray:
    """Smoothed colour distance of every pixel from the background colour, uint8."""
    bg = np.clip(bg_colour, 0, 255)
    diff = cv2.absdiff(lab, tuple(float(v) for v in bg.astype(np.uint8)) + (0.0,))
    return cv2.GaussianBlur(cv2.transform(diff, _DIST_WEIGHTS), (5, 5), 0)


def background_mask(dist: np.ndarray) -> np.ndarray:
    """Foreground by colour distance from the background seen along the picture's border (Otsu)."""
    _, big = _kernels(dist.shape)
    _, m = cv2.threshold(dist, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.morphologyEx(cv2.morphologyEx(m, cv2.MORPH_CLOSE, big), cv2.MORPH_OPEN, big)


def uniform_background_mask(dist: np.ndarray) -> np.ndarray | None:
    """Foreground on a plain background (a scanner lid, a plain desk): everything whose colour lies
    clearly outside the spread of colours seen along the picture's border. Catches pale notes on a
    pale lid, where Otsu would split the note's own pale parts off. None when the border is not plain.
    """
    _, big = _kernels(dist.shape)
    lo, hi = np.percentile(_border_pixels(dist), [95, 99])
    if lo > UNIFORM_BORDER_SPREAD:
        return None
    thr = float(np.clip(2.0 * hi + 3.0, 6.0, 40.0))
    m = (dist > thr).astype(np.uint8) * 255
    return _filled_regions(m, big)


def edge_masks(lab: np.ndarray, chroma: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The (slightly dilated) edge map, and the regions it encloses once closed and filled (opened
    to cut thin links to clutter). With ``chroma``, the edges of colour alone (the two chroma
    channels): blind to patterns of light and dark such as wood grain, stripes or shadows."""
    _, big = _kernels(lab.shape)
    if chroma:
        cr = cv2.GaussianBlur(lab[:, :, 1], (5, 5), 0)
        cb = cv2.GaussianBlur(lab[:, :, 2], (5, 5), 0)
        edges = cv2.Canny(cr, 15, 40) | cv2.Canny(cb, 15, 40)
    else:
        gray = cv2.GaussianBlur(lab[:, :, 0], (5, 5), 0)
        edges = cv2.Canny(gray, 20, 50)
    filled = _filled_regions(edges, big)
    return cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))), filled


def saturation_masks(lab: np.ndarray) -> list[np.ndarray]:
    """Otsu on colourfulness, both ways round (colourful note on a grey lid, or the reverse)."""
    kernel, big = _kernels(lab.shape)
    chroma = cv2.absdiff(lab[:, :, 1], 128) // 2 + cv2.absdiff(lab[:, :, 2], 128) // 2
    sat = cv2.GaussianBlur(chroma, (5, 5), 0)
    _, m = cv2.threshold(sat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return [
        cv2.morphologyEx(cv2.morphologyEx(m, cv2.MORPH_CLOSE, big), cv2.MORPH_OPEN, kernel),
        cv2.morphologyEx(cv2.morphologyEx(255 - m, cv2.MORPH_CLOSE, big), cv2.MORPH_OPEN, kernel),
    ]
