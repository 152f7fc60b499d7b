"""Sub-pixel refinement of the outline's sides on the strongest colour step across each side."""

from __future__ import annotations

import cv2
import numpy as np

from banknote_guard.data.rectify.geometry import Side, corners_from_lines, order_corners, outward_sides


def _profiles(img: np.ndarray, pos: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The colours at ``pos`` ``(n_t, n_offs, 2)``, each summed with its two neighbours along the side
    (direction ``u``) against noise; float32 ``(n_t, n_offs, 3)``."""
    prof = np.zeros((*pos.shape[:2], 3), np.float32)
    for s_ in (-1.0, 0.0, 1.0):
        p = pos + s_ * u
        prof += cv2.remap(img, p[..., 0], p[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return prof


def _step_peaks(prof: np.ndarray, offs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per profile, the offset of its strongest colour step (refined by a parabola through the step
    strengths around the peak) and that step's strength."""
    n_t = len(prof)
    grad = np.abs(prof[:, 2:] - prof[:, :-2]).sum(axis=2)  # step strength between offs[k] and offs[k+2]
    k = np.argmax(grad, axis=1)
    peak = grad[np.arange(n_t), k]
    k = np.clip(k, 1, grad.shape[1] - 2)
    g0, g1, g2 = grad[np.arange(n_t), k - 1], grad[np.arange(n_t), k], grad[np.arange(n_t), k + 1]
    den = g0 - 2 * g1 + g2
    frac = np.where(np.abs(den) > 1e-6, 0.5 * (g0 - g2) / np.where(np.abs(den) > 1e-6, den, 1.0), 0.0)
    return offs[0] + 1.0 + k + np.clip(frac, -0.5, 0.5), peak


def _edge_line(img: np.ndarray, side: Side, t: np.ndarray, offs: np.ndarray) -> np.ndarray:
    """The line through the colour steps across the side, sampled at fractions ``t`` of its length
    within ``offs`` of it; the side itself when fewer than a third of the samples show a clear step."""
    a, d, u, n, _ = side
    n_t = len(t)
    base = a[None, :] + t[:, None] * d[None, :]
    pos = base[:, None, :] + offs[None, :, None] * n[None, None, :]
    o, peak = _step_peaks(_profiles(img, pos, u), offs)
    good = peak > max(30.0, 0.35 * float(np.median(peak)))
    if int(good.sum()) < n_t // 3:
        return np.array([u[0], u[1], a[0], a[1]], np.float32)
    pts = base[good] + o[good, None] * n[None, :]
    return cv2.fitLine(pts.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).reshape(4)


def refine_full_res(img: np.ndarray, quad: np.ndarray, reach: float) -> np.ndarray:
    """Move each side onto the strongest colour step across it in the full-resolution picture,
    to a fraction of a pixel: profiles across the side (within ``reach`` pixels) give one edge point
    each (the peak of the step, refined by a parabola), and a robust line fit through them replaces
    the side. Sides with too few clear edge points are kept."""
    q = order_corners(quad)
    n_t, half = 40, max(3, int(np.ceil(reach)))
    t = np.linspace(0.06, 0.94, n_t, dtype=np.float32)
    offs = np.arange(-half, half + 1, dtype=np.float32)
    sides = outward_sides(q, 16)
    if sides is None:
        return quad
    lines = [_edge_line(img, side, t, offs) for side in sides]
    out = corners_from_lines(lines, q, np.full(4, 2.5 * reach))
    return quad if out is None else out
