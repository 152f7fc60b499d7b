"""Procedural banknote designs: guilloché, fine lines, microtext, engraved portrait, numerals, security features.

A design (one currency, denomination and side at one width) is drawn once per process and cached
(:func:`note_design`); :func:`render_note` adds what differs between two notes of the same design: the
serial number, the hologram's colours (they change with the viewing angle) and the thread's sheen.
Everything is drawn with numpy and OpenCV primitives, no per-pixel Python loops.
"""

from __future__ import annotations

import colorsys
import functools
import zlib
from dataclasses import dataclass, field

import cv2
import numpy as np

from banknote_guard.errors import parameter_error
from banknote_guard.synth.currencies import DENOMINATIONS, WORDS, currency_spec

SIDES: tuple[str, ...] = ("front", "back")

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)


@dataclass
class NoteDesign:
    """A drawn design and where its features are.

    Attributes:
        base: (H, W, 3) float32 RGB in [0, 1], without serial numbers, hologram or thread.
        paper: (3,) paper colour.
        ink: (3,) main ink colour of the denomination; ``dark``: its engraving colour.
        holo_mask: (H, W) float32 coverage of the foil patch (front only, else None).
        holo_struct: (H, W) float32 relief pattern of the foil (phase offsets).
        thread_mask: (H, W) float32 coverage of the visible (windowed) thread segments.
        window_mask: (H, W) float32 coverage of the watermark window.
        watermark: (H, W) float32 darkness of the watermark image inside the window.
        numeral_boxes: boxes around the denomination numerals.
        motif_box: box of the engraved portrait (front) or building (back).
        serial_spots: (x, y, font scale, thickness, RGB colour) where serial numbers are printed.
    """

    currency: str
    denomination: str
    side: str
    width: int
    height: int
    base: np.ndarray
    paper: np.ndarray
    ink: np.ndarray
    dark: np.ndarray
    holo_mask: np.ndarray | None
    holo_struct: np.ndarray | None
    holo_box: Box | None
    thread_mask: np.ndarray
    thread_box: Box
    window_mask: np.ndarray
    watermark: np.ndarray
    window_box: Box
    numeral_boxes: list[Box] = field(default_factory=list)
    motif_box: Box | None = None
    serial_spots: list[tuple[int, int, float, int, tuple[float, float, float]]] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# small drawing helpers


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


def _ink(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray, box: Box | None = None) -> None:
    """Print ``colour`` with coverage ``alpha`` (multiplicative, like ink on paper), in place."""
    if box is None:
        img *= 1.0 - alpha[..., None] * (1.0 - colour)
    else:
        x0, y0, x1, y1 = box
        img[y0:y1, x0:x1] *= 1.0 - alpha[..., None] * (1.0 - colour)


def _line_alpha(phase: np.ndarray, period_px: float, width_px: float) -> np.ndarray:
    """Antialiased lines where ``phase`` (in line units) crosses half-integers."""
    d = np.abs(phase - np.floor(phase) - 0.5) * period_px
    return np.clip(width_px * 0.5 + 0.5 - d, 0.0, 1.0).astype(np.float32)


def _poly_mask(shape: tuple[int, int], curves: list[np.ndarray], thickness: int = 1) -> np.ndarray:
    """Draw antialiased polylines (float point arrays) into a float32 coverage mask."""
    mask = np.zeros(shape, np.uint8)
    shift = 4
    pts = [np.round(c * (1 << shift)).astype(np.int32).reshape(-1, 1, 2) for c in curves]
    cv2.polylines(mask, pts, False, 255, thickness, cv2.LINE_AA, shift)
    return mask.astype(np.float32) / 255.0


def _text_mask(shape: tuple[int, int], text: str, org: tuple[int, int], font: int, scale: float,
               thickness: int) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.putText(mask, text, org, font, scale, 255, max(1, thickness), cv2.LINE_AA)
    return mask.astype(np.float32) / 255.0


def _fit_text_scale(text: str, font: int, height_px: float, thickness: int) -> float:
    (_, h), _ = cv2.getTextSize(text, font, 1.0, thickness)
    return max(0.1, height_px / max(h, 1))


def _rosette_curves(cx: float, cy: float, radius: float, rng: np.random.Generator, *, n_curves: int,
                    inner: float = 0.25) -> list[np.ndarray]:
    """Guilloché rosette: rotated copies of a modulated circle (interlaced rope pattern)."""
    t = np.linspace(0.0, 2.0 * np.pi, 900, dtype=np.float64)
    lobes = int(rng.integers(5, 14))
    lobes2 = int(rng.integers(2, 6)) * lobes
    a1 = rng.uniform(0.10, 0.22)
    a2 = rng.uniform(0.02, 0.07)
    curves = []
    rings = ((1.0, n_curves, lobes, a1),
             (inner + (1.0 - inner) * 0.6, max(6, n_curves // 2), lobes2 // 2 + 1, a1 * 0.7),
             (inner + 0.12, max(4, n_curves // 3), max(3, lobes // 2), a1 * 0.5))
    for ring, copies, lb, amp in rings:
        for k in range(copies):
            phase = 2.0 * np.pi * k / copies
            r = radius * ring * (1.0 - amp - a2 + amp * np.sin(lb * t + phase) + a2 * np.cos(lobes2 * t - phase))
            curves.append(np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1))
    return curves


def _band_curves(x0: float, x1: float, y0: float, y1: float, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """A guilloché border band: phase-shifted sine waves crossing each other."""
    x = np.linspace(x0, x1, max(64, int(x1 - x0) * 2))
    mid = 0.5 * (y0 + y1)
    amp = 0.5 * (y1 - y0)
    freq = rng.uniform(0.04, 0.09) * 640.0 / max(1.0, (x1 - x0) / 0.9)
    curves = []
    for k in range(n):
        ph = 2.0 * np.pi * k / n
        y = mid + amp * (0.65 * np.sin(freq * x + ph) + 0.35 * np.sin(2.3 * freq * x - 2 * ph))
        curves.append(np.stack([x, y], axis=1))
    return curves


# ----------------------------------------------------------------------------------------------
# the portrait and the building (engraved: line screens whose width follows the darkness)


def _face_darkness(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A grey 'tone' image of a fictional face (head and shoulders), 0 = paper, 1 = full ink."""
    d = np.zeros((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lw = max(1, int(round(w * 0.012)))
    cx = w * rng.uniform(0.47, 0.53)
    head_w = w * rng.uniform(0.25, 0.29)
    head_h = h * rng.uniform(0.25, 0.28)
    cy = h * 0.40
    turn = rng.uniform(-0.08, 0.08) * head_w  # features shifted: the head turns a little
    light = rng.choice([-1.0, 1.0])
    # a light engraved background behind the head, darker towards one side
    d += 0.10 + 0.10 * np.clip(light * (cx - xx) / w + 0.3, 0, 1)
    # coat, shirt, collar and tie
    coat = float(rng.uniform(0.62, 0.85))
    cv2.ellipse(d, (int(cx), int(h * 1.05)), (int(w * 0.52), int(h * 0.30)), 0, 180, 360, coat, -1)
    shirt = np.array([[cx - head_w * 0.55, h * 0.80], [cx + head_w * 0.55, h * 0.80], [cx, h * 1.0]], np.int32)
    cv2.fillPoly(d, [shirt], 0.04)
    cv2.line(d, (int(cx), int(h * 0.84)), (int(cx), int(h * 1.0)), 0.8, max(2, int(w * 0.05)))
    # neck, darker under the chin
    cv2.rectangle(d, (int(cx - head_w * 0.42), int(cy + head_h * 0.6)), (int(cx + head_w * 0.42), int(h * 0.82)),
                  0.30, -1)
    cv2.ellipse(d, (int(cx), int(cy + head_h * 1.0)), (int(head_w * 0.45), int(head_h * 0.18)), 0, 0, 180, 0.55, -1)
    # hair behind the head
    hair = float(rng.uniform(0.55, 0.9))
    style = int(rng.integers(0, 3))
    if style == 0:
        cv2.ellipse(d, (int(cx), int(cy - head_h * 0.12)), (int(head_w * 1.1), int(head_h * 1.02)), 0, 0, 360, hair,
                    -1)
    elif style == 1:
        cv2.ellipse(d, (int(cx), int(cy + head_h * 0.25)), (int(head_w * 1.3), int(head_h * 1.3)), 0, 0, 360, hair,
                    -1)
    else:
        cv2.ellipse(d, (int(cx), int(cy - head_h * 0.3)), (int(head_w * 1.04), int(head_h * 0.78)), 0, 180, 360,
                    hair, -1)
    # ears
    for sgn in (-1, 1):
        cv2.ellipse(d, (int(cx + sgn * head_w * 0.98), int(cy)), (max(2, int(head_w * 0.14)),
                    max(2, int(head_h * 0.2))), 0, 0, 360, 0.35, -1)
    # the face: light skin, shaded towards the edges and on the side away from the light
    ex = (xx - cx) / head_w
    ey = (yy - cy) / head_h
    r2 = ex * ex + ey * ey
    face = r2 <= 1.0
    shade = 0.08 + 0.32 * r2 ** 1.5 + 0.14 * np.clip(-light * ex, 0, 1)
    d[face] = shade[face]
    fringe = rng.random() < 0.5
    if fringe or style == 2:  # hair over the forehead
        cv2.ellipse(d, (int(cx), int(cy - head_h * 0.55)), (int(head_w * 0.98), int(head_h * 0.5)), 0, 180, 360,
                    hair, -1)
    # eyes, brows, nose, mouth
    eye_y = cy - head_h * 0.05
    eye_dx = head_w * rng.uniform(0.36, 0.42)
    for sgn in (-1, 1):
        ex_c = int(cx + turn + sgn * eye_dx)
        cv2.ellipse(d, (ex_c, int(eye_y + head_h * 0.06)), (max(2, int(head_w * 0.2)), max(1, int(head_h * 0.10))),
                    0, 180, 360, 0.35, -1)  # eye socket shadow
        cv2.ellipse(d, (ex_c, int(eye_y)), (max(2, int(head_w * 0.15)), max(1, int(head_h * 0.055))), 0, 0, 360,
                    0.02, -1)
        cv2.circle(d, (ex_c, int(eye_y)), max(1, int(head_w * 0.055)), 0.95, -1)
        cv2.ellipse(d, (ex_c, int(eye_y - head_h * 0.16)), (max(2, int(head_w * 0.2)), max(1, int(head_h * 0.05))),
                    0, 195, 345, 0.85, lw)
    nose_len = head_h * rng.uniform(0.30, 0.38)
    nx = int(cx + turn + light * -head_w * 0.07)
    cv2.line(d, (nx, int(eye_y + head_h * 0.08)), (nx, int(eye_y + nose_len)), 0.42, max(1, lw))
    for sgn in (-1, 1):
        cv2.circle(d, (int(cx + turn + sgn * head_w * 0.09), int(eye_y + nose_len)), max(1, lw), 0.7, -1)
    mouth_y = int(eye_y + nose_len + head_h * 0.22)
    mw = max(2, int(head_w * rng.uniform(0.24, 0.32)))
    cv2.ellipse(d, (int(cx + turn), mouth_y), (mw, max(1, int(head_h * 0.04))), 0, 0, 180, 0.55, -1)
    cv2.line(d, (int(cx + turn) - mw, mouth_y), (int(cx + turn) + mw, mouth_y), 0.8, lw)
    cv2.ellipse(d, (int(cx + turn), int(mouth_y + head_h * 0.22)), (int(head_w * 0.3), max(1, int(head_h * 0.06))),
                0, 0, 180, 0.3, lw)  # chin
    if rng.random() < 0.3:  # moustache
        cv2.ellipse(d, (int(cx + turn), mouth_y - lw * 2), (int(mw * 1.1), max(1, int(head_h * 0.06))), 0, 180, 360,
                    hair, -1)
    d = cv2.GaussianBlur(d, (0, 0), max(0.7, w * 0.008))
    # an oval frame so that the portrait fades into the paper
    rr = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h * 0.55) / (h * 0.55)) ** 2)
    vig = np.clip((1.0 - rr) / 0.12, 0, 1)
    return np.clip(d * vig, 0, 1).astype(np.float32)


def _building_darkness(w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A grey 'tone' image of a fictional public building (columns, pediment, optional dome)."""
    d = np.zeros((h, w), np.float32)
    base_y = int(h * 0.88)
    left, right = int(w * 0.08), int(w * 0.92)
    top = int(h * rng.uniform(0.40, 0.50))
    cv2.rectangle(d, (left - 4, base_y), (right + 4, int(h * 0.96)), 0.7, -1)  # steps
    cv2.rectangle(d, (left, top), (right, base_y), 0.35, -1)  # wall behind columns
    n_cols = int(rng.integers(4, 9))
    col_w = (right - left) / (2 * n_cols)
    for i in range(n_cols):
        x = left + col_w * (2 * i + 0.5)
        cv2.rectangle(d, (int(x), top + 4), (int(x + col_w), base_y), 0.12, -1)
        cv2.line(d, (int(x + col_w * 0.8), top + 4), (int(x + col_w * 0.8), base_y), 0.55, max(1, int(col_w * 0.2)))
    cv2.rectangle(d, (left - 6, top - int(h * 0.06)), (right + 6, top + 3), 0.6, -1)  # entablature
    pts = np.array([[left - 8, top - int(h * 0.06)], [right + 8, top - int(h * 0.06)],
                    [w // 2, top - int(h * rng.uniform(0.16, 0.24))]], np.int32)
    cv2.fillPoly(d, [pts], 0.45)
    if rng.random() < 0.5:
        cv2.ellipse(d, (w // 2, top - int(h * 0.2)), (int(w * 0.16), int(h * 0.16)), 0, 180, 360, 0.5, -1)
    d = cv2.GaussianBlur(d, (0, 0), max(0.6, w * 0.006))
    return d


def _engrave(darkness: np.ndarray, period: float, rng: np.random.Generator, *, angle: float) -> np.ndarray:
    """Turn a tone image into engraving coverage: parallel wavy lines that thicken with darkness,
    plus a crossing line family in the darkest parts."""
    h, w = darkness.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ca, sa = np.cos(angle), np.sin(angle)
    u = xx * ca + yy * sa
    v = -xx * sa + yy * ca
    bend = rng.uniform(1.0, 3.0) * period
    # the lines wrap around the forms: offset by a smooth 'height' taken from the tone image
    height = cv2.GaussianBlur(darkness, (0, 0), max(1.0, 0.04 * w))
    phase1 = (v + bend * np.sin(u / (w * 0.18)) + 5.0 * period * height + 0.8 * period * darkness) / period
    width1 = np.clip(darkness * 1.25, 0, 1) * period
    a1 = np.clip(width1 * 0.5 + 0.5 - np.abs(phase1 - np.floor(phase1) - 0.5) * period, 0, 1) * np.minimum(width1, 1)
    phase2 = (u + bend * np.sin(v / (h * 0.2))) / (period * 1.1)
    width2 = np.clip((darkness - 0.45) * 1.6, 0, 1) * period * 0.8
    a2 = np.clip(width2 * 0.5 + 0.5 - np.abs(phase2 - np.floor(phase2) - 0.5) * period * 1.1, 0, 1)
    a2 *= np.minimum(width2, 1)
    return np.clip(a1 + a2, 0, 1).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# the design


def design_seed(*parts: object) -> int:
    """A stable 32-bit seed from strings and numbers (independent of Python's hash randomisation)."""
    return zlib.crc32("/".join(str(p) for p in parts).encode("utf-8"))


def _check(currency: str, denomination: str, side: str, width: int) -> None:
    currency_spec(currency)
    if denomination not in DENOMINATIONS:
        raise parameter_error("denomination", "the synthetic generator", f"one of {', '.join(DENOMINATIONS)}",
                              denomination)
    if side not in SIDES:
        raise parameter_error("side", "the synthetic generator", "'front' or 'back'", side)
    if not isinstance(width, int) or width < 96 or width > 4096:
        raise parameter_error("width", "the synthetic generator", "an integer in [96, 4096]", width)


@functools.lru_cache(maxsize=64)
def note_design(currency: str, denomination: str, side: str, width: int) -> NoteDesign:
    """Draw (once per process, then cached) the design of one note side at ``width`` pixels.

    Raises:
        ParameterError: for an unknown currency, denomination or side, or a width outside [96, 4096].
    """
    _check(currency, denomination, side, width)
    spec = currency_spec(currency)
    di = DENOMINATIONS.index(denomination)
    rng = np.random.default_rng(design_seed("design", currency, denomination, side))
    W = int(width)
    H = int(round(W * spec.aspect))
    s = W / 640.0  # scale of every size relative to a 640 px wide note
    shape = (H, W)
    hue = spec.hues[di]
    ink = _hsv(hue, 0.62, 0.62)
    dark = _hsv(hue + 0.02, 0.55, 0.26)
    second = _hsv(hue + rng.choice([-0.12, 0.12, 0.5]), 0.45, 0.70)
    paper = np.array([0.95, 0.94, 0.89], np.float32) + rng.uniform(-0.01, 0.01, 3).astype(np.float32)
    tint_a = _hsv(hue, 0.18, 0.97)
    tint_b = _hsv(hue + rng.uniform(0.08, 0.2), 0.15, 0.97)
    mirror = spec.mirror != (side == "back")  # features sit mirrored on the back

    def X(u: float) -> float:  # horizontal position in the front's frame, mirrored when needed
        return (1.0 - u) * W if mirror else u * W

    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    uu, vv = xx / W, yy / H
    # --- paper and the rainbow underprint -------------------------------------------------------
    blend = (0.5 + 0.5 * np.sin(2 * np.pi * (uu * rng.uniform(0.6, 1.2) + rng.uniform(0, 1))))[..., None]
    img = np.empty((H, W, 3), np.float32)
    img[:] = paper
    under = tint_a * (1 - blend) + tint_b * blend
    img *= 1.0 - 0.55 * (1.0 - under)
    # --- fine-line background: two families of 1-2 px wavy lines -------------------------------
    period = max(2.5, 4.2 * s)
    f1 = rng.uniform(1.5, 3.5)
    ph = rng.uniform(0, 2 * np.pi)
    wave1 = (yy + 9 * s * np.sin(2 * np.pi * f1 * uu + ph) + 5 * s * np.sin(2 * np.pi * 3.1 * f1 * uu)) / period
    env = 0.35 + 0.65 * (0.5 + 0.5 * np.sin(2 * np.pi * (uu * rng.uniform(0.8, 1.6) + vv * 0.7 + ph)))
    _ink(img, _line_alpha(wave1, period, max(0.9, 1.0 * s)) * 0.38 * env, second)
    wave2 = (xx + 7 * s * np.sin(2 * np.pi * rng.uniform(1.5, 4) * vv + ph)) / (period * 1.6)
    _ink(img, _line_alpha(wave2, period * 1.6, max(0.8, 0.8 * s)) * 0.22 * (1.2 - env), ink)
    # --- guilloché: a large rosette, a corner rosette and border bands ---------------------------
    big_r = H * rng.uniform(0.28, 0.36)
    rcx = X(rng.uniform(0.28, 0.36) if side == "front" else rng.uniform(0.17, 0.24))
    rcy = H * rng.uniform(0.40, 0.50)
    curves = _rosette_curves(rcx, rcy, big_r, rng, n_curves=int(rng.integers(28, 44)))
    _ink(img, _poly_mask(shape, curves) * 0.75, ink)
    curves = _rosette_curves(X(rng.uniform(0.05, 0.12)), H * rng.uniform(0.15, 0.22), H * 0.13, rng, n_curves=18)
    _ink(img, _poly_mask(shape, curves) * 0.7, second)
    band_h = H * 0.07
    for y0 in (H * 0.015, H - band_h - H * 0.015):
        _ink(img, _poly_mask(shape, _band_curves(W * 0.02, W * 0.98, y0, y0 + band_h, rng, 10)) * 0.55, dark)
    # --- microtext lines (tiny capitals, readable only at full resolution) ------------------------
    motto = (spec.motto + " " + denomination + " ") * 40
    micro_scale = 0.24 * s
    (tw, th), _ = cv2.getTextSize(motto, cv2.FONT_HERSHEY_PLAIN, micro_scale, 1)
    for vy in (0.105, 0.895):
        m = _text_mask(shape, motto, (int(W * 0.03), int(H * vy + th / 2)), cv2.FONT_HERSHEY_PLAIN, micro_scale, 1)
        m[:, int(W * 0.97):] = 0
        _ink(img, m * 0.85, dark)
    # --- main motif: engraved portrait (front) or building (back) -------------------------------
    if side == "front":
        pw, ph_ = int(W * 0.26), int(H * 0.80)
        px0 = int(X(0.64) - pw / 2)
        py0 = int(H * 0.12)
        tone = _face_darkness(pw, ph_, np.random.default_rng(design_seed("face", currency, denomination)))
    else:
        pw, ph_ = int(W * 0.36), int(H * 0.62)
        px0 = int(X(0.57) - pw / 2)
        py0 = int(H * 0.18)
        tone = _building_darkness(pw, ph_, rng)
    px0 = max(0, min(W - pw, px0))
    eng = _engrave(tone, max(2.2, 3.0 * s), rng, angle=rng.uniform(-0.5, 0.5))
    _ink(img, eng * 0.95, dark, (px0, py0, px0 + pw, py0 + ph_))
    # --- texts -----------------------------------------------------------------------------------
    font_title = cv2.FONT_HERSHEY_TRIPLEX
    th_px = H * 0.055
    sc = _fit_text_scale(spec.bank, font_title, th_px, 1)
    (tw, _), _ = cv2.getTextSize(spec.bank, font_title, sc, max(1, int(1.2 * s)))
    sc *= min(1.0, W * 0.42 / max(tw, 1))
    (tw, _), _ = cv2.getTextSize(spec.bank, font_title, sc, max(1, int(1.2 * s)))
    tx = int(X(0.36) - tw / 2)
    tx = max(int(W * 0.03), min(W - tw - int(W * 0.03), tx))
    _ink(img, _text_mask(shape, spec.bank, (tx, int(H * 0.2)), font_title, sc, max(1, int(1.2 * s))), dark)
    words = f"{WORDS[denomination]} {spec.unit}S"
    sc2 = _fit_text_scale(words, cv2.FONT_HERSHEY_COMPLEX, H * 0.045, 1)
    (tw2, _), _ = cv2.getTextSize(words, cv2.FONT_HERSHEY_COMPLEX, sc2, 1)
    tx2 = max(int(W * 0.03), min(W - tw2 - int(W * 0.03), int(X(0.36) - tw2 / 2)))
    _ink(img, _text_mask(shape, words, (tx2, int(H * 0.76)), cv2.FONT_HERSHEY_COMPLEX, sc2, 1) * 0.9, ink)
    if side == "front":  # a signature
        t = np.linspace(0, 1, 200)
        sx = X(0.36) - W * 0.07 + W * 0.14 * t
        sy = H * 0.68 + H * 0.025 * np.sin(2 * np.pi * (3 + rng.uniform(0, 3)) * t) * np.sin(np.pi * t * 1.3)
        _ink(img, _poly_mask(shape, [np.stack([sx, sy], 1)], max(1, int(1.3 * s))) * 0.9, dark)
    # --- numerals ---------------------------------------------------------------------------------
    numeral_boxes: list[Box] = []
    big_font = cv2.FONT_HERSHEY_TRIPLEX
    glyphs = denomination.replace("0", "O")  # the font's zero is slashed; banknote numerals are not
    big_h = H * (0.30 if side == "front" else 0.36)
    thick = max(2, int(round(5 * s)))
    bsc = _fit_text_scale(glyphs, big_font, big_h, thick)
    (bw, bh), base = cv2.getTextSize(glyphs, big_font, bsc, thick)
    if side == "front":
        bx = int(X(0.06)) if not mirror else int(X(0.06) - bw)
        by = int(H * 0.92)
    else:
        bx = int(X(0.22) - bw / 2)
        by = int(H * 0.62)
    bx = max(2, min(W - bw - 2, bx))
    mask = _text_mask(shape, glyphs, (bx, by), big_font, bsc, thick)
    fill = _line_alpha((xx + yy) / max(2.0, 3.0 * s), max(2.0, 3.0 * s), max(1.0, 1.6 * s))
    edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _ink(img, np.clip(mask * (0.35 + 0.6 * fill) + edge * 0.8, 0, 1), ink)
    numeral_boxes.append((max(0, bx - 3), max(0, by - bh - 3), min(W, bx + bw + 3), min(H, by + base + 3)))
    small_h = H * 0.10
    ssc = _fit_text_scale(glyphs, big_font, small_h, max(1, int(2 * s)))
    (sw, sh), sbase = cv2.getTextSize(glyphs, big_font, ssc, max(1, int(2 * s)))
    for cx_, cy_ in ((W * 0.035, H * 0.23), (W * 0.965 - sw, H * 0.23), (W * 0.965 - sw, H * 0.84)):
        cx_i, cy_i = int(cx_), int(cy_)
        box = (max(0, cx_i - 2), max(0, cy_i - sh - 2), min(W, cx_i + sw + 2), min(H, cy_i + sbase + 2))
        if any(_overlap(box, b) for b in numeral_boxes):
            continue
        _ink(img, _text_mask(shape, glyphs, (cx_i, cy_i), big_font, ssc, max(1, int(2 * s))), dark)
        numeral_boxes.append(box)
    # --- watermark window: unprinted paper with a faint portrait ---------------------------------
    wcx, wcy = X(0.885), H * 0.47
    wrx, wry = W * 0.065, H * 0.30
    win = np.zeros(shape, np.float32)
    cv2.ellipse(win, (int(wcx), int(wcy)), (int(wrx), int(wry)), 0, 0, 360, 1.0, -1)
    win = cv2.GaussianBlur(win, (0, 0), max(1.0, 2.5 * s))
    window_box = (int(wcx - wrx - 6 * s), int(wcy - wry - 6 * s), int(wcx + wrx + 6 * s), int(wcy + wry + 6 * s))
    wm = np.zeros(shape, np.float32)
    face = _face_darkness(int(wrx * 1.6), int(wry * 1.6), np.random.default_rng(design_seed("face", currency)))
    fx0, fy0 = int(wcx - face.shape[1] / 2), int(wcy - face.shape[0] / 2)
    wm[fy0:fy0 + face.shape[0], fx0:fx0 + face.shape[1]] = cv2.GaussianBlur(face, (0, 0), 2.0 * s)
    wm *= win
    img = img * (1 - win[..., None]) + paper * win[..., None]
    # --- security thread (windowed: visible segments) ---------------------------------------------
    tx_c = X(0.775)
    tw_ = max(3, int(round(7 * s)))
    thread = np.zeros(shape, np.float32)
    seg = H / 9.0
    for k in range(9):
        if (k % 2 == 0) == (side == "front"):
            cv2.rectangle(thread, (int(tx_c - tw_ / 2), int(k * seg)), (int(tx_c + tw_ / 2), int((k + 1) * seg) - 1),
                          1.0, -1)
    thread = cv2.GaussianBlur(thread, (0, 0), 0.6)
    # under the paper the thread shows as a faint dark band
    under_band = np.zeros(shape, np.float32)
    cv2.rectangle(under_band, (int(tx_c - tw_ / 2), 0), (int(tx_c + tw_ / 2), H), 0.12, -1)
    _ink(img, under_band, np.array([0.3, 0.3, 0.3], np.float32))
    thread_box = (max(0, int(tx_c - tw_)), 0, min(W, int(tx_c + tw_) + 1), H)
    # --- foil patch (front): shape and relief pattern ---------------------------------------------
    holo_mask = holo_struct = None
    holo_box: Box | None = None
    if side == "front":
        hm = np.zeros(shape, np.float32)
        hcx, hcy = X(0.17), H * 0.50
        kind = di % 3
        if kind == 0:
            cv2.ellipse(hm, (int(hcx), int(hcy)), (int(W * 0.055), int(H * 0.17)), 0, 0, 360, 1.0, -1)
        elif kind == 1:
            cv2.rectangle(hm, (int(hcx - W * 0.04), int(H * 0.30)), (int(hcx + W * 0.04), int(H * 0.70)), 1.0, -1)
        else:
            pts = np.array([[hcx, hcy - H * 0.19], [hcx + W * 0.06, hcy], [hcx, hcy + H * 0.19],
                            [hcx - W * 0.06, hcy]], np.int32)
            cv2.fillPoly(hm, [pts], 1.0)
        hm = cv2.GaussianBlur(hm, (0, 0), 0.7)
        ys, xs = np.nonzero(hm > 0.01)
        holo_box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        r = np.sqrt((xx - hcx) ** 2 + (yy - hcy) ** 2) / (H * 0.2)
        theta = np.arctan2(yy - hcy, xx - hcx)
        relief = 0.35 * np.sin(2 * np.pi * (r * 4 + 0.08 * np.sin(8 * theta))) + 0.25 * np.sin(12 * theta)
        nm = _text_mask(shape, denomination.replace("0", "O"), (int(hcx - W * 0.035), int(hcy + H * 0.05)),
                        cv2.FONT_HERSHEY_TRIPLEX,
                        _fit_text_scale(denomination, cv2.FONT_HERSHEY_TRIPLEX, H * 0.09, 1) *
                        (0.6 if len(denomination) > 2 else 1.0), max(1, int(2 * s)))
        relief += 0.6 * nm
        holo_struct = relief.astype(np.float32)
        holo_mask = hm
    # --- where serial numbers go -------------------------------------------------------------------
    spots: list[tuple[int, int, float, int, tuple[float, float, float]]] = []
    ssc2 = _fit_text_scale("AB1234567", cv2.FONT_HERSHEY_SIMPLEX, H * 0.045, 1)
    (sw2, _), _ = cv2.getTextSize("AB1234567", cv2.FONT_HERSHEY_SIMPLEX, ssc2, max(1, int(1.3 * s)))
    if side == "front":
        x1 = int(X(0.36) - sw2 / 2)
        spots.append((max(2, min(W - sw2 - 2, x1)), int(H * 0.285), ssc2, max(1, int(1.3 * s)), (0.70, 0.12, 0.10)))
        x2 = int(X(0.64) - sw2 / 2)
        spots.append((max(2, min(W - sw2 - 2, x2)), int(H * 0.975), ssc2 * 0.9, max(1, int(1.2 * s)),
                      (0.08, 0.08, 0.10)))
    return NoteDesign(
        currency=currency, denomination=denomination, side=side, width=W, height=H, base=np.clip(img, 0, 1),
        paper=paper, ink=ink, dark=dark, holo_mask=holo_mask, holo_struct=holo_struct, holo_box=holo_box,
        thread_mask=thread, thread_box=thread_box, window_mask=win, watermark=wm.astype(np.float32),
        window_box=_clip_box(window_box, W, H), numeral_boxes=numeral_boxes, serial_spots=spots,
        motif_box=(px0, py0, px0 + pw, py0 + ph_),
    )


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _clip_box(b: Box, w: int, h: int) -> Box:
    return (max(0, b[0]), max(0, b[1]), min(w, b[2]), min(h, b[3]))


# ----------------------------------------------------------------------------------------------
# per-note rendering


def make_serial(currency: str, rng: np.random.Generator) -> str:
    """A serial number in the currency's format: two letters, a series letter and seven digits."""
    spec = currency_spec(currency)
    series = "ABCDEFGHJKLMNPRSTUVWXYZ"[int(rng.integers(0, 23))]
    return f"{spec.serial_letters}{series}{int(rng.integers(0, 10_000_000)):07d}"


def hologram_colours(design: NoteDesign, rng: np.random.Generator, *, vivid: float = 1.0) -> np.ndarray:
    """Colours of the foil patch as seen from a random angle: (h, w, 3) float32 for ``design.holo_box``.

    ``vivid`` scales the iridescence: 1 for real foil, lower values for flat printed imitations.
    """
    assert design.holo_box is not None and design.holo_struct is not None
    x0, y0, x1, y1 = design.holo_box
    hh, ww = y1 - y0, x1 - x0
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    grad = (xx * np.cos(ang) + yy * np.sin(ang)) / max(hh, ww)
    relief = design.holo_struct[y0:y1, x0:x1]
    hue = (rng.uniform(0, 1) + grad * rng.uniform(0.3, 0.8) + 0.12 * relief) % 1.0
    sat = np.clip((0.30 + 0.15 * np.sin(2 * np.pi * (grad * 1.5 + 0.5 * relief))) * vivid, 0, 1)
    val = 0.78 + 0.12 * np.cos(2 * np.pi * (grad * rng.uniform(0.5, 1.5))) + 0.08 * relief
    # specular glints
    glint = np.clip(np.sin(2 * np.pi * (grad * 3 + relief * 0.7 + rng.uniform(0, 1))), 0, 1) ** 6
    val = np.clip(val + 0.25 * glint * vivid, 0, 1)
    sat = np.clip(sat * (1 - 0.6 * glint), 0, 1)
    hsv = np.stack([hue * 180.0, sat * 255.0, val * 255.0], -1).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32) / 255.0


def thread_colours(design: NoteDesign, rng: np.random.Generator, *, shine: float = 1.0) -> np.ndarray:
    """Colours of the metallic thread strip (``design.thread_box``), with a sheen along its length."""
    x0, y0, x1, y1 = design.thread_box
    hh, ww = y1 - y0, x1 - x0
    v = np.linspace(0, 1, hh, dtype=np.float32)[:, None]
    sheen = 0.55 + 0.3 * shine * np.sin(2 * np.pi * (v * rng.uniform(0.5, 2.0) + rng.uniform(0, 1)))
    tint = np.array([0.92, 0.93, 0.98], np.float32) + rng.uniform(-0.04, 0.04, 3).astype(np.float32)
    out = np.broadcast_to(sheen[..., None] * tint, (hh, ww, 3)).copy()
    # printed text on the thread: a dash pattern every few pixels
    ticks = (np.arange(hh) // max(2, design.width // 160)) % 3 == 0
    out[ticks] *= 0.8
    return out


def render_note(currency: str, denomination: str, side: str, *, serial: str, width: int,
                rng: np.random.Generator) -> np.ndarray:
    """Render one flat, upright note (before capture): the cached design plus per-note details.

    Args:
        currency: code of a fictional currency (see :data:`~banknote_guard.synth.currencies.CURRENCIES`).
        denomination: one of :data:`~banknote_guard.synth.currencies.DENOMINATIONS`.
        side: "front" or "back".
        serial: the serial number to print (front only).
        width: note width in pixels; the height follows the currency's aspect ratio.
        rng: randomness for the hologram's viewing angle and the thread's sheen.

    Returns:
        (H, W, 3) uint8 RGB image of the note.
    """
    design = note_design(currency, denomination, side, int(width))
    img = design.base.copy()
    _apply_security(img, design, rng)
    out = (img * 255.0 + 0.5).astype(np.uint8)
    for x, y, scale, thick, colour in design.serial_spots:
        cv2.putText(out, serial, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    tuple(int(c * 255) for c in colour), thick, cv2.LINE_AA)
    return out


def _apply_security(img: np.ndarray, design: NoteDesign, rng: np.random.Generator, *, vivid: float = 1.0,
                    shine: float = 1.0) -> None:
    """Paint the thread, watermark and foil onto a float image in place."""
    x0, y0, x1, y1 = design.thread_box
    tm = design.thread_mask[y0:y1, x0:x1, None]
    img[y0:y1, x0:x1] = img[y0:y1, x0:x1] * (1 - tm) + thread_colours(design, rng, shine=shine) * tm
    wx0, wy0, wx1, wy1 = design.window_box
    # in reflected light the watermark is a faint shading of the paper
    _ink(img, design.watermark[wy0:wy1, wx0:wx1] * 0.10, np.array([0.55, 0.52, 0.45], np.float32),
         design.window_box)
    if design.holo_box is not None and design.holo_mask is not None:
        hx0, hy0, hx1, hy1 = design.holo_box
        hm = design.holo_mask[hy0:hy1, hx0:hx1, None]
        img[hy0:hy1, hx0:hx1] = img[hy0:hy1, hx0:hx1] * (1 - hm) + hologram_colours(design, rng, vivid=vivid) * hm
