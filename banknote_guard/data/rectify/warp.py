"""The entry point :func:`rectify_note` and its result: checks the arguments, shrinks the capture to
the working copy, runs the detector, maps the outline back to the capture (refining it there when
the working copy is much coarser) and warps the note upright and landscape."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from banknote_guard.data.rectify.detect import detect
from banknote_guard.data.rectify.geometry import order_corners
from banknote_guard.data.rectify.refine import refine_full_res
from banknote_guard.errors import parameter_error

#: Longer side, in pixels, of the working copy the detector looks at.
WORK_SIDE: int = 480


@dataclass
class RectifiedNote:
    """The result of :func:`rectify_note`.

    Attributes:
        image: ``(H, W, 3)`` uint8 RGB, the note upright and landscape (``W >= H``).
        corners: ``(4, 2)`` float32 corners of the note in source-image pixels, ordered top-left,
            top-right, bottom-right, bottom-left of ``image``; None when no note was found.
        found: True when a note outline was found.
        confidence: how sure the detector is, in [0, 1] (0 when nothing was found).
        message: one line for a person, e.g. "no note outline found; using the whole image".
    """

    image: np.ndarray
    corners: np.ndarray | None
    found: bool
    confidence: float
    message: str


def rectify_note(
    rgb: np.ndarray,
    *,
    out_width: int = 512,
    aspect: float | None = None,
    min_area_fraction: float = 0.05,
) -> RectifiedNote:
    """Find the note in a capture and return it upright, landscape and ``out_width`` pixels wide.

    Works for flatbed scans (note on a white or grey lid, with margins) and phone or webcam photos
    (cluttered or textured background, any rotation, perspective, partial shadow, uneven light).
    The result is always landscape; which of the two long edges ends up on top cannot be told from
    the outline, so a note may come out upside down (rotated 180 degrees): later stages must not rely
    on the orientation (train and enroll with both, or test both).

    Args:
        rgb: ``(H, W, 3)`` uint8 RGB capture.
        out_width: width of the output in pixels.
        aspect: output width/height; None uses the aspect measured from the found outline.
        min_area_fraction: smallest note area, as a fraction of the capture's area.

    Returns:
        A :class:`RectifiedNote`. When no plausible outline is found, ``found`` is False,
        ``confidence`` 0 and ``image`` is the whole capture resized (and turned to landscape).
    """
    img = np.asarray(rgb)
    _check_arguments(img, out_width, aspect, min_area_fraction)
    small = _downscale(img, WORK_SIDE)
    best = detect(small, float(min_area_fraction))
    if best is None:
        return _fallback(img, out_width, aspect, "no note outline found; using the whole image")
    quad_small, score = best
    quad = _outline_in_capture(img, small, quad_small)
    warped, quad = _warp_landscape(img, quad, out_width, aspect)
    conf = float(np.clip(score, 0.0, 1.0))
    return RectifiedNote(
        image=np.ascontiguousarray(warped),
        corners=quad.astype(np.float32),
        found=True,
        confidence=conf,
        message=f"note outline found (confidence {conf:.2f})",
    )


def _check_arguments(img: np.ndarray, out_width: int, aspect: float | None, min_area_fraction: float) -> None:
    """Raise ParameterError for arguments :func:`rectify_note` does not take."""
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or min(img.shape[:2]) < 8:
        raise parameter_error("rgb", "rectify_note", "a uint8 array of shape (H, W, 3), at least 8x8", img.shape)
    if not isinstance(out_width, (int, np.integer)) or out_width < 8:
        raise parameter_error("out_width", "rectify_note", "an integer >= 8", out_width)
    if aspect is not None and not (0.2 <= float(aspect) <= 10.0):
        raise parameter_error("aspect", "rectify_note", "None or a float in [0.2, 10]", aspect)
    if not 0.0 < float(min_area_fraction) < 1.0:
        raise parameter_error("min_area_fraction", "rectify_note", "a float in (0, 1)", min_area_fraction)


def _outline_in_capture(img: np.ndarray, small: np.ndarray, quad_small: np.ndarray) -> np.ndarray:
    """The outline found in the working copy ``small``, in the capture's pixels and ordered; refined
    on the capture when the working copy is much coarser."""
    h, w = img.shape[:2]
    sh, sw = small.shape[:2]
    # Small-image pixel centres back to source-image pixel coordinates.
    sx, sy = w / sw, h / sh
    quad = np.empty_like(quad_small)
    quad[:, 0] = (quad_small[:, 0] + 0.5) * sx - 0.5
    quad[:, 1] = (quad_small[:, 1] + 0.5) * sy - 0.5
    quad = order_corners(quad)
    if max(sx, sy) >= 1.5:  # the working copy is much coarser than the source: refine there
        quad = order_corners(refine_full_res(img, quad, 1.5 * max(sx, sy) + 1.0))
    return quad


def _warp_landscape(
    img: np.ndarray, quad: np.ndarray, out_width: int, aspect: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """The note inside ``quad`` warped to ``out_width`` pixels wide with a long edge on top, and the
    outline's corners in the order of the warped image."""
    top = np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])
    side = np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])
    if side > top:  # portrait outline: make a long edge the top edge
        quad = np.roll(quad, 1, axis=0)
        top, side = side, top
    out_aspect = float(aspect) if aspect is not None else float(top / max(side, 1e-6))
    out_w = int(out_width)
    out_h = max(1, int(round(out_w / out_aspect)))
    # Much larger in the source than asked for: warp at twice the size, then average 2x2 blocks,
    # which keeps fine print from aliasing.
    ss = 2 if top / 2 > 1.5 * out_w else 1
    dst = np.array([[0, 0], [ss * out_w, 0], [ss * out_w, ss * out_h], [0, ss * out_h]], np.float32) - 0.5
    src = quad.astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(img, m, (ss * out_w, ss * out_h), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
    if ss > 1:
        warped = cv2.resize(warped, (out_w, out_h), interpolation=cv2.INTER_AREA)
    return warped, quad


def _fallback(img: np.ndarray, out_width: int, aspect: float | None, message: str) -> RectifiedNote:
    """The whole capture, turned to landscape and resized to ``out_width``, as a not-found result."""
    h, w = img.shape[:2]
    if h > w:
        img = np.ascontiguousarray(np.rot90(img, k=-1))
        h, w = w, h
    out_aspect = float(aspect) if aspect is not None else w / h
    out_h = max(1, int(round(out_width / out_aspect)))
    interp = cv2.INTER_AREA if out_width < w else cv2.INTER_LINEAR
    out = cv2.resize(img, (int(out_width), out_h), interpolation=interp)
    return RectifiedNote(image=np.ascontiguousarray(out), corners=None, found=False, confidence=0.0, message=message)


def _downscale(img: np.ndarray, side: int) -> np.ndarray:
    """Shrink so the longer side is about ``side``: bilinear to twice that, then 2x2 averaging (fast,
    and free of the aliasing a single bilinear step would give)."""
    h, w = img.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return img
    tw, th = max(8, round(w * scale)), max(8, round(h * scale))
    while scale < 0.35:  # halve first (fast 2x2 averaging) so the last step does not alias much
        h, w = img.shape[:2]
        img = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        scale *= 2
    return cv2.resize(img, (tw, th), interpolation=cv2.INTER_LINEAR)
