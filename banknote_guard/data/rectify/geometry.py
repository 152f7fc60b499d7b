"""Geometry of the note's outline: corner order, the frame of a side, straight lines in
``cv2.fitLine`` format ``(vx, vy, x0, y0)`` and where they meet, and nearest-pixel look-ups."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from banknote_guard.errors import parameter_error


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Order four points clockwise (in image coordinates) starting at the top-left one.

    Args:
        pts: ``(4, 2)`` points (any order, any numeric type).

    Returns:
        ``(4, 2)`` float32: top-left, top-right, bottom-right, bottom-left.
    """
    p = np.asarray(pts, dtype=np.float32).reshape(-1, 2)
    if p.shape != (4, 2):
        raise parameter_error("pts", "order_corners", "four 2-D points", p.shape)
    c = p.mean(axis=0)
    ang = np.arctan2(p[:, 1] - c[1], p[:, 0] - c[0])
    p = p[np.argsort(ang)]  # clockwise on screen (y points down)
    start = int(np.argmin(p[:, 0] + p[:, 1]))
    return np.ascontiguousarray(p[(np.arange(4) + start) % 4])


def side_frame(
    a: np.ndarray, b: np.ndarray, outward_from: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float]:
    """The side from corner ``a`` to corner ``b``: unit direction, unit normal and length.

    The normal is the direction turned by +90 degrees, or, given the quad's centre ``outward_from``,
    the one of the two normals that points away from it (outwards)."""
    d = b - a
    length = float(np.hypot(*d))
    u = d / length if length > 0 else d
    n = np.array([-u[1], u[0]], np.float32)
    if outward_from is not None and float(n @ (outward_from - a)) > 0:
        n = -n
    return u, n, length


class Side(NamedTuple):
    """One side of an outline: its first corner ``a``, the vector ``d`` to the next corner, unit
    direction ``u``, outward unit normal ``n`` and length."""

    a: np.ndarray
    d: np.ndarray
    u: np.ndarray
    n: np.ndarray
    length: float


def outward_sides(q: np.ndarray, min_length: float) -> list[Side] | None:
    """The four sides of the ordered outline ``q``, side ``i`` from corner ``i`` to corner ``i + 1``,
    with normals pointing away from its centre; None when a side is shorter than ``min_length``."""
    c = q.mean(axis=0)
    sides = []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        u, n, length = side_frame(a, b, outward_from=c)
        if length < min_length:
            return None
        sides.append(Side(a, b - a, u, n, length))
    return sides


def side_depth(q: np.ndarray, i: int) -> float:
    """The mean length of the two sides of ``q`` that meet side ``i``: how deep the note is across it."""
    return 0.5 * (float(np.linalg.norm(q[i] - q[i - 1])) + float(np.linalg.norm(q[(i + 2) % 4] - q[(i + 1) % 4])))


def line_through(p0: Sequence[float], d: np.ndarray, length: float) -> np.ndarray:
    """The line through ``p0`` along ``d``, with ``d`` divided by ``length`` as its direction."""
    return np.array([d[0] / length, d[1] / length, p0[0], p0[1]], np.float32)


def line_intersection(l1: np.ndarray, l2: np.ndarray) -> np.ndarray | None:
    """Where two lines cross; None when they are (nearly) parallel."""
    (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = l1, l2
    det = vx1 * (-vy2) - vy1 * (-vx2)
    if abs(det) < 1e-6:
        return None
    t = ((x2 - x1) * (-vy2) - (y2 - y1) * (-vx2)) / det
    return np.array([x1 + t * vx1, y1 + t * vy1], np.float32)


def corners_from_lines(
    lines: list[np.ndarray], quad: np.ndarray, max_move: np.ndarray | None = None
) -> np.ndarray | None:
    """Corner ``i`` = intersection of side lines ``i - 1`` and ``i`` (``cv2.fitLine`` format); None when
    two sides are parallel or, given ``max_move``, a corner would move farther than ``max_move[i]``
    from ``quad[i]``."""
    out = np.empty_like(quad)
    for i in range(4):
        p = line_intersection(lines[i - 1], lines[i])
        if p is None or (max_move is not None and np.linalg.norm(p - quad[i]) > max_move[i]):
            return None
        out[i] = p
    return out


def sample(img: np.ndarray, p: np.ndarray, dtype: type) -> np.ndarray:
    """The pixels of ``img`` at points ``p`` (``(..., 2)`` x, y; truncated, clamped to the picture),
    as ``dtype``."""
    h, w = img.shape[:2]
    xi = np.clip(p[..., 0].astype(np.int32), 0, w - 1)
    yi = np.clip(p[..., 1].astype(np.int32), 0, h - 1)
    return img[yi, xi].astype(dtype)
