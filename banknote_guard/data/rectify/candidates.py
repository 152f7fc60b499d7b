"""Candidate outlines from a mask's contours: the hull's polygon approximation with its sides refitted
to the contour, quadrilaterals made of the contour's dominant straight lines (RANSAC), and, on a plain
background, the largest region's outline taken directly when it is a clean quadrilateral."""

from __future__ import annotations

import cv2
import numpy as np

from banknote_guard.data.rectify.geometry import corners_from_lines, line_intersection, order_corners, side_frame
from banknote_guard.data.rectify.scoring import score_quad


def quad_of(contour: np.ndarray) -> np.ndarray:
    """Four corners of a contour: its hull's polygon approximation, else its smallest enclosing box."""
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.035, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    return cv2.boxPoints(cv2.minAreaRect(contour)).astype(np.float32)


def refine_quad(quad: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Fit a straight line to the contour points along each side and intersect neighbouring lines."""
    lines = []
    for i in range(4):
        a = quad[i]
        u, n, length = side_frame(a, quad[(i + 1) % 4])
        if length < 4:
            return quad
        rel = pts - a
        along = rel @ u
        across = np.abs(rel @ n)
        sel = (along > 0.1 * length) & (along < 0.9 * length) & (across < max(2.0, 0.04 * length))
        if int(sel.sum()) < 5:
            lines.append(np.array([u[0], u[1], a[0], a[1]], np.float32))
            continue
        lines.append(cv2.fitLine(pts[sel], cv2.DIST_L2, 0, 0.01, 0.01).reshape(4))
    diagonals = np.array([np.linalg.norm(quad[(i + 2) % 4] - quad[i]) for i in range(4)])
    out = corners_from_lines(lines, quad, 0.15 * diagonals)
    return quad if out is None else out


def hull_quad(cnt: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """The ordered quadrilateral of contour ``cnt`` (points ``pts``) with its sides refitted to it."""
    return order_corners(refine_quad(order_corners(quad_of(cnt)), pts))


def ransac_lines(pts: np.ndarray, tol: float, rng: np.random.Generator, n_lines: int = 6) -> list[np.ndarray]:
    """The dominant straight lines of a contour, found one after another by RANSAC."""
    lines: list[np.ndarray] = []
    rest = pts
    for _ in range(n_lines):
        n = len(rest)
        if n < 20:
            break
        idx = rng.integers(0, n, size=(64, 2))
        d = rest[idx[:, 1]] - rest[idx[:, 0]]
        norm = np.hypot(d[:, 0], d[:, 1])
        ok = norm > 8
        if not ok.any():
            break
        d, idx, norm = d[ok], idx[ok], norm[ok]
        nrm = np.stack([-d[:, 1], d[:, 0]], axis=1) / norm[:, None]
        c = np.einsum("ij,ij->i", nrm, rest[idx[:, 0]])
        dist = np.abs(rest @ nrm.T - c[None, :])
        k = int(np.argmax((dist < tol).sum(axis=0)))
        inl = dist[:, k] < tol
        if int(inl.sum()) < 10:
            break
        lines.append(cv2.fitLine(rest[inl], cv2.DIST_L2, 0, 0.01, 0.01).reshape(4))
        rest = rest[dist[:, k] >= 2 * tol]
    return lines


def quads_from_lines(lines: list[np.ndarray]) -> list[np.ndarray]:
    """Every quadrilateral made of two pairs of roughly parallel lines that cross roughly at right angles."""
    ang = [float(np.arctan2(ln[1], ln[0]) % np.pi) for ln in lines]

    def adiff(a: float, b: float) -> float:
        x = abs(a - b) % np.pi
        return min(x, np.pi - x)

    n = len(lines)
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n) if adiff(ang[a], ang[b]) < np.deg2rad(35)]
    quads = []
    for i, (a, b) in enumerate(pairs):
        for c, d in pairs[i + 1 :]:
            if len({a, b, c, d}) < 4 or adiff(ang[a], ang[c]) < np.deg2rad(45):
                continue
            pts = [line_intersection(lines[p], lines[q]) for p in (a, b) for q in (c, d)]
            if any(p is None for p in pts):
                continue
            quads.append(order_corners(np.array(pts, np.float32)))
    return quads


def _runs_off_picture(pts: np.ndarray, h: int, w: int) -> bool:
    """Whether more than 2% of the contour points lie on any one edge of the picture."""
    x, y = pts[:, 0], pts[:, 1]
    return any(on_edge.mean() > 0.02 for on_edge in (x <= 1, x >= w - 2, y <= 1, y >= h - 2))


def _fraction_on_sides(pts: np.ndarray, quad: np.ndarray, tol: float) -> float:
    """The fraction of the contour points within ``2 * tol`` of a side of ``quad``."""
    dist = np.full(len(pts), np.inf, np.float32)
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d)) + 1e-6
        rel = pts - a
        along = (rel @ d) / length
        across = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0]) / length
        across[(along < -2 * tol) | (along > length + 2 * tol)] = np.inf
        dist = np.minimum(dist, across)
    return float((dist < 2 * tol).mean())


def plain_outline(
    mask: np.ndarray, image_area: float, min_area_fraction: float, tol: float
) -> tuple[np.ndarray, float] | None:
    """The note's outline straight from a plain-background mask, when its largest region is a clean
    quadrilateral (nearly all of its outline lies on four straight sides) clear of the picture's edge."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    cnt = max(contours, key=cv2.contourArea)
    area = float(cv2.contourArea(cnt))
    if not min_area_fraction * image_area <= area <= 0.9 * image_area or len(cnt) < 40:
        return None
    pts = cnt.reshape(-1, 2).astype(np.float32)
    if _runs_off_picture(pts, *mask.shape):
        return None  # leave it to the general search
    quad = hull_quad(cnt, pts)
    shape = score_quad(quad, image_area)
    if shape < 0.8:
        return None
    on_sides = _fraction_on_sides(pts, quad, tol)
    if on_sides < 0.93:
        return None
    return quad, shape * on_sides
