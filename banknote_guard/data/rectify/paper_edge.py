"""Putting the outline's sides on the paper's edge: snapping each side onto the outermost nearby
colour change, and pushing out sides that stop at a line printed inside the note."""

from __future__ import annotations

import numpy as np

from banknote_guard.data.rectify.geometry import (
    Side,
    corners_from_lines,
    line_through,
    order_corners,
    outward_sides,
    sample,
    side_depth,
)

_BG_WEIGHTS = np.array([0.5, 1.0, 1.0], np.float32)


def _plateau_middle(good: np.ndarray, offsets: np.ndarray) -> float:
    """The middle of the last run of True in ``good``, as an offset."""
    k = int(np.nonzero(good)[0].max())  # outermost strong place ...
    j = k
    while j > 0 and good[j - 1]:
        j -= 1
    return float(offsets[j] + offsets[k]) / 2  # ... and the middle of its plateau


def _snapped_line(lab: np.ndarray, side: Side, t: np.ndarray, offsets: np.ndarray, off: float) -> np.ndarray:
    """The side moved along its normal to the outermost of the ``offsets`` where the colour changes
    about as strongly as anywhere (sampled at fractions ``t`` of its length); unmoved when nowhere
    does clearly."""
    a, d, _, n, length = side
    seg = a + d * t
    pos = seg[None, :, :] + offsets[:, None, None] * n[None, None, :]
    ins = pos - off * n
    out = pos + off * n
    diff = np.abs(sample(lab, ins, np.int16) - sample(lab, out, np.int16)).sum(axis=2)
    strength = (diff > 18).mean(axis=1) + 0.002 * np.minimum(diff, 100).mean(axis=1)
    best = float(strength.max())
    if best < 0.3:
        return line_through(a, d, length)
    o = _plateau_middle(strength >= 0.95 * best, offsets)
    return line_through((a[0] + o * n[0], a[1] + o * n[1]), d, length)


def snap_sides(quad: np.ndarray, edges: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Move each side along its normal to the outermost nearby place where the colour changes.

    A candidate built from a printed frame line or a slightly misplaced line lands a few pixels
    inside the real edge; this moves it onto the edge of the paper.
    """
    h, w = edges.shape
    q = order_corners(quad)
    t = np.linspace(0.08, 0.92, 24, dtype=np.float32)[:, None]
    span = max(4, int(round(min(h, w) / 45)))
    offsets = np.arange(-span, 2 * span + 1, dtype=np.float32)
    off = max(2.0, min(h, w) / 150)
    sides = outward_sides(q, 8)
    if sides is None:
        return quad
    lines = [_snapped_line(lab, side, t, offsets, off) for side in sides]
    out_q = corners_from_lines(lines, q)
    return quad if out_q is None else out_q


def _outward_shift(
    lab: np.ndarray, bg: np.ndarray, side: Side, depth: float, t: np.ndarray, off: float
) -> float | None:
    """How far the side moves out: to the nearest parallel colour change beyond which the background
    begins, within 45% of the note's ``depth`` across the side; None when the background begins right
    outside the side already, or no such change is found."""
    a, d, _, n, _ = side
    offsets = np.arange(0.0, 0.45 * depth, 1.0, dtype=np.float32)
    seg = a + d * t
    pos = seg[None, :, :] + offsets[:, None, None] * n[None, None, :]
    beyond = sample(lab, pos + 3 * off * n, np.float32)
    is_bg = ((np.abs(beyond - bg) * _BG_WEIGHTS).sum(axis=2) < 30).mean(axis=1)
    if is_bg[0] >= 0.6:
        return None
    across = np.abs(sample(lab, pos + off * n, np.float32) - sample(lab, pos - off * n, np.float32))
    edge = (across.sum(axis=2) > 18).mean(axis=1)
    ok = np.nonzero((edge >= 0.6) & (is_bg >= 0.6) & (offsets > 2 * off))[0]
    return float(offsets[ok[0]]) if len(ok) else None


def extend_sides(quad: np.ndarray, lab: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Push out sides that stop inside the note.

    A note's printed area often ends in a clear line before the paper does (a pale watermark zone,
    a frame), which makes a second, smaller rectangle. Where the colour just outside a side is not
    the background's (taken from the picture's border), the side moves out to the nearest parallel
    colour change beyond which the background does begin, up to 45% of the note's other dimension.
    Returns ``quad`` itself when no side moves.
    """
    h, w = lab.shape[:2]
    q = order_corners(quad)
    t = np.linspace(0.1, 0.9, 16, dtype=np.float32)[:, None]
    off = max(2.0, min(h, w) / 150)
    sides = outward_sides(q, 8)
    if sides is None:
        return quad
    lines = []
    changed = False
    for i, side in enumerate(sides):
        a, d, _, n, length = side
        shift = _outward_shift(lab, bg, side, side_depth(q, i), t, off)
        o = 0.0 if shift is None else shift
        changed = changed or shift is not None
        lines.append(line_through((a[0] + o * n[0], a[1] + o * n[1]), d, length))
    if not changed:
        return quad
    out_q = corners_from_lines(lines, q)
    return quad if out_q is None else out_q
