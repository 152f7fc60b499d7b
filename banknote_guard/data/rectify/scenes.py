"""Real-looking scenes with known corners, for measuring the detector: a photo of a real note (a crop
that is the whole note) pasted under a camera's perspective onto a table, cloth, paper or tiles drawn
procedurally, among clutter, partly covered by fingers, pens, cables or a phone, under shadows, glare
and uneven light, then blurred, noised, white-balanced and JPEG-compressed.

Used by ``benchmarks/real_outline.py`` and the tests; the detector itself never imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Capture sizes (width, height) a scene is drawn at: phone photos in both orientations, square
#: crops and a capture app's tight, note-shaped framing (the only one a note can fill 90 % of).
FRAMES: tuple[tuple[int, int], ...] = ((1280, 960), (960, 1280), (1024, 1024), (1280, 720), (864, 864))
_TIGHT_FRAME_LONG = 1280

#: Changes whenever the same seed would draw a different scene (caches of scenes key on it).
VERSION: int = 5

#: Backgrounds a scene may be drawn on.
BACKGROUNDS: tuple[str, ...] = ("wood", "cloth", "paper", "tiles", "shirt", "speckle")


@dataclass
class Scene:
    """One scene: the capture, the note's corners in it and how it was made.

    Attributes:
        rgb: ``(H, W, 3)`` uint8 capture.
        corners: ``(4, 2)`` float32 corners of the note in capture pixels, clockwise from the note's
            own top-left.
        fill: the note's area as a fraction of the capture's area.
        background: which of :data:`BACKGROUNDS` it lies on.
        occluders: what lies over the note (e.g. ``["finger", "pen"]``).
        effects: the light and camera effects applied (e.g. ``["shadow", "glare", "jpeg 80"]``).
        jpeg: the capture as the JPEG file a camera would write (``rgb`` is it decoded by OpenCV).
        note_mask: ``(H, W)`` float32 in [0, 1]: where the note is, including the parts hidden by
            what lies over it.
    """

    rgb: np.ndarray
    corners: np.ndarray
    fill: float
    background: str
    occluders: list[str]
    effects: list[str]
    jpeg: bytes
    note_mask: np.ndarray


def corner_error(found: np.ndarray, true: np.ndarray) -> float:
    """Largest corner distance in pixels between two outlines, whichever corner either starts at
    (both clockwise)."""
    f = np.asarray(found, np.float64).reshape(4, 2)
    t = np.asarray(true, np.float64).reshape(4, 2)
    return float(min(np.linalg.norm(np.roll(f, k, axis=0) - t, axis=1).max() for k in range(4)))


# ---------------------------------------------------------------------------------------------
# procedural textures


def _noise(rng: np.random.Generator, w: int, h: int, cell: float, octaves: int = 3) -> np.ndarray:
    """Smooth fractal noise in about [-1, 1], features about ``cell`` pixels across."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for _ in range(octaves):
        gw, gh = max(2, int(w / cell) + 2), max(2, int(h / cell) + 2)
        grid = rng.uniform(-1, 1, size=(gh, gw)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
        cell /= 2.0
    return out / total


def _streaks(rng: np.random.Generator, w: int, h: int, angle: float, length: float, width: float) -> np.ndarray:
    """Fine random streaks along ``angle`` (degrees): noise stretched along one direction, rotated."""
    side = int(np.hypot(w, h)) + 4
    small = rng.normal(0, 1, size=(max(2, int(side / width)), max(2, int(side / length)))).astype(np.float32)
    big = cv2.resize(small, (side, side), interpolation=cv2.INTER_LINEAR)
    m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    m[:, 2] += (w / 2 - side / 2, h / 2 - side / 2)
    return cv2.warpAffine(big, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def _colour(rng: np.random.Generator, palette: list[tuple[int, int, int]], jitter: float = 12.0) -> np.ndarray:
    base = np.array(palette[int(rng.integers(len(palette)))], np.float32)
    return np.clip(base + rng.normal(0, jitter, 3), 0, 255).astype(np.float32)


def _wood(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    col = _colour(rng, [(205, 175, 135), (185, 150, 110), (120, 85, 55), (200, 190, 175), (160, 120, 85),
                        (90, 60, 40), (220, 205, 180)])
    angle = float(rng.uniform(0, 180))
    rad = np.deg2rad(angle)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    across = -xx * np.sin(rad) + yy * np.cos(rad)
    warp = _noise(rng, w, h, cell=rng.uniform(150, 400), octaves=2) * rng.uniform(20, 70)
    period = rng.uniform(25, 90)
    rings = np.sin((across + warp) * (2 * np.pi / period))
    bands = _noise(rng, w, h, cell=rng.uniform(200, 500), octaves=2)
    fine = _streaks(rng, w, h, angle, rng.uniform(60, 200), rng.uniform(1.5, 3.0))
    shade = 1.0 + 0.07 * rings + 0.12 * bands + 0.035 * fine
    img = col[None, None, :] * shade[:, :, None]
    # plank seams: dark straight lines along the grain
    if rng.random() < 0.6:
        spacing = rng.uniform(0.25, 0.6) * max(w, h)
        offset = rng.uniform(0, spacing)
        d = np.abs(((across - offset) % spacing) - spacing / 2) - (spacing / 2 - 1.5)
        img *= (1.0 - 0.35 * np.clip(d, 0, 1))[:, :, None]
    return img


def _cloth(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    col = _colour(rng, [(60, 70, 120), (150, 40, 45), (70, 110, 80), (200, 200, 195), (40, 40, 45),
                        (180, 150, 110), (120, 60, 110)], 25)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    f = 2 * np.pi / rng.uniform(3, 7)
    weave = np.sin(xx * f) * np.sin(yy * f)
    folds = _noise(rng, w, h, cell=rng.uniform(120, 300), octaves=2)
    img = col[None, None, :] * (1.0 + 0.06 * weave + 0.22 * folds)[:, :, None]
    if rng.random() < 0.5:  # checks or stripes of a second colour
        col2 = _colour(rng, [(230, 230, 225), (30, 30, 35), (200, 60, 50), (60, 90, 160)], 20)
        period = rng.uniform(40, 160)
        stripes = (np.sin(xx * 2 * np.pi / period) > 0.6).astype(np.float32)
        if rng.random() < 0.6:
            stripes = np.maximum(stripes, (np.sin(yy * 2 * np.pi / period) > 0.6).astype(np.float32))
        img = img * (1 - 0.6 * stripes[:, :, None]) + 0.6 * stripes[:, :, None] * col2[None, None, :]
    return img


def _paper(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    col = _colour(rng, [(238, 238, 232), (225, 225, 228), (245, 240, 225), (210, 215, 220), (190, 200, 185)], 6)
    shade = 1.0 + 0.05 * _noise(rng, w, h, cell=300, octaves=2) + 0.01 * rng.normal(0, 1, (h, w)).astype(np.float32)
    return col[None, None, :] * shade[:, :, None]


def _tiles(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    col = _colour(rng, [(200, 195, 185), (150, 140, 130), (220, 215, 210), (120, 110, 100), (175, 160, 140)], 15)
    size = rng.uniform(0.15, 0.45) * max(w, h)
    angle = np.deg2rad(rng.uniform(0, 90))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    grout = np.minimum(np.abs((u % size) - size / 2), np.abs((v % size) - size / 2)) > size / 2 - 3
    mottle = 0.1 * _noise(rng, w, h, cell=rng.uniform(30, 120), octaves=3)
    img = col[None, None, :] * (1.0 + mottle)[:, :, None]
    img[grout] *= 0.7
    return img


def _shirt(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    img = _cloth(rng, w, h)
    # deep soft folds of worn cloth
    img *= (1.0 + 0.25 * _noise(rng, w, h, cell=rng.uniform(200, 400), octaves=1))[:, :, None]
    return img


def _speckle(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    col = _colour(rng, [(150, 150, 150), (90, 85, 80), (200, 190, 180), (60, 60, 65)], 15)
    dots = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(0.8, 2.0))
    dots /= dots.std() + 1e-6
    img = col[None, None, :] * (1.0 + 0.12 * dots + 0.08 * _noise(rng, w, h, cell=200, octaves=2))[:, :, None]
    return img


_BACKGROUND_MAKERS = {
    "wood": _wood,
    "cloth": _cloth,
    "paper": _paper,
    "tiles": _tiles,
    "shirt": _shirt,
    "speckle": _speckle,
}


# ---------------------------------------------------------------------------------------------
# things on the table and over the note


def _skin(rng: np.random.Generator) -> tuple[int, int, int]:
    c = _colour(rng, [(225, 180, 150), (200, 150, 115), (165, 115, 85), (120, 80, 55), (235, 195, 170)], 10)
    return tuple(int(v) for v in c)  # type: ignore[return-value]


def _capsule(img: np.ndarray, p0: np.ndarray, p1: np.ndarray, width: float, colour: tuple[int, ...],
             shade: bool = True) -> None:
    """A rounded bar from ``p0`` to ``p1`` (a finger, a pen, a cable end), shaded like a cylinder."""
    h, w = img.shape[:2]
    pad = width / 2 + 2
    x0, y0 = (np.floor(np.minimum(p0, p1) - pad)).astype(int).clip(0, [w, h])
    x1, y1 = (np.ceil(np.maximum(p0, p1) + pad)).astype(int).clip(0, [w, h])
    if x1 <= x0 or y1 <= y0:
        return
    roi = img[y0:y1, x0:x1]
    mask = np.zeros(roi.shape[:2], np.uint8)
    off = np.array([x0, y0])
    cv2.line(mask, tuple(int(v) for v in p0 - off), tuple(int(v) for v in p1 - off), 255, max(1, int(width)),
             cv2.LINE_AA)
    a = mask.astype(np.float32) / 255.0
    col = np.array(colour, np.float32)[None, None, :]
    if shade and width >= 6:
        dist = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 3)
        body = 0.7 + 0.3 * np.clip(dist / (width / 2), 0, 1)
        col = col * body[:, :, None]
    roi[:] = roi * (1 - a[:, :, None]) + col * a[:, :, None]


def _finger(rng: np.random.Generator, img: np.ndarray, corners: np.ndarray, note_h: float) -> None:
    """A finger (or thumb) reaching over one side of the note from outside."""
    i = int(rng.integers(4))
    a, b = corners[i], corners[(i + 1) % 4]
    centre = corners.mean(axis=0)
    t = rng.uniform(0.1, 0.9)
    edge = a + t * (b - a)
    inward = centre - edge
    inward /= np.linalg.norm(inward) + 1e-6
    tip = edge + inward * rng.uniform(0.1, 0.35) * note_h
    direction = inward + rng.normal(0, 0.35, 2)
    direction /= np.linalg.norm(direction) + 1e-6
    base = tip - direction * rng.uniform(0.8, 2.0) * note_h
    width = rng.uniform(0.15, 0.3) * note_h
    _capsule(img, base, tip, width, _skin(rng))
    nail = tip - direction * 0.25 * width
    cv2.ellipse(img, tuple(int(v) for v in nail), (max(1, int(0.3 * width)), max(1, int(0.2 * width))),
                float(np.degrees(np.arctan2(direction[1], direction[0]))), 0, 360,
                tuple(int(min(255, v + 30)) for v in _skin(rng)), -1, cv2.LINE_AA)


def _short_side(corners: np.ndarray, right: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The note's short side (left or right in the note's own frame): its two corners and the outward
    unit normal."""
    a, b = (corners[1], corners[2]) if right else (corners[3], corners[0])
    mid = 0.5 * (a + b)
    out = mid - corners.mean(axis=0)
    return a, b, out / (np.linalg.norm(out) + 1e-6)


def _hand_behind(rng: np.random.Generator, img: np.ndarray, corners: np.ndarray, note_h: float, right: bool,
                 skin: tuple[int, int, int]) -> None:
    """The palm and fingers of a hand holding the note by one short end, behind the note (drawn before
    it): the fingers show beyond the note's edge."""
    a, b, out = _short_side(corners, right)
    mid = 0.5 * (a + b) + rng.uniform(-0.2, 0.2) * (b - a)
    palm = mid + out * rng.uniform(0.3, 0.7) * note_h
    axes = (int(rng.uniform(0.35, 0.6) * note_h), int(rng.uniform(0.25, 0.4) * note_h))
    angle = float(np.degrees(np.arctan2(out[1], out[0])))
    cv2.ellipse(img, tuple(int(v) for v in palm), axes, angle, 0, 360, tuple(0.85 * c for c in skin), -1,
                cv2.LINE_AA)
    along = (b - a) / (np.linalg.norm(b - a) + 1e-6)
    for k in range(int(rng.integers(2, 4))):
        base = palm + along * (k - 1) * 0.22 * note_h
        tip = mid + along * (k - 1) * 0.25 * note_h - out * rng.uniform(0.05, 0.3) * note_h
        _capsule(img, base, tip, rng.uniform(0.16, 0.22) * note_h, skin)


def _thumb(rng: np.random.Generator, img: np.ndarray, corners: np.ndarray, note_h: float, right: bool,
           skin: tuple[int, int, int]) -> None:
    """The thumb of a hand holding the note, in front of it, reaching over the short end."""
    a, b, out = _short_side(corners, right)
    edge = a + rng.uniform(0.2, 0.8) * (b - a)
    tip = edge - out * rng.uniform(0.1, 0.3) * note_h
    base = edge + (out + rng.normal(0, 0.4, 2)) * rng.uniform(0.5, 1.0) * note_h
    _capsule(img, base, tip, rng.uniform(0.2, 0.28) * note_h, skin)


def _bend(note: np.ndarray, bow: float) -> tuple[np.ndarray, np.ndarray, int]:
    """The note bowed across its length (its long edges curve by ``bow`` times its length at the
    middle, its corners stay put), on a taller canvas; with its alpha and the canvas's extra margin."""
    nh, nw = note.shape[:2]
    pad = int(np.ceil(abs(bow) * nw)) + 2
    xx, yy = np.meshgrid(np.arange(nw, dtype=np.float32), np.arange(nh + 2 * pad, dtype=np.float32))
    shift = bow * nw * np.sin(np.pi * (xx + 0.5) / nw)
    map_y = yy - pad - shift
    bent = cv2.remap(note, xx, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    alpha = cv2.remap(np.ones((nh, nw), np.float32), xx, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return bent, alpha, pad


def _pen(rng: np.random.Generator, img: np.ndarray, centre: np.ndarray, size: float) -> None:
    angle = rng.uniform(0, np.pi)
    d = np.array([np.cos(angle), np.sin(angle)])
    half = rng.uniform(0.4, 0.8) * size
    p = centre + rng.normal(0, 0.25 * size, 2)
    colour = tuple(int(v) for v in _colour(rng, [(20, 20, 25), (30, 60, 160), (200, 40, 40), (240, 240, 240),
                                                 (40, 150, 60), (250, 140, 30)], 15))
    _capsule(img, p - half * d, p + half * d, rng.uniform(0.025, 0.05) * size, colour)


def _cable(rng: np.random.Generator, img: np.ndarray, centre: np.ndarray, size: float) -> None:
    pts = centre + rng.normal(0, 0.6 * size, size=(5, 2))
    t = np.linspace(0, 1, 60)[:, None]
    # a smooth curve through the points (Catmull-Rom-like chaining of quadratic Beziers)
    curve = []
    for k in range(len(pts) - 2):
        p0, p1, p2 = (pts[k] + pts[k + 1]) / 2, pts[k + 1], (pts[k + 1] + pts[k + 2]) / 2
        curve.append((1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2)
    poly = np.concatenate(curve).astype(np.int32).reshape(-1, 1, 2)
    colour = (25, 25, 25) if rng.random() < 0.6 else (235, 235, 235)
    cv2.polylines(img, [poly], False, colour, max(2, int(rng.uniform(0.008, 0.018) * size * 2)), cv2.LINE_AA)


def _phone(rng: np.random.Generator, img: np.ndarray, centre: np.ndarray, size: float) -> None:
    """A dark rounded slab (a phone, a case, a mouse) with a lighter screen or logo."""
    w_, h_ = rng.uniform(0.3, 0.55) * size, rng.uniform(0.6, 1.0) * size
    box = cv2.boxPoints(((float(centre[0]), float(centre[1])), (float(w_), float(h_)), float(rng.uniform(0, 180))))
    colour = tuple(int(v) for v in _colour(rng, [(25, 25, 30), (40, 45, 50), (200, 200, 205), (30, 90, 150)], 10))
    cv2.fillConvexPoly(img, box.astype(np.int32), colour, cv2.LINE_AA)
    if rng.random() < 0.6:
        inner = cv2.boxPoints(((float(centre[0]), float(centre[1])), (0.85 * float(w_), 0.85 * float(h_)),
                               float(cv2.minAreaRect(box)[2])))
        screen = tuple(int(v) for v in rng.uniform(20, 200, 3))
        cv2.fillConvexPoly(img, inner.astype(np.int32), screen, cv2.LINE_AA)


def _coin(rng: np.random.Generator, img: np.ndarray, centre: np.ndarray, size: float) -> None:
    r = int(rng.uniform(0.08, 0.16) * size)
    c = tuple(int(v) for v in centre + rng.normal(0, 0.3 * size, 2))
    colour = tuple(int(v) for v in _colour(rng, [(190, 160, 80), (170, 170, 165), (150, 110, 70)], 10))
    cv2.circle(img, c, r, colour, -1, cv2.LINE_AA)
    cv2.circle(img, c, max(1, int(0.8 * r)), tuple(int(0.8 * v) for v in colour), 2, cv2.LINE_AA)


def _sheet(rng: np.random.Generator, img: np.ndarray, centre: np.ndarray, size: float) -> None:
    """A sheet of paper or a receipt with lines of print: a pale, straight-edged distractor."""
    w_, h_ = rng.uniform(0.5, 1.2) * size, rng.uniform(0.7, 1.6) * size
    angle = float(rng.uniform(0, 180))
    rect = ((float(centre[0]), float(centre[1])), (float(w_), float(h_)), angle)
    box = cv2.boxPoints(rect).astype(np.int32)
    paper = tuple(int(v) for v in _colour(rng, [(245, 245, 240), (235, 230, 215), (250, 250, 250)], 5))
    cv2.fillConvexPoly(img, box, paper, cv2.LINE_AA)
    rad = np.deg2rad(angle)
    u, v = np.array([np.cos(rad), np.sin(rad)]), np.array([-np.sin(rad), np.cos(rad)])
    for k in np.arange(-0.4, 0.4, rng.uniform(0.04, 0.08)):
        p = centre + k * h_ * v
        half = rng.uniform(0.2, 0.4) * w_
        cv2.line(img, tuple(int(x) for x in p - half * u), tuple(int(x) for x in p + half * u), (90, 90, 95), 1,
                 cv2.LINE_AA)


def _clutter(rng: np.random.Generator, img: np.ndarray, n: int, size: float) -> None:
    h, w = img.shape[:2]
    makers = (_pen, _pen, _cable, _phone, _coin, _sheet)
    for _ in range(n):
        centre = rng.uniform([0, 0], [w, h])
        makers[int(rng.integers(len(makers)))](rng, img, centre, size)


# ---------------------------------------------------------------------------------------------
# geometry of the note in the capture


def _projected(rng: np.random.Generator, note_w: float, note_h: float, max_tilt: float, rot: float) -> np.ndarray:
    """The corners of a ``note_w`` x ``note_h`` note turned by ``rot`` degrees in its plane, tilted
    by up to ``max_tilt`` degrees about a random axis and seen by a pinhole camera; centred on 0."""
    local = np.array([[-note_w / 2, -note_h / 2, 0], [note_w / 2, -note_h / 2, 0], [note_w / 2, note_h / 2, 0],
                      [-note_w / 2, note_h / 2, 0]], np.float64)
    r = np.deg2rad(rot)
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    tilt = np.deg2rad(rng.uniform(0, max_tilt))
    axis_angle = rng.uniform(0, 2 * np.pi)
    axis = np.array([np.cos(axis_angle), np.sin(axis_angle), 0.0])
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    rt = np.eye(3) + np.sin(tilt) * k + (1 - np.cos(tilt)) * (k @ k)
    pts = local @ rz.T @ rt.T
    focal = 1.3 * note_w
    z = focal + pts[:, 2]
    return (pts[:, :2] * (focal / z)[:, None]).astype(np.float32)


def _area(q: np.ndarray) -> float:
    return float(abs(cv2.contourArea(q.astype(np.float32))))


def _place(rng: np.random.Generator, aspect: float, fill: float, scale: float) -> tuple[tuple[int, int], np.ndarray]:
    """A frame size (one of :data:`FRAMES` times ``scale``) and the note's corners in it, the note
    covering about ``fill`` of the frame."""
    frame = tuple(max(16, round(v * scale)) for v in FRAMES[int(rng.integers(len(FRAMES)))])
    fw, fh = frame
    frame_ratio = max(fw, fh) / min(fw, fh)
    upright_fill = min(frame_ratio / aspect, aspect / frame_ratio)  # the most an upright note can cover
    if fill > 0.85 * upright_fill:  # only a note-shaped frame can hold it: a capture app's guide
        frame_aspect = aspect * rng.uniform(0.97, 1.06)
        long = round(_TIGHT_FRAME_LONG * scale)
        frame = (long, int(round(long / frame_aspect)))
        fw, fh = frame
    margin = 0.012 * max(fw, fh)
    for attempt in range(40):
        spread = max(0.0, 1.0 - attempt / 25)
        portrait = fh > fw
        base_rot = 90.0 if portrait else 0.0
        rot = base_rot + rng.uniform(-180, 180) * spread ** 2 if fill < 0.5 else base_rot + rng.normal(0, 25) * spread
        tilt = 35.0 * spread
        q = _projected(rng, 1.0 * aspect, 1.0, tilt, rot)
        scale = np.sqrt(fill * fw * fh / _area(q))
        q = q * scale
        lo, hi = q.min(axis=0), q.max(axis=0)
        ext = hi - lo
        if ext[0] > fw - 2 * margin or ext[1] > fh - 2 * margin:
            continue
        cx = rng.uniform(margin - lo[0], fw - margin - hi[0])
        cy = rng.uniform(margin - lo[1], fh - margin - hi[1])
        return frame, (q + np.array([cx, cy], np.float32)).astype(np.float32)
    # fall back: upright, flat, as large as fits
    q = _projected(rng, aspect, 1.0, 0.0, 90.0 if fh > fw else 0.0)
    ext = q.max(axis=0) - q.min(axis=0)
    q = q * float(min((fw - 2 * margin) / ext[0], (fh - 2 * margin) / ext[1]))
    return frame, (q + np.array([fw / 2, fh / 2], np.float32)).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# light and camera


def _coarse(field: np.ndarray, w: int, h: int) -> np.ndarray:
    """A smooth field computed on a coarse grid, brought up to ``w`` x ``h``."""
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def _shadow(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A soft shadow (of a hand, a phone, the photographer) over part of the picture, in [0, 1]."""
    sw, sh = max(8, w // 8), max(8, h // 8)
    pts = rng.uniform([-0.2 * sw, -0.2 * sh], [1.2 * sw, 1.2 * sh], size=(6, 2)).astype(np.int32)
    m = np.zeros((sh, sw), np.float32)
    cv2.fillConvexPoly(m, cv2.convexHull(pts), 1.0)
    return _coarse(cv2.GaussianBlur(m, (0, 0), rng.uniform(0.01, 0.05) * max(sw, sh) + 0.5), w, h)


def _glare(rng: np.random.Generator, w: int, h: int, corners: np.ndarray) -> np.ndarray:
    """A bright specular patch somewhere on the note, sometimes stretched."""
    t = rng.uniform(0.1, 0.9, 2)
    top = corners[0] + t[0] * (corners[1] - corners[0])
    bottom = corners[3] + t[0] * (corners[2] - corners[3])
    c = top + t[1] * (bottom - top)
    note_h = float(np.linalg.norm(corners[3] - corners[0]))
    sx, sy = rng.uniform(0.15, 0.5) * note_h, rng.uniform(0.1, 0.3) * note_h
    yy, xx = np.mgrid[0:h:4, 0:w:4].astype(np.float32)
    a = rng.uniform(0, np.pi)
    u = (xx - c[0]) * np.cos(a) + (yy - c[1]) * np.sin(a)
    v = -(xx - c[0]) * np.sin(a) + (yy - c[1]) * np.cos(a)
    return _coarse(np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2)).astype(np.float32), w, h)


def _crease(rng: np.random.Generator, img: np.ndarray, corners: np.ndarray, note_mask: np.ndarray) -> None:
    """A fold across the note: one side a little darker, a thin line along the fold."""
    t = rng.uniform(0.3, 0.7)
    if rng.random() < 0.5:
        p0, p1 = corners[0] + t * (corners[1] - corners[0]), corners[3] + t * (corners[2] - corners[3])
    else:
        p0, p1 = corners[0] + t * (corners[3] - corners[0]), corners[1] + t * (corners[2] - corners[1])
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = p1 - p0
    side = ((xx - p0[0]) * d[1] - (yy - p0[1]) * d[0]) > 0
    factor = np.where(side & (note_mask > 0.5), rng.uniform(0.82, 0.95), 1.0).astype(np.float32)
    img *= factor[:, :, None]
    line = np.zeros((h, w), np.float32)
    cv2.line(line, tuple(int(v) for v in p0), tuple(int(v) for v in p1), 1.0, 2, cv2.LINE_AA)
    line *= note_mask
    img += (rng.choice([-40.0, 35.0]) * line)[:, :, None]


def decode_jpeg(data: bytes) -> np.ndarray:
    """RGB pixels of JPEG bytes, decoded by OpenCV (as a cached scene must be, to stay the same)."""
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _jpeg(rgb: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode the scene as JPEG")
    return buf.tobytes()


# ---------------------------------------------------------------------------------------------
# the scene


def background(rng: np.random.Generator, w: int, h: int, kind: str | None = None,
               clutter: int | None = None) -> tuple[np.ndarray, str]:
    """A table, cloth, paper, tiles, shirt or speckled surface with clutter on it, float32 RGB."""
    kind = kind or BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]
    img = _BACKGROUND_MAKERS[kind](rng, w, h)
    n = int(rng.integers(0, 6)) if clutter is None else clutter
    _clutter(rng, img, n, 0.35 * min(w, h))
    return img.astype(np.float32), kind


def _camera(rng: np.random.Generator, img: np.ndarray, effects: list[str]) -> bytes:
    h, w = img.shape[:2]
    yy, xx = np.mgrid[0:h:8, 0:w:8].astype(np.float32)
    light = 1.0 + rng.uniform(-0.3, 0.3) * (xx / w - 0.5) + rng.uniform(-0.3, 0.3) * (yy / h - 0.5)
    r2 = ((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2
    light *= 1.0 - rng.uniform(0.0, 0.5) * r2
    gains = rng.uniform(0.9, 1.1, 3).astype(np.float32)[None, None, :]  # white balance
    img = img * (_coarse(light, w, h)[:, :, None] * gains)
    img += rng.normal(0, rng.uniform(1, 5), size=(h, w, 1)).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.25:
        k = int(rng.integers(3, 9))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        m = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, m, (k, k))
        out = cv2.filter2D(out, -1, kernel / max(kernel.sum(), 1e-6))
        effects.append("motion blur")
    else:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.3))
    q = int(rng.integers(55, 93))
    effects.append(f"jpeg {q}")
    return _jpeg(out, q)


def paste_scene(note: np.ndarray, seed: int, *, fill: float | None = None, kind: str | None = None,
                frame_scale: float = 1.0) -> Scene:
    """A real-looking capture of ``note`` (RGB, the whole picture is the note) with known corners.

    Args:
        note: ``(h, w, 3)`` uint8 RGB picture of a note, cropped to the note's outline.
        seed: random seed; the same note and seed give the same scene.
        fill: the note's area as a fraction of the capture's (default: uniform in [0.10, 0.90]).
        kind: the background (one of :data:`BACKGROUNDS`; default: random).
        frame_scale: the capture's size as a fraction of the usual (:data:`FRAMES`).
    """
    rng = np.random.default_rng(seed)
    nh, nw = note.shape[:2]
    if nh > nw:
        note = np.ascontiguousarray(np.rot90(note))
        nh, nw = nw, nh
    aspect = nw / nh
    fill = float(rng.uniform(0.10, 0.90)) if fill is None else float(fill)
    (fw, fh), corners = _place(rng, aspect, fill, frame_scale)
    held = rng.random() < 0.25  # held in the hand(s) rather than lying on a table
    if held and kind is None:
        kind = str(rng.choice(["shirt", "shirt", "cloth", "speckle"]))
    img, kind = background(rng, fw, fh, kind, clutter=0 if held else None)
    note_h = float(np.linalg.norm(corners[3] - corners[0]))
    effects: list[str] = []
    occluders: list[str] = []
    skin = _skin(rng)
    hands = [bool(v) for v in rng.permutation([False, True])[: int(rng.integers(1, 3))]] if held else []
    for right in hands:
        _hand_behind(rng, img, corners, note_h, right, skin)

    flat, flat_alpha, pad = note, np.ones((nh, nw), np.float32), 0
    if held or rng.random() < 0.2:  # a note held up, or an old one, does not lie flat: it bows
        flat, flat_alpha, pad = _bend(note, float(rng.uniform(0.005, 0.03) * rng.choice([-1, 1])))
        effects.append("bowed")
    src = np.array([[0, pad], [nw, pad], [nw, nh + pad], [0, nh + pad]], np.float32) - 0.5
    m = cv2.getPerspectiveTransform(src, corners)
    size = (fw, fh)
    warped = cv2.warpPerspective(flat, m, size, flags=cv2.INTER_AREA if note_h < nh / 2 else cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(flat_alpha, m, size, flags=cv2.INTER_LINEAR)
    if rng.random() < 0.6:  # the note lifts a little off the table: a soft shadow beside it
        small = cv2.resize(alpha, (fw // 4, fh // 4), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), rng.uniform(0.005, 0.015) * max(fw, fh) / 4)
        shift = rng.normal(0, 0.0015 * max(fw, fh), 2)
        shade = _coarse(cv2.warpAffine(small, np.float32([[1, 0, shift[0]], [0, 1, shift[1]]]), small.shape[::-1]),
                        fw, fh)
        img *= (1.0 - 0.35 * shade)[:, :, None]
        effects.append("drop shadow")
    img = img * (1 - alpha[:, :, None]) + warped.astype(np.float32) * alpha[:, :, None]
    if rng.random() < 0.3:
        _crease(rng, img, corners, alpha)
        effects.append("fold")

    centre = corners.mean(axis=0)
    for right in hands:
        _thumb(rng, img, corners, note_h, right, skin)
        occluders.append("thumb")
    for _ in range(int(rng.choice([0, 0, 1, 1, 1, 2])) if not held else 0):
        what = str(rng.choice(["finger", "finger", "pen", "cable", "phone", "coin"]))
        if what == "finger":
            _finger(rng, img, corners, note_h)
        elif what == "phone":  # a phone or mouse over a corner
            c = corners[int(rng.integers(4))]
            _phone(rng, img, c + (centre - c) * rng.uniform(0.0, 0.15), rng.uniform(0.6, 1.0) * note_h)
        else:
            {"pen": _pen, "cable": _cable, "coin": _coin}[what](rng, img, centre, rng.uniform(0.8, 1.5) * note_h)
        occluders.append(what)

    if rng.random() < 0.5:
        img *= (1.0 - rng.uniform(0.2, 0.5) * _shadow(rng, fw, fh))[:, :, None]
        effects.append("shadow")
    if rng.random() < 0.25:
        g = _glare(rng, fw, fh, corners) * rng.uniform(0.3, 0.9)
        img = img + (255.0 - img) * np.clip(g, 0, 1)[:, :, None]
        effects.append("glare")
    jpeg = _camera(rng, img, effects)
    return Scene(rgb=decode_jpeg(jpeg), corners=corners, fill=_area(corners) / (fw * fh), background=kind,
                 occluders=occluders, effects=effects, jpeg=jpeg, note_mask=alpha)


def empty_scene(seed: int, *, frame_scale: float = 1.0) -> tuple[np.ndarray, bytes, str]:
    """A real-looking capture of a surface with clutter, sometimes a hand, and no note:
    ``(rgb, jpeg, background)``, ``rgb`` being the JPEG bytes ``jpeg`` decoded."""
    rng = np.random.default_rng(seed)
    fw, fh = (max(16, round(v * frame_scale)) for v in FRAMES[int(rng.integers(len(FRAMES)))])
    img, kind = background(rng, fw, fh, clutter=int(rng.integers(0, 8)))
    if rng.random() < 0.3:  # a hand, holding nothing
        size = rng.uniform(0.15, 0.4) * min(fw, fh)
        centre = rng.uniform([0.2 * fw, 0.2 * fh], [0.8 * fw, 0.8 * fh])
        box = _projected(rng, 2.0 * size, size, 20.0, float(rng.uniform(0, 360))) + centre.astype(np.float32)
        skin = _skin(rng)
        _hand_behind(rng, img, box, size, bool(rng.random() < 0.5), skin)
        _thumb(rng, img, box, size, bool(rng.random() < 0.5), skin)
    if rng.random() < 0.5:
        img *= (1.0 - rng.uniform(0.2, 0.5) * _shadow(rng, fw, fh))[:, :, None]
    jpeg = _camera(rng, img, [])
    return decode_jpeg(jpeg), jpeg, kind
