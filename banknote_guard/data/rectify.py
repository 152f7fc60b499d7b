"""Find a banknote in a scan or photo and warp it to an upright, landscape rectangle.

The detector works on a small copy of the picture (longer side :data:`WORK_SIDE` pixels). It builds
foreground masks one after another, cheapest first (colour distance from the background seen along
the picture's border; edges closed into regions; the raw edge map; Otsu on colourfulness, both ways
round; edges of colour alone, blind to wood grain, stripes and shadows), and turns the largest
contours of each into candidate quadrilaterals: the polygon approximation of the hull with its sides
refitted to the contour, and quadrilaterals made of the contour's dominant straight lines (RANSAC;
robust to clutter stuck to the note). A candidate scores by its shape (right angles, banknote aspect
1.6-2.6, size) times its support in the picture (each side lies on edges and separates two different
colours along all its length; its inside is foreground). The search stops early once a candidate
scores :data:`EARLY_EXIT_SCORE`. On a plain background (a scanner lid) everything clearly unlike the
border is the note, and a clean quadrilateral region found that way is taken directly: this finds
pale notes on pale lids by the paper's edge rather than by a printed line inside the note. The
winner, unless it scored :data:`EARLY_EXIT_SCORE`, has each side tried at the other straight colour
changes roughly parallel to it (clutter or a shadow touching the note pulls a side out; a printed
line pulls one in), keeping moves that raise the score and whose strip given up or taken in looks
like the outside or the note respectively. Its sides are then snapped onto the paper's edge and,
where a side stops at a line printed inside the note, pushed out to the paper's edge. Each side is
finally refitted, to a fraction of a pixel, to the strongest colour step across it in the
full-resolution picture. The note is warped from the full-resolution picture with
:func:`cv2.warpPerspective`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import cv2
import numpy as np

from banknote_guard.errors import parameter_error

#: Longer side, in pixels, of the working copy the detector looks at.
WORK_SIDE: int = 480

#: Aspect ratios (long side / short side) that banknotes have.
NOTE_ASPECT_RANGE: tuple[float, float] = (1.6, 2.6)

_NEXT = np.array([1, 2, 3, 0])
_PREV = np.array([3, 0, 1, 2])

#: Outer contours looked at per mask, largest first.
MAX_CONTOURS: int = 4

#: A candidate scoring this high ends the search early.
EARLY_EXIT_SCORE: float = 0.85

#: Largest 95th percentile of colour distance from the background colour along the picture's border
#: for which the background counts as plain.
UNIFORM_BORDER_SPREAD: float = 12.0

#: Colour distance beyond which a strip given up by a side moving inwards is taken for something
#: other than the note.
STRIP_FAR: float = 60.0

#: A candidate holding the best one whole (2-8 times its area) wins when it scores this fraction of
#: the best one's score.
STRIP_HOLDER_SCORE: float = 0.7

#: Candidates scoring below this are not taken for a note.
MIN_SCORE: float = 0.45


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
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8 or min(img.shape[:2]) < 8:
        raise parameter_error("rgb", "rectify_note", "a uint8 array of shape (H, W, 3), at least 8x8", img.shape)
    if not isinstance(out_width, (int, np.integer)) or out_width < 8:
        raise parameter_error("out_width", "rectify_note", "an integer >= 8", out_width)
    if aspect is not None and not (0.2 <= float(aspect) <= 10.0):
        raise parameter_error("aspect", "rectify_note", "None or a float in [0.2, 10]", aspect)
    if not 0.0 < float(min_area_fraction) < 1.0:
        raise parameter_error("min_area_fraction", "rectify_note", "a float in (0, 1)", min_area_fraction)

    h, w = img.shape[:2]
    small = _downscale(img, WORK_SIDE)
    sh, sw = small.shape[:2]
    best = _detect(small, float(min_area_fraction))
    if best is None:
        return _fallback(img, out_width, aspect, "no note outline found; using the whole image")
    quad_small, score = best
    # Small-image pixel centres back to source-image pixel coordinates.
    sx, sy = w / sw, h / sh
    quad = np.empty_like(quad_small)
    quad[:, 0] = (quad_small[:, 0] + 0.5) * sx - 0.5
    quad[:, 1] = (quad_small[:, 1] + 0.5) * sy - 0.5
    quad = order_corners(quad)
    if max(sx, sy) >= 1.5:  # the working copy is much coarser than the source: refine there
        quad = order_corners(_refine_full_res(img, quad, 1.5 * max(sx, sy) + 1.0))
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
    conf = float(np.clip(score, 0.0, 1.0))
    return RectifiedNote(
        image=np.ascontiguousarray(warped),
        corners=quad.astype(np.float32),
        found=True,
        confidence=conf,
        message=f"note outline found (confidence {conf:.2f})",
    )


# --------------------------------------------------------------------------------------------------
# internals


def _side_frame(
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


def _corners_from_lines(lines: list[np.ndarray], quad: np.ndarray, max_move: np.ndarray) -> np.ndarray | None:
    """Corner ``i`` = intersection of side lines ``i - 1`` and ``i`` (``cv2.fitLine`` format); None when
    two sides are parallel or a corner would move farther than ``max_move[i]`` from ``quad[i]``."""
    out = np.empty_like(quad)
    for i in range(4):
        p = _line_intersection(lines[i - 1], lines[i])
        if p is None or np.linalg.norm(p - quad[i]) > max_move[i]:
            return None
        out[i] = p
    return out


def _refine_full_res(img: np.ndarray, quad: np.ndarray, reach: float) -> np.ndarray:
    """Move each side onto the strongest colour step across it in the full-resolution picture,
    to a fraction of a pixel: profiles across the side (within ``reach`` pixels) give one edge point
    each (the peak of the step, refined by a parabola), and a robust line fit through them replaces
    the side. Sides with too few clear edge points are kept."""
    q = order_corners(quad)
    c = q.mean(axis=0)
    n_t, half = 40, max(3, int(np.ceil(reach)))
    t = np.linspace(0.06, 0.94, n_t, dtype=np.float32)
    offs = np.arange(-half, half + 1, dtype=np.float32)
    lines = []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        u, n, length = _side_frame(a, b, outward_from=c)
        if length < 16:
            return quad
        d = b - a
        base = a[None, :] + t[:, None] * d[None, :]
        pos = base[:, None, :] + offs[None, :, None] * n[None, None, :]
        prof = np.zeros((n_t, len(offs), 3), np.float32)
        for s_ in (-1.0, 0.0, 1.0):  # average three neighbours along the side against noise
            p = pos + s_ * u
            prof += cv2.remap(img, p[..., 0], p[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        grad = np.abs(prof[:, 2:] - prof[:, :-2]).sum(axis=2)  # step strength between offs[k] and offs[k+2]
        k = np.argmax(grad, axis=1)
        peak = grad[np.arange(n_t), k]
        k = np.clip(k, 1, grad.shape[1] - 2)
        g0, g1, g2 = grad[np.arange(n_t), k - 1], grad[np.arange(n_t), k], grad[np.arange(n_t), k + 1]
        den = g0 - 2 * g1 + g2
        frac = np.where(np.abs(den) > 1e-6, 0.5 * (g0 - g2) / np.where(np.abs(den) > 1e-6, den, 1.0), 0.0)
        o = offs[0] + 1.0 + k + np.clip(frac, -0.5, 0.5)
        good = peak > max(30.0, 0.35 * float(np.median(peak)))
        if int(good.sum()) < n_t // 3:
            lines.append(np.array([u[0], u[1], a[0], a[1]], np.float32))
            continue
        pts = base[good] + o[good, None] * n[None, :]
        lines.append(cv2.fitLine(pts.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).reshape(4))
    out = _corners_from_lines(lines, q, np.full(4, 2.5 * reach))
    return quad if out is None else out


def _fallback(img: np.ndarray, out_width: int, aspect: float | None, message: str) -> RectifiedNote:
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


def _colour_space(small: np.ndarray) -> np.ndarray:
    """Y, Cr, Cb with the chroma doubled, so colour differences weigh about as in CIELAB; one fast
    linear transform of the RGB values."""
    return cv2.transform(small, _YCC2)


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


def _kernels(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    k = max(3, int(round(min(shape[:2]) / 80)) | 1)
    return (
        cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)),
        cv2.getStructuringElement(cv2.MORPH_RECT, (2 * k + 1, 2 * k + 1)),
    )


def _border_colour(lab: np.ndarray) -> np.ndarray:
    """Median colour of a thin band along the picture's border: the background's colour."""
    sh, sw = lab.shape[:2]
    b = max(2, min(sh, sw) // 40)
    border = np.concatenate(
        [lab[:b].reshape(-1, 3), lab[-b:].reshape(-1, 3), lab[:, :b].reshape(-1, 3), lab[:, -b:].reshape(-1, 3)]
    )
    return np.median(border, axis=0).astype(np.float32)


def _background_distance(lab: np.ndarray, bg_colour: np.ndarray) -> np.ndarray:
    """Smoothed colour distance of every pixel from the background colour, uint8."""
    bg = np.clip(bg_colour, 0, 255)
    diff = cv2.absdiff(lab, tuple(float(v) for v in bg.astype(np.uint8)) + (0.0,))
    return cv2.GaussianBlur(cv2.transform(diff, _DIST_WEIGHTS), (5, 5), 0)


def _background_mask(dist: np.ndarray) -> np.ndarray:
    """Foreground by colour distance from the background seen along the picture's border (Otsu)."""
    _, big = _kernels(dist.shape)
    _, m = cv2.threshold(dist, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.morphologyEx(cv2.morphologyEx(m, cv2.MORPH_CLOSE, big), cv2.MORPH_OPEN, big)


def _uniform_background_mask(dist: np.ndarray) -> np.ndarray | None:
    """Foreground on a plain background (a scanner lid, a plain desk): everything whose colour lies
    clearly outside the spread of colours seen along the picture's border. Catches pale notes on a
    pale lid, where Otsu would split the note's own pale parts off. None when the border is not plain.
    """
    _, big = _kernels(dist.shape)
    sh, sw = dist.shape[:2]
    b = max(2, min(sh, sw) // 40)
    border = np.concatenate([dist[:b].ravel(), dist[-b:].ravel(), dist[:, :b].ravel(), dist[:, -b:].ravel()])
    lo, hi = np.percentile(border, [95, 99])
    if lo > UNIFORM_BORDER_SPREAD:
        return None
    thr = float(np.clip(2.0 * hi + 3.0, 6.0, 40.0))
    m = (dist > thr).astype(np.uint8) * 255
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, big)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(m)
    cv2.drawContours(filled, contours, -1, 255, thickness=-1)
    return cv2.morphologyEx(filled, cv2.MORPH_OPEN, big)


def _edge_masks(lab: np.ndarray, chroma: bool = False) -> tuple[np.ndarray, np.ndarray]:
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
    closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, big)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(closed)
    cv2.drawContours(filled, contours, -1, 255, thickness=-1)
    filled = cv2.morphologyEx(filled, cv2.MORPH_OPEN, big)
    return cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))), filled


def _saturation_masks(lab: np.ndarray) -> list[np.ndarray]:
    """Otsu on colourfulness, both ways round (colourful note on a grey lid, or the reverse)."""
    kernel, big = _kernels(lab.shape)
    chroma = cv2.absdiff(lab[:, :, 1], 128) // 2 + cv2.absdiff(lab[:, :, 2], 128) // 2
    sat = cv2.GaussianBlur(chroma, (5, 5), 0)
    _, m = cv2.threshold(sat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return [
        cv2.morphologyEx(cv2.morphologyEx(m, cv2.MORPH_CLOSE, big), cv2.MORPH_OPEN, kernel),
        cv2.morphologyEx(cv2.morphologyEx(255 - m, cv2.MORPH_CLOSE, big), cv2.MORPH_OPEN, kernel),
    ]


def _line_intersection(l1: np.ndarray, l2: np.ndarray) -> np.ndarray | None:
    (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = l1, l2
    det = vx1 * (-vy2) - vy1 * (-vx2)
    if abs(det) < 1e-6:
        return None
    t = ((x2 - x1) * (-vy2) - (y2 - y1) * (-vx2)) / det
    return np.array([x1 + t * vx1, y1 + t * vy1], np.float32)


def _refine_quad(quad: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Fit a straight line to the contour points along each side and intersect neighbouring lines."""
    lines = []
    for i in range(4):
        a = quad[i]
        u, n, length = _side_frame(a, quad[(i + 1) % 4])
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
    out = _corners_from_lines(lines, quad, 0.15 * diagonals)
    return quad if out is None else out


def _quad_of(contour: np.ndarray) -> np.ndarray:
    hull = cv2.convexHull(contour)
    peri = cv2.arcLength(hull, True)
    for eps in (0.02, 0.035, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * peri, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            break
    return cv2.boxPoints(cv2.minAreaRect(contour)).astype(np.float32)


def _aspect_score(a: float) -> float:
    lo, hi = NOTE_ASPECT_RANGE
    if lo <= a <= hi:
        return 1.0
    off = (lo - a) if a < lo else (a - hi)
    return float(np.exp(-((off / 0.35) ** 2)))


def _ransac_lines(pts: np.ndarray, tol: float, rng: np.random.Generator, n_lines: int = 6) -> list[np.ndarray]:
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


def _quads_from_lines(lines: list[np.ndarray]) -> list[np.ndarray]:
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
            pts = [_line_intersection(lines[p], lines[q]) for p in (a, b) for q in (c, d)]
            if any(p is None for p in pts):
                continue
            quads.append(order_corners(np.array(pts, np.float32)))
    return quads


def _support(quad: np.ndarray, edges: np.ndarray, mask: np.ndarray, lab: np.ndarray) -> float:
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
    c = q.mean(axis=0)
    t = np.linspace(0.04, 0.96, 24, dtype=np.float32)[:, None]
    off = max(2.0, min(h, w) / 120)
    seg, inward = [], []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        d = b - a
        n = np.array([-d[1], d[0]], np.float32) / (np.hypot(*d) + 1e-6)
        if float(n @ (c - a)) < 0:
            n = -n
        seg.append(a + d * t)
        inward.append(np.broadcast_to(n, (len(t), 2)))
    on_a = np.concatenate(seg)
    nrm = np.concatenate(inward)

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


def _snap_sides(quad: np.ndarray, edges: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Move each side along its normal to the outermost nearby place where the colour changes.

    A candidate built from a printed frame line or a slightly misplaced line lands a few pixels
    inside the real edge; this moves it onto the edge of the paper.
    """
    h, w = edges.shape
    q = order_corners(quad)
    c = q.mean(axis=0)
    t = np.linspace(0.08, 0.92, 24, dtype=np.float32)[:, None]
    span = max(4, int(round(min(h, w) / 45)))
    offsets = np.arange(-span, 2 * span + 1, dtype=np.float32)
    off = max(2.0, min(h, w) / 150)
    lines = []
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        _, n, length = _side_frame(a, b, outward_from=c)
        if length < 8:
            return quad
        d = b - a
        seg = a + d * t
        pos = seg[None, :, :] + offsets[:, None, None] * n[None, None, :]
        ins = pos - off * n
        out = pos + off * n

        def look(p: np.ndarray) -> np.ndarray:
            xi = np.clip(p[..., 0].astype(np.int32), 0, w - 1)
            yi = np.clip(p[..., 1].astype(np.int32), 0, h - 1)
            return lab[yi, xi].astype(np.int16)

        diff = np.abs(look(ins) - look(out)).sum(axis=2)
        strength = (diff > 18).mean(axis=1) + 0.002 * np.minimum(diff, 100).mean(axis=1)
        best = float(strength.max())
        if best < 0.3:
            lines.append(np.array([d[0] / length, d[1] / length, a[0], a[1]], np.float32))
            continue
        good = strength >= 0.95 * best
        k = int(np.nonzero(good)[0].max())  # outermost strong place ...
        j = k
        while j > 0 and good[j - 1]:
            j -= 1
        o = float(offsets[j] + offsets[k]) / 2  # ... and the middle of its plateau
        lines.append(np.array([d[0] / length, d[1] / length, a[0] + o * n[0], a[1] + o * n[1]], np.float32))
    out_q = np.empty_like(q)
    for i in range(4):
        p = _line_intersection(lines[i - 1], lines[i])
        if p is None:
            return quad
        out_q[i] = p
    return out_q


def _extend_sides(quad: np.ndarray, lab: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """Push out sides that stop inside the note.

    A note's printed area often ends in a clear line before the paper does (a pale watermark zone,
    a frame), which makes a second, smaller rectangle. Where the colour just outside a side is not
    the background's (taken from the picture's border), the side moves out to the nearest parallel
    colour change beyond which the background does begin, up to 45% of the note's other dimension.
    """
    h, w = lab.shape[:2]
    q = order_corners(quad)
    c = q.mean(axis=0)
    t = np.linspace(0.1, 0.9, 16, dtype=np.float32)[:, None]
    off = max(2.0, min(h, w) / 150)
    weights = np.array([0.5, 1.0, 1.0], np.float32)
    lines = []
    changed = False

    def look(p: np.ndarray) -> np.ndarray:
        xi = np.clip(p[..., 0].astype(np.int32), 0, w - 1)
        yi = np.clip(p[..., 1].astype(np.int32), 0, h - 1)
        return lab[yi, xi].astype(np.float32)

    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        _, n, length = _side_frame(a, b, outward_from=c)
        if length < 8:
            return quad
        d = b - a
        depth = 0.5 * (float(np.linalg.norm(q[i] - q[i - 1])) + float(np.linalg.norm(q[(i + 2) % 4] - q[(i + 1) % 4])))
        offsets = np.arange(0.0, 0.45 * depth, 1.0, dtype=np.float32)
        seg = a + d * t
        pos = seg[None, :, :] + offsets[:, None, None] * n[None, None, :]
        beyond = look(pos + 3 * off * n)
        is_bg = ((np.abs(beyond - bg) * weights).sum(axis=2) < 30).mean(axis=1)
        o = 0.0
        if is_bg[0] < 0.6:
            edge = (np.abs(look(pos + off * n) - look(pos - off * n)).sum(axis=2) > 18).mean(axis=1)
            ok = np.nonzero((edge >= 0.6) & (is_bg >= 0.6) & (offsets > 2 * off))[0]
            if len(ok):
                o = float(offsets[ok[0]])
                changed = True
        lines.append(np.array([d[0] / length, d[1] / length, a[0] + o * n[0], a[1] + o * n[1]], np.float32))
    if not changed:
        return quad
    out_q = np.empty_like(q)
    for i in range(4):
        p = _line_intersection(lines[i - 1], lines[i])
        if p is None:
            return quad
        out_q[i] = p
    return out_q


def _side_alternatives(q: np.ndarray, i: int, lab: np.ndarray, keep: int = 3) -> list[np.ndarray]:
    """Other places side ``i`` of ``q`` could be: the straight lines roughly parallel to it (within
    a few degrees, from a third of the note inwards to a sixth outwards) along which the colour
    changes most consistently; as ``(vx, vy, x0, y0)`` lines, strongest first."""
    h, w = lab.shape[:2]
    c = q.mean(axis=0)
    a, b = q[i], q[(i + 1) % 4]
    u, n, length = _side_frame(a, b, outward_from=c)
    if length < 8:
        return []
    depth = 0.5 * (float(np.linalg.norm(q[i] - q[i - 1])) + float(np.linalg.norm(q[(i + 2) % 4] - q[(i + 1) % 4])))
    offs = np.arange(-0.35 * depth, 0.18 * depth, 1.5, dtype=np.float32)
    angles = np.deg2rad(np.array([-4.0, 0.0, 4.0], np.float32))
    t = np.linspace(-0.45, 0.45, 16, dtype=np.float32) * length
    off = max(2.0, min(h, w) / 150)
    mid = 0.5 * (a + b)
    # directions of the rotated sides, their normals, and sample points: (angle, offset, t, 2)
    du = np.stack([np.cos(angles) * u[0] - np.sin(angles) * u[1], np.sin(angles) * u[0] + np.cos(angles) * u[1]], 1)
    dn = np.stack([-du[:, 1], du[:, 0]], 1)
    dn *= np.sign((dn @ n))[:, None]
    pts = (mid[None, None, None, :] + offs[None, :, None, None] * n[None, None, None, :]
           + t[None, None, :, None] * du[:, None, None, :])

    def look(p: np.ndarray) -> np.ndarray:
        xi = np.clip(p[..., 0].astype(np.int32), 0, w - 1)
        yi = np.clip(p[..., 1].astype(np.int32), 0, h - 1)
        return lab[yi, xi].astype(np.int16)

    step = off * dn[:, None, None, :]
    diff = np.abs(look(pts + step) - look(pts - step)).sum(axis=-1)
    strength = (diff > 18).reshape(len(angles), len(offs), 4, -1).mean(axis=3)
    strength = 0.5 * strength.mean(axis=2) + 0.5 * strength.min(axis=2)  # (angle, offset)
    best_per_off = strength.max(axis=0)
    arg_angle = strength.argmax(axis=0)
    out = []
    order = np.argsort(-best_per_off)
    taken: list[float] = []
    for k in order:
        if best_per_off[k] < 0.5 or len(out) >= keep:
            break
        if any(abs(float(offs[k]) - o) < 3 * off for o in taken):
            continue
        taken.append(float(offs[k]))
        v = du[arg_angle[k]]
        p0 = mid + offs[k] * n
        out.append(np.array([v[0], v[1], p0[0], p0[1]], np.float32))
    return out


def _strip_belongs(q: np.ndarray, i: int, alt: np.ndarray, lab: np.ndarray) -> bool:
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

    def look(p: np.ndarray) -> np.ndarray:
        xi = np.clip(p[..., 0].astype(np.int32), 0, w - 1)
        yi = np.clip(p[..., 1].astype(np.int32), 0, h - 1)
        return lab[yi, xi].astype(np.float32)

    new = old + o[:, None] * n
    strip = look(0.5 * (old + new))
    lo, hi = np.minimum(o, 0.0), np.maximum(o, 0.0)
    outside = look(old + (hi + off)[:, None] * n)
    inside = look(old + (lo - off)[:, None] * n)
    d_out = np.abs(strip - outside).sum(axis=1)
    d_in = np.abs(strip - inside).sum(axis=1)
    near_out = float((d_out < d_in).mean())
    if float(np.median(o)) < 0:
        return near_out > 0.5 or float((d_in > STRIP_FAR).mean()) > 0.7
    return near_out < 0.5


def _search_sides(
    quad: np.ndarray, lab: np.ndarray, edges: np.ndarray, mask: np.ndarray, image_area: float
) -> tuple[np.ndarray, float]:
    """Try each side of ``quad`` at its :func:`_side_alternatives`, one side at a time, keeping any
    change that raises the score (shape times support). Returns the best outline and its score."""
    q = order_corners(quad)
    best = _score_quad(q, image_area) * _support(q, edges, mask, lab)
    for _ in range(2):
        improved = False
        for i in range(4):
            lines = []
            for j in range(4):
                a, b = q[j], q[(j + 1) % 4]
                d = b - a
                ln = float(np.hypot(*d)) + 1e-6
                lines.append(np.array([d[0] / ln, d[1] / ln, a[0], a[1]], np.float32))
            for alt in _side_alternatives(q, i, lab):
                if not _strip_belongs(q, i, alt, lab):
                    continue
                trial = list(lines)
                trial[i] = alt
                pts = [_line_intersection(trial[j - 1], trial[j]) for j in range(4)]
                if any(p is None for p in pts):
                    continue
                cand = order_corners(np.array(pts, np.float32))
                shape = _score_quad(cand, image_area)
                if shape <= best:
                    continue
                sc = shape * _support(cand, edges, mask, lab)
                if sc > best + 1e-3:
                    best, q, improved = sc, cand, True
                    break
        if not improved:
            break
    return q, best


def _score_quad(q: np.ndarray, image_area: float) -> float:
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


def _plain_outline(
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
    h, w = mask.shape
    if (pts[:, 0] <= 1).mean() > 0.02 or (pts[:, 0] >= w - 2).mean() > 0.02 or (pts[:, 1] <= 1).mean() > 0.02 or (
        pts[:, 1] >= h - 2
    ).mean() > 0.02:
        return None  # runs off the picture: leave it to the general search
    quad = order_corners(_refine_quad(order_corners(_quad_of(cnt)), pts))
    shape = _score_quad(quad, image_area)
    if shape < 0.8:
        return None
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
    on_sides = float((dist < 2 * tol).mean())
    if on_sides < 0.93:
        return None
    return quad, shape * on_sides


def _detect(small: np.ndarray, min_area_fraction: float) -> tuple[np.ndarray, float] | None:
    sh, sw = small.shape[:2]
    image_area = float(sh * sw)
    rng = np.random.default_rng(0)
    tol = max(1.5, min(sh, sw) / 200)
    found: list[tuple[np.ndarray, float, float]] = []
    colour = _colour_space(small)
    lab = cv2.GaussianBlur(colour, (3, 3), 0)
    bg_colour = _border_colour(colour)
    dist = _background_distance(colour, bg_colour)

    plain = _uniform_background_mask(dist)
    if plain is not None:
        direct = _plain_outline(plain, image_area, min_area_fraction, tol)
        if direct is not None:
            # the mask's outline lies a little outside the paper (smoothing, closing): put it on the edge
            return order_corners(_refine_full_res(small, direct[0], 2.5)), direct[1]
    bg_mask = _background_mask(dist)
    edges, filled_edges = _edge_masks(colour)

    def sources() -> Iterator[tuple[np.ndarray, int, np.ndarray]]:
        """(image to take contours of, retrieval mode, mask for the inside test), cheapest first."""
        if plain is not None:
            yield plain, cv2.RETR_EXTERNAL, plain
        yield bg_mask, cv2.RETR_EXTERNAL, bg_mask
        yield filled_edges, cv2.RETR_EXTERNAL, filled_edges
        yield edges, cv2.RETR_LIST, filled_edges
        for m in _saturation_masks(colour):
            yield m, cv2.RETR_EXTERNAL, m
        c_edges, c_filled = _edge_masks(colour, chroma=True)
        yield c_filled, cv2.RETR_EXTERNAL, c_filled
        yield c_edges, cv2.RETR_LIST, c_filled

    seen: set[tuple[int, ...]] = set()
    best = 0.0
    for mask, mode, support_mask in sources():
        if best >= EARLY_EXIT_SCORE:
            break
        contours, _ = cv2.findContours(mask, mode, cv2.CHAIN_APPROX_NONE)
        sized = [(float(cv2.contourArea(c)), c) for c in contours if len(c) >= 20]
        sized = [(a, c) for a, c in sized if min_area_fraction * image_area <= a <= 0.97 * image_area]
        sized.sort(key=lambda ac: -ac[0])
        for area, cnt in sized[:MAX_CONTOURS]:
            pts = cnt.reshape(-1, 2).astype(np.float32)

            def candidates(pts: np.ndarray = pts, cnt: np.ndarray = cnt) -> Iterator[np.ndarray]:
                """Ordered quadrilaterals of the contour; the line search only while still unsure."""
                yield order_corners(_refine_quad(order_corners(_quad_of(cnt)), pts))
                if best < EARLY_EXIT_SCORE:
                    sub = pts[:: max(1, len(pts) // 400)]
                    yield from _quads_from_lines(_ransac_lines(sub, tol, rng))

            for quad in candidates():
                key = tuple(int(v) for v in (quad / 3.0).round().ravel())
                if key in seen:
                    continue
                seen.add(key)
                shape = _score_quad(quad, image_area)
                if shape < max(0.5 * MIN_SCORE, 0.8 * best):  # the support is at most 1
                    continue
                score = shape * _support(quad, edges, support_mask, lab)
                best = max(best, score)
                if score >= 0.5 * MIN_SCORE:
                    found.append((quad, score, abs(float(cv2.contourArea(quad)))))
    either = filled_edges | bg_mask
    if not found:
        return None
    quad, score, area = max(found, key=lambda f: f[1])
    if score < EARLY_EXIT_SCORE:
        # Unsure: clutter touching the note may have pulled a side out (or a shadow in).
        moved, moved_score = _search_sides(quad, lab, edges, either, image_area)
        if moved_score > max(score, 0.5 * MIN_SCORE) + 0.05:
            quad, score = moved, moved_score
            area = abs(float(cv2.contourArea(quad)))
    if score < MIN_SCORE:
        return None
    # A printed frame inside the note makes a second, smaller rectangle: prefer the outer one.
    centre = tuple(float(v) for v in quad.mean(axis=0))
    outer = [
        f
        for f in found
        if area < f[2] <= 1.5 * area
        and f[1] >= 0.8 * score
        and cv2.pointPolygonTest(f[0].reshape(-1, 1, 2), centre, False) > 0
    ]
    if outer:
        quad, score, _ = max(outer, key=lambda f: f[2])
    else:
        # A panel of the note (the watermark zone beyond the security thread) can look like a note
        # on its own: prefer a plausible outline that holds it whole and shares one of its sides.
        tol_px = 0.02 * max(lab.shape[:2])
        holders = [
            f
            for f in found
            if 2.0 * area < f[2] <= 8.0 * area
            and f[1] >= STRIP_HOLDER_SCORE * score
            and all(cv2.pointPolygonTest(f[0].reshape(-1, 1, 2), (float(x), float(y)), True) > -tol_px
                    for x, y in quad)
        ]
        if holders:
            quad, score, _ = max(holders, key=lambda f: f[1])
    snapped = order_corners(_snap_sides(quad, edges, lab))
    snapped_score = _score_quad(snapped, image_area) * _support(snapped, edges, either, lab)
    if snapped_score >= 0.8 * score:
        quad = snapped
    wider = _extend_sides(quad, lab, bg_colour)
    if wider is not quad:
        wider = order_corners(_snap_sides(wider, edges, lab))
        wider_score = _score_quad(wider, image_area) * _support(wider, edges, either, lab)
        if wider_score >= 0.6 * score and wider_score >= MIN_SCORE:
            quad, score = wider, max(score, wider_score)
    return quad, score
