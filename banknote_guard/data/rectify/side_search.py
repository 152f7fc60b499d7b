"""Moving single sides of an unsure outline: the other straight colour changes roughly parallel to a
side (clutter or a shadow touching the note pulls a side out; a printed line pulls one in), whether
the strip a move gives up or takes in looks like the outside or the note, and the search that keeps
the moves which raise the score."""

from __future__ import annotations

import numpy as np

from banknote_guard.data.rectify.geometry import (
    line_intersection,
    line_through,
    order_corners,
    sample,
    side_depth,
    side_frame,
)
from banknote_guard.data.rectify.scoring import score_quad, support

#: Colour distance beyond which a strip given up by a side moving inwards is taken for something
#: other than the note.
STRIP_FAR: float = 60.0


def _parallel_strength(
    lab: np.ndarray, mid: np.ndarray, u: np.ndarray, n: np.ndarray, length: float, offs: np.ndarray, off: float
) -> tuple[np.ndarray, np.ndarray]:
    """How consistently the colour changes across lines through ``mid + offs * n`` turned by -4, 0
    and +4 degrees from the side's direction ``u``: the lines' directions ``(angle, 2)`` and their
    strength ``(angle, offset)``, each line judged half by its mean and half by its weakest quarter."""
    angles = np.deg2rad(np.array([-4.0, 0.0, 4.0], np.float32))
    t = np.linspace(-0.45, 0.45, 16, dtype=np.float32) * length
    # directions of the rotated sides, their normals, and sample points: (angle, offset, t, 2)
    du = np.stack([np.cos(angles) * u[0] - np.sin(angles) * u[1], np.sin(angles) * u[0] + np.cos(angles) * u[1]], 1)
    dn = np.stack([-du[:, 1], du[:, 0]], 1)
    dn *= np.sign((dn @ n))[:, None]
    pts = (mid[None, None, None, :] + offs[None, :, None, None] * n[None, None, None, :]
           + t[None, None, :, None] * du[:, None, None, :])
    step = off * dn[:, None, None, :]
    diff = np.abs(sample(lab, pts + step, np.int16) - sample(lab, pts - step, np.int16)).sum(axis=-1)
    strength = (diff > 18).reshape(len(angles), len(offs), 4, -1).mean(axis=3)
    return du, 0.5 * strength.mean(axis=2) + 0.5 * strength.min(axis=2)


def _strongest_offsets(best_per_off: np.ndarray, offs: np.ndarray, min_gap: float, keep: int) -> list[int]:
    """Indices of up to ``keep`` offsets, strongest first, of strength 0.5 or more and at least
    ``min_gap`` apart."""
    picked: list[int] = []
    taken: list[float] = []
    for k in np.argsort(-best_per_off):
        if best_per_off[k] < 0.5 or len(picked) >= keep:
            break
        if any(abs(float(offs[k]) - o) < min_gap for o in taken):
            continue
        taken.append(float(offs[k]))
        picked.append(int(k))
    return picked


def side_alternatives(q: np.ndarray, i: int, lab: np.ndarray, keep: int = 3) -> list[np.ndarray]:
    """Other places side ``i`` of ``q`` could be: the straight lines roughly parallel to it (within
    a few degrees, from a third of the note inwards to a sixth outwards) along which the colour
    changes most consistently; as ``(vx, vy, x0, y0)`` lines, strongest first."""
    h, w = lab.shape[:2]
    c = q.mean(axis=0)
    a, b = q[i], q[(i + 1) % 4]
    u, n, length = side_frame(a, b, outward_from=c)
    if length < 8:
        return []
    depth = side_depth(q, i)
    offs = np.arange(-0.35 * depth, 0.18 * depth, 1.5, dtype=np.float32)
    off = max(2.0, min(h, w) / 150)
    mid = 0.5 * (a + b)
    du, strength = _parallel_strength(lab, mid, u, n, length, offs, off)
    arg_angle = strength.argmax(axis=0)
    out = []
    for k in _strongest_offsets(strength.max(axis=0), offs, 3 * off, keep):
        v = du[arg_angle[k]]
        p0 = mid + offs[k] * n
        out.append(np.array([v[0], v[1], p0[0], p0[1]], np.float32))
    return out


def strip_belongs(q: np.ndarray, i: int, alt: np.ndarray, lab: np.ndarray) -> bool:
    """Whether moving side ``i`` of ``q`` onto the line ``alt`` is plausible by colour: the strip
    given up by moving inwards must look like what lies outside the note (clutter, table), not like
    the note (else the new line is printed on the note); the strip taken in by moving outwards must
    look like the note."""
    h, w = lab.shape[:2]
    c = q.mean(axis=0)
    a, b = q[i], q[(i + 1) % 4]
    d = b - a
    length = float(np.hypot(*d)) + 1e-6
    u = d / length
    n = np.array([-u[1], u[0]], np.float32)
    if float(n @ (c - a)) > 0:
        n = -n  # outwards
    off = max(2.0, min(h, w) / 120)
    t = np.linspace(0.1, 0.9, 24, dtype=np.float32)[:, None]
    old = a + t * d
    # where the normal through each sample meets the new line
    an = np.array([-alt[1], alt[0]], np.float32)
    denom = float(n @ an)
    if abs(denom) < 1e-3:
        return False
    o = ((alt[2:] - old) @ an) / denom  # signed distance along the outward normal, per sample
    if float(np.abs(np.median(o))) < 2 * off:
        return True  # a small move: nothing to judge
    new = old + o[:, None] * n
    strip = sample(lab, 0.5 * (old + new), np.float32)
    lo, hi = np.minimum(o, 0.0), np.maximum(o, 0.0)
    outside = sample(lab, old + (hi + off)[:, None] * n, np.float32)
    inside = sample(lab, old + (lo - off)[:, None] * n, np.float32)
    d_out = np.abs(strip - outside).sum(axis=1)
    d_in = np.abs(strip - inside).sum(axis=1)
    near_out = float((d_out < d_in).mean())
    if float(np.median(o)) < 0:
        return near_out > 0.5 or float((d_in > STRIP_FAR).mean()) > 0.7
    return near_out < 0.5


def _side_lines(q: np.ndarray) -> list[np.ndarray]:
    """The four sides of ``q`` as lines, side ``j`` through corner ``j``."""
    lines = []
    for j in range(4):
        a, b = q[j], q[(j + 1) % 4]
        d = b - a
        lines.append(line_through(a, d, float(np.hypot(*d)) + 1e-6))
    return lines


def _move_side(
    q: np.ndarray, i: int, best: float, lab: np.ndarray, edges: np.ndarray, mask: np.ndarray, image_area: float
) -> tuple[np.ndarray, float] | None:
    """The first of side ``i``'s plausible alternatives whose outline scores more than ``best``
    (by over 0.001), with that score; None when there is none."""
    lines = _side_lines(q)
    for alt in side_alternatives(q, i, lab):
        if not strip_belongs(q, i, alt, lab):
            continue
        trial = list(lines)
        trial[i] = alt
        pts = [line_intersection(trial[j - 1], trial[j]) for j in range(4)]
        if any(p is None for p in pts):
            continue
        cand = order_corners(np.array(pts, np.float32))
        shape = score_quad(cand, image_area)
        if shape <= best:
            continue
        sc = shape * support(cand, edges, mask, lab)
        if sc > best + 1e-3:
            return cand, sc
    return None


def search_sides(
    quad: np.ndarray, lab: np.ndarray, edges: np.ndarray, mask: np.ndarray, image_area: float
) -> tuple[np.ndarray, float]:
    """Try each side of ``quad`` at its :func:`side_alternatives`, one side at a time, keeping any
    change that raises the score (shape times support). Returns the best outline and its score."""
    q = order_corners(quad)
    best = score_quad(q, image_area) * support(q, edges, mask, lab)
    for _ in range(2):
        improved = False
        for i in range(4):
            moved = _move_side(q, i, best, lab, edges, mask, image_area)
            if moved is not None:
                q, best = moved
                improved = True
        if not improved:
            break
    return q, best
