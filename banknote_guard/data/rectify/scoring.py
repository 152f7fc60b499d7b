"""How plausible an outline is: its shape (right angles, banknote aspect, size) and its support in
the picture (sides on edges between two different colours, foreground inside)."""

from __future__ import annotations

import numpy as np

#: Aspect ratios (long side / short side) that banknotes have.
NOTE_ASPECT_RANGE: tuple[float, float] = (1.6, 2.6)

_NEXT = np.array([1, 2, 3, 0])
_PREV = np.array([3, 0, 1, 2])


def _aspect_score(a: float) -> float:
    lo, hi = NOTE_ASPECT_RANGE
    if lo <= a <= hi:
        return 1.0
    off = (lo - a) if a < lo else (a - hi)
    return float(np.exp(-((off / 0.35) ** 2)))


def score_quad(q: np.ndarray, image_area: float) -> float:
    """Shape plausibility of an ordered quadrilateral: right angles, banknote aspect, size; in [0, 1]."""
    x, y = q[:, 0].astype(np.float64), q[:, 1].astype(np.float64)
    ex, ey = x[_NEXT] - x, y[_NEXT] - y  # side i runs from corner i to corner i+1
    pex, pey = ex[_PREV], ey[_PREV]
    cross = ex * pey - ey * pex
    if not ((cross > 0).all() or (cross < 0).all()):
        return 0.0  # not convex
    quad_area = 0.5 * abs(float((x * y[_NEXT] - x[_NEXT] * y).sum()))
    frac = quad_area / image_area
    if quad_area <= 1.0 or frac > 1.0:
        return 0.0
    sides = np.hypot(ex, ey)
    a = (sides[0] + sides[2]) / max(sides[1] + sides[3], 1e-6)
    a = max(a, 1.0 / max(a, 1e-6))
    dot = ex * pex + ey * pey
    cos_max = float((np.abs(dot) / (sides * sides[_PREV] + 1e-9)).max())
    angle = max(0.0, 1.0 - max(0.0, cos_max - 0.15) * 2.5)
    size = min(1.0, 0.4 + frac * 4.0)
    return float(angle * _aspect_score(a) * size)


def _outline_points(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """24 points along each side of the ordered outline ``q``, and the inward unit normal at each."""
    c = q.mean(axis=0)
    t = np.linspace(0.04, 0.96, 24, dtype=np.float32)[:, None]
    seg, inward = [], []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        d = b - a
        n = np.array([-d[1], d[0]], np.float32) / (np.hypot(*d) + 1e-6)
        if float(n @ (c - a)) < 0:
            n = -n
        seg.append(a + d * t)
        inward.append(np.broadcast_to(n, (len(t), 2)))
    return np.concatenate(seg), np.concatenate(inward)


def support(quad: np.ndarray, edges: np.ndarray, mask: np.ndarray, lab: np.ndarray) -> float:
    """How well the outline is backed by the picture, in [0, 1].

    Combines, per side: the fraction of the side lying on edges, and the fraction of places where
    the colour just inside differs from the colour just outside (a note's edge, unlike a line
    printed on it, separates two different surfaces); and the fraction of points just inside the
    outline that the mask counts as foreground.
    """
    h, w = edges.shape
    q = quad  # ordered by the caller
    margin = 0.02 * max(h, w)
    if (q[:, 0] < -margin).any() or (q[:, 1] < -margin).any() or (q[:, 0] > w - 1 + margin).any() or (
        q[:, 1] > h - 1 + margin
    ).any():
        return 0.0
    off = max(2.0, min(h, w) / 120)
    on_a, nrm = _outline_points(q)

    def idx(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.clip(p[:, 1].astype(np.int32), 0, h - 1), np.clip(p[:, 0].astype(np.int32), 0, w - 1)

    # Each side is judged by its weakest quarter: a side running past the note's corner is wrong.
    on_edge = (edges[idx(on_a)] > 0).reshape(16, -1).mean(axis=1)
    inside = lab[idx(on_a + off * nrm)].astype(np.int16)
    outside = lab[idx(on_a - off * nrm)].astype(np.int16)
    contrast = (np.abs(inside - outside).sum(axis=1) > 18).reshape(16, -1).mean(axis=1)
    in_mask = float((mask[idx(on_a + 2 * off * nrm)] > 0).mean())
    side = np.minimum(1.0, on_edge * 0.5 + contrast * 0.7).reshape(4, 4)
    side = 0.5 * side.mean(axis=1) + 0.5 * side.min(axis=1)
    return float((0.5 * side.mean() + 0.5 * side.min()) * (0.5 + 0.5 * in_mask))
