"""Counterfeit processes: simulated reproductions of a genuine flat note.

Each process starts from a rendered genuine note (what a counterfeiter scans or alters) and returns a
flat note that is then worn and captured exactly like a genuine one (:mod:`banknote_guard.synth.capture`).
The strength of every cue depends on the difficulty: obvious at "easy", subtle at "hard". Even at "hard"
every process leaves evidence at the network's working resolution (the rectified note about 512 px wide):
printer dots or toner, softened fine lines, a consistent ink shift that lighting does not produce, flat
foil, missing thread or window, glued seams (``benchmarks/synth_learnability.py`` checks this).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from banknote_guard.errors import parameter_error
from banknote_guard.synth.capture import check_difficulty
from banknote_guard.synth.currencies import DENOMINATIONS
from banknote_guard.synth.design import NoteDesign, make_serial, note_design, render_note

METHODS: tuple[str, ...] = (
    "inkjet",
    "laser",
    "colour_shift",
    "flat_hologram",
    "missing_security",
    "raised_denomination",
    "high_quality",
)

#: Strength of counterfeit cues at each difficulty (1 = obvious).
STRENGTH: dict[str, float] = {"easy": 1.0, "normal": 0.65, "hard": 0.4}

_NEEDS_DESIGN = {"flat_hologram", "missing_security", "raised_denomination", "high_quality"}


@functools.lru_cache(maxsize=1)
def blue_noise(size: int = 64) -> np.ndarray:
    """A tileable blue-noise threshold map in [0, 1): high-pass filtered white noise, rank-equalised."""
    rng = np.random.default_rng(12345)
    n = rng.random((size, size)).astype(np.float32)
    for _ in range(3):
        low = cv2.GaussianBlur(np.tile(n, (3, 3)), (0, 0), 1.2)[size:2 * size, size:2 * size]
        n = n - low
        n = (np.argsort(np.argsort(n.ravel())).reshape(size, size) / (size * size)).astype(np.float32)
    return n


def _tile(threshold: np.ndarray, h: int, w: int, dx: int = 0, dy: int = 0) -> np.ndarray:
    th, tw = threshold.shape
    t = np.roll(threshold, (dy, dx), axis=(0, 1))
    return np.tile(t, (h // th + 1, w // tw + 1))[:h, :w]


def _to_float(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) / 255.0


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0, 1) * 255.0 + 0.5).astype(np.uint8)


def _scan(img: np.ndarray, sigma: float) -> np.ndarray:
    """The counterfeiter's scan of the genuine note: optical softening."""
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.05 else img


def _lab_shift(img: np.ndarray, rng: np.random.Generator, delta_e: float) -> np.ndarray:
    """Shift colours by about ``delta_e`` CIELAB units in a random direction (mostly hue/chroma)."""
    lab = cv2.cvtColor(np.clip(img, 0, 1), cv2.COLOR_RGB2LAB)
    d = rng.normal(0, 1, 3)
    d[0] *= 0.4
    d = d / max(np.linalg.norm(d), 1e-6) * delta_e
    lab += d.astype(np.float32)
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _ink_shift(img: np.ndarray, rng: np.random.Generator, degrees: float, chroma: float) -> np.ndarray:
    """Off-specification inks: rotate the hue of coloured areas by ``degrees`` and scale their chroma.

    Lighting moves every colour the same way (a white-balance tint); a wrong ink moves each hue by an
    amount proportional to its chroma, and leaves the paper white.
    """
    lab = cv2.cvtColor(np.clip(img, 0, 1).astype(np.float32), cv2.COLOR_RGB2LAB)
    a, b = lab[..., 1], lab[..., 2]
    t = np.deg2rad(degrees) * (1.0 if rng.random() < 0.5 else -1.0)
    c, s_ = np.float32(np.cos(t)), np.float32(np.sin(t))
    k = np.float32(chroma)
    lab[..., 1], lab[..., 2] = (a * c - b * s_) * k, (a * s_ + b * c) * k
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _halftone(img: np.ndarray, rng: np.random.Generator, supersample: int, mix: float, dot: int = 1) -> np.ndarray:
    """Inkjet-like CMYK dithering with a blue-noise threshold (approximates error diffusion's dot pattern).

    The image is dithered at ``supersample`` times its size and area-averaged back, so at high supersampling
    only a fine grain stays; ``mix`` blends the dithered result with the continuous one. ``dot`` > 1
    makes the printer's dots ``dot`` pixels large (a coarser screen that survives a camera and JPEG).
    """
    h, w = img.shape[:2]
    big = img
    if supersample > 1:
        big = cv2.resize(img, (w * supersample, h * supersample), interpolation=cv2.INTER_LINEAR)
    bh, bw = big.shape[:2]
    k = 1.0 - big.max(axis=2)
    cmy = (1.0 - big - k[..., None]) / np.maximum(1.0 - k[..., None], 1e-3)
    bn = blue_noise()
    if dot > 1:
        bn = cv2.resize(bn, (bn.shape[1] * dot, bn.shape[0] * dot), interpolation=cv2.INTER_NEAREST)
    dots = []
    for i in range(3):
        t = _tile(bn, bh, bw, int(rng.integers(0, bn.shape[1])), int(rng.integers(0, bn.shape[0])))
        dots.append((cmy[..., i] > t).astype(np.float32))
    kd = (k > _tile(bn, bh, bw, int(rng.integers(0, bn.shape[1])), int(rng.integers(0, bn.shape[0])))).astype(np.float32)
    # inks are not ideal: cyan absorbs some green, magenta some blue
    c, m_, y = dots
    r = (1 - c) * (1 - 0.08 * m_)
    g = (1 - m_) * (1 - 0.18 * c)
    b = (1 - y) * (1 - 0.25 * m_) * (1 - 0.08 * c)
    out = np.stack([r, g, b], -1) * (1 - 0.92 * kd[..., None])
    # dot gain: each dot bleeds into the paper
    out = cv2.GaussianBlur(out, (0, 0), 0.5 * supersample * (1 + 0.2 * (dot - 1)))
    if supersample > 1:
        out = cv2.resize(out, (w, h), interpolation=cv2.INTER_AREA)
    return img * (1 - mix) + out * mix


def _paper(img: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Office paper under the print: whiter, with a faint fibre texture."""
    h, w = img.shape[:2]
    fib = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 1.0)
    tex = 1.0 + 0.02 * amount * fib
    white = np.array([1.0, 1.0, 1.0], np.float32) + np.array([-0.01, 0.0, 0.015], np.float32) * amount
    lightness = img.mean(axis=2, keepdims=True)
    # where the note shows bare paper, the copy shows the copier's paper instead
    paper_weight = np.clip((lightness - 0.8) / 0.2, 0, 1) * 0.5 * amount
    img = img * (1 - paper_weight) + white * paper_weight * lightness
    return img * tex[..., None]


def _gamut(img: np.ndarray, amount: float) -> np.ndarray:
    """Printer gamut compression: saturated colours lose chroma, dark tones lift, a little dot gain."""
    grey = img.mean(axis=2, keepdims=True)
    img = grey + (img - grey) * (1 - 0.35 * amount)
    img = 0.03 * amount + img * (1 - 0.03 * amount)
    return np.power(np.clip(img, 0, 1), 1 + 0.15 * amount)


# ----------------------------------------------------------------------------------------------
# the processes


def _inkjet(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    img = _scan(img, 0.35 + 0.5 * s)
    img = _gamut(img, s)
    # a consumer printer's dots (about 2 px at 640 px note width) stay visible under a loupe or camera
    img = _halftone(img, rng, supersample=1, mix=min(1.0, 0.05 + 0.9 * s ** 1.2), dot=1 if s >= 0.9 else 2)
    return _paper(img, rng, s)


def _laser(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    h, w = img.shape[:2]
    img = _scan(img, 0.45 + 0.6 * s)
    # toner: more contrast, so pale fine lines drop out and dark areas fill in
    gain = 1.0 + 1.6 * s
    mid = 0.55
    curve = 1.0 / (1.0 + np.exp(-(img - mid) * 4.0 * gain))
    lo, hi = 1.0 / (1.0 + np.exp(mid * 4.0 * gain)), 1.0 / (1.0 + np.exp(-(1 - mid) * 4.0 * gain))
    curve = (curve - lo) / (hi - lo)
    # pale fine lines drop out: a light lift of the highlights before the curve
    weight = 0.25 + 0.75 * s
    img = img * (1 - weight) + curve * weight
    # a clustered-dot screen at about 45 degrees
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = 2.6
    diag = period * 1.414
    screen = 0.25 * (np.cos(2 * np.pi * (xx + yy) / diag) * np.cos(2 * np.pi * (xx - yy) / diag))
    img = img + screen[..., None] * (0.18 + 0.4 * s) * (1 - img) * img * 4
    # toner speckle on the background
    n = int(h * w * 0.0015 * (0.6 + s))
    spots = np.zeros((h, w), np.float32)
    ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
    spots[ys, xs] = rng.uniform(0.3, 1.0, n)
    spots = cv2.GaussianBlur(spots, (0, 0), 0.6) * 2.0
    img = img * (1 - np.clip(spots, 0, 0.8)[..., None] * 0.8)
    return _paper(np.clip(img, 0, 1), rng, 0.8 * s + 0.2)


def _colour_shift(img: np.ndarray, rng: np.random.Generator, s: float) -> np.ndarray:
    img = _scan(img, 0.3 + 0.4 * s)
    # the inks are off: hues turn and chroma changes, consistently over the whole note
    # (over-saturated, turned hues: pastel security inks reproduced with a printer's vivid primaries)
    img = _ink_shift(img, rng, degrees=15.0 + 20.0 * s, chroma=1.5 + 0.5 * s)
    return _lab_shift(img, rng, 1.0 + 5.0 * s)


def _flat_features(img: np.ndarray, design: NoteDesign, rng: np.random.Generator, s: float) -> np.ndarray:
    """Print the foil and the thread as flat ink: the colours of one viewing angle, no relief or glint."""
    out = img.copy()
    if design.holo_box is not None and design.holo_mask is not None:
        x0, y0, x1, y1 = design.holo_box
        patch = out[y0:y1, x0:x1]
        # one viewing angle's colours, with neither the rainbow gradient nor the glint of the relief
        hm0 = design.holo_mask[y0:y1, x0:x1, None]
        mean = (patch * hm0).sum((0, 1)) / max(float(hm0.sum()), 1e-3)
        flat = cv2.GaussianBlur(patch, (0, 0), 3.0 + 4.0 * s)
        flat = flat * (0.5 - 0.4 * s) + mean * (0.5 + 0.4 * s)
        grey = flat.mean(axis=2, keepdims=True)
        flat = grey + (flat - grey) * (0.7 - 0.4 * s)
        flat = flat * (0.95 - 0.15 * s)
        hm = design.holo_mask[y0:y1, x0:x1, None]
        out[y0:y1, x0:x1] = patch * (1 - hm) + flat * hm
    x0, y0, x1, y1 = design.thread_box
    tm = design.thread_mask[y0:y1, x0:x1, None]
    strip = out[y0:y1, x0:x1]
    flat_t = np.broadcast_to(strip.reshape(-1, 3).mean(0) * (0.88 - 0.2 * s), strip.shape)
    flat_t = strip * (0.1 - 0.1 * s) + flat_t * (0.9 + 0.1 * s)
    out[y0:y1, x0:x1] = strip * (1 - tm) + flat_t * tm
    return out


def _missing_security(img: np.ndarray, design: NoteDesign, rng: np.random.Generator, s: float) -> np.ndarray:
    out = img.copy()
    h, w = img.shape[:2]
    what = rng.integers(0, 3)
    if what in (0, 2):  # no watermark window: the background print runs through it (or a printed imitation)
        x0, y0, x1, y1 = design.window_box
        win = design.window_mask[..., None]
        if rng.random() < 0.5:
            shift = int(0.2 * w) * (1 if x0 < w / 2 else -1)
            filler = np.roll(out, shift, axis=1)
            a = 0.9 + 0.1 * s
        else:  # a grey, printed watermark that shows in reflected light
            filler = out * (1 - (0.3 + 0.3 * s) * design.watermark[..., None])
            a = 1.0
        out = out * (1 - a * win) + filler * a * win
    if what in (1, 2):  # no thread: the strip shows plain print instead of metal
        x0, y0, x1, y1 = design.thread_box
        tm = design.thread_mask[y0:y1, x0:x1, None]
        tw = x1 - x0
        left = out[y0:y1, max(0, x0 - tw):x0]
        if left.shape[1] != tw:
            left = out[y0:y1, x1:x1 + tw]
        left = left[:, :tw]
        if left.shape[1] == tw:
            a = 0.9 + 0.1 * s
            out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - a * tm) + left * a * tm
    return _scan(out, 0.3 + 0.3 * s)


def _raised(img: np.ndarray, design: NoteDesign, rng: np.random.Generator, s: float) -> np.ndarray:
    """A genuine lower denomination with this denomination's numerals glued on and its colours retouched.

    Below "easy" the portrait (or building) of the high note is glued on as well (a composite note).
    """
    di = DENOMINATIONS.index(design.denomination)
    if di == 0:
        raise parameter_error("denomination", "the raised_denomination counterfeit",
                              f"higher than {DENOMINATIONS[0]} (there is no lower note to raise)", design.denomination)
    lower = DENOMINATIONS[int(rng.integers(0, di))] if s >= 0.5 else DENOMINATIONS[di - 1]
    low = _to_float(render_note(design.currency, lower, design.side, serial=make_serial(design.currency, rng),
                                width=design.width, rng=rng))
    low_design = note_design(design.currency, lower, design.side, design.width)
    if low.shape != img.shape:
        low = cv2.resize(low, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_AREA)
    # retouch the colours of the low note towards the high one (mean/std match in Lab)
    retouch = 0.95 * (1.0 - s)
    if retouch > 0:
        la = cv2.cvtColor(low, cv2.COLOR_RGB2LAB)
        ha = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
        lm, ls = la.reshape(-1, 3).mean(0), la.reshape(-1, 3).std(0) + 1e-3
        hm, hs = ha.reshape(-1, 3).mean(0), ha.reshape(-1, 3).std(0) + 1e-3
        moved = (la - lm) / ls * hs + hm
        la = la * (1 - retouch) + moved * retouch
        low = np.clip(cv2.cvtColor(la.astype(np.float32), cv2.COLOR_LAB2RGB), 0, 1)
    out = low
    boxes = list(design.numeral_boxes) + list(low_design.numeral_boxes)
    if s < 0.5 and design.motif_box is not None:
        # a careful forger also glues on the portrait (or building) cut from a genuine high note
        boxes.append(design.motif_box)
    h, w = img.shape[:2]
    for x0, y0, x1, y1 in boxes:
        dx, dy = rng.integers(-1, 2, 2) * (1 if s < 0.5 else 2)
        sx0, sy0 = int(np.clip(x0 + dx, 0, w)), int(np.clip(y0 + dy, 0, h))
        sx1, sy1 = min(w, sx0 + (x1 - x0)), min(h, sy0 + (y1 - y0))
        patch = img[sy0:sy1, sx0:sx1]
        ph, pw = patch.shape[:2]
        out[y0:y0 + ph, x0:x0 + pw] = patch
        # the cut edge of the glued paper
        edge_col = (0.97, 0.97, 0.95) if rng.random() < 0.5 else (0.35, 0.33, 0.3)
        edge = out.copy()
        # the cut edge of the glued paper: a seam about 2 px wide at 640 px
        thick = max(1, int(round(design.width / 320)))
        cv2.rectangle(edge, (x0, y0), (x0 + pw - 1, y0 + ph - 1), edge_col, thick, cv2.LINE_AA)
        a = 0.7 + 0.3 * s
        out = out * (1 - a) + edge * a
    return out


def _high_quality(img: np.ndarray, design: NoteDesign, rng: np.random.Generator, s: float) -> np.ndarray:
    # the finest lines soften a little, the inks are nearly right, a faint printer screen
    out = _scan(img, 0.5 + 0.3 * s)
    out = _ink_shift(out, rng, degrees=3.0 + 8.0 * s, chroma=0.95 - 0.1 * s)
    out = _halftone(out, rng, supersample=1, mix=0.12 + 0.2 * s, dot=2)
    if rng.random() < 0.5:
        out = _flat_features(out, design, rng, 0.3 * s)
    return out


def counterfeit(note_rgb: np.ndarray, method: str, rng: np.random.Generator, *, difficulty: str = "normal",
                currency: str | None = None, denomination: str | None = None, side: str | None = None
                ) -> np.ndarray:
    """Make a counterfeit of a flat genuine note.

    Args:
        note_rgb: (H, W, 3) uint8 genuine note from :func:`~banknote_guard.synth.design.render_note`.
        method: one of :data:`METHODS`.
        rng: randomness.
        difficulty: "easy", "normal" or "hard": how visible the process's traces are.
        currency, denomination, side: the note's design; needed by "flat_hologram", "missing_security",
            "raised_denomination" and "high_quality" (they work on the design's security features).

    Returns:
        (H, W, 3) uint8 counterfeit note, ready for :func:`~banknote_guard.synth.capture.capture`.

    Raises:
        ParameterError: for an unknown method or difficulty, a missing design, or "raised_denomination"
            on the lowest denomination.
    """
    check_difficulty(difficulty)
    if method not in METHODS:
        raise parameter_error("method", "counterfeit", f"one of {', '.join(METHODS)}", method)
    s = STRENGTH[difficulty]
    img = _to_float(note_rgb)
    design: NoteDesign | None = None
    if method in _NEEDS_DESIGN:
        if currency is None or denomination is None or side is None:
            raise parameter_error("currency/denomination/side", "counterfeit",
                                  f"given for the {method!r} method", None)
        design = note_design(currency, denomination, side, int(note_rgb.shape[1]))
    if method == "inkjet":
        out = _inkjet(img, rng, s)
    elif method == "laser":
        out = _laser(img, rng, s)
    elif method == "colour_shift":
        out = _colour_shift(img, rng, s)
    elif method == "flat_hologram":
        assert design is not None
        out = _scan(_flat_features(img, design, rng, s), 0.25 + 0.3 * s)
    elif method == "missing_security":
        assert design is not None
        out = _missing_security(img, design, rng, s)
    elif method == "raised_denomination":
        assert design is not None
        out = _raised(img, design, rng, s)
    else:
        assert design is not None
        out = _high_quality(img, design, rng, s)
    return _to_uint8(out)
