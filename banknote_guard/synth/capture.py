"""How a note reaches the camera: wear on the paper, then a flatbed scan or a phone/webcam photo.

Genuine notes and counterfeits go through the same functions, so nothing here tells them apart.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from banknote_guard.errors import parameter_error

Difficulty = Literal["easy", "normal", "hard"]
DIFFICULTIES: tuple[str, ...] = ("easy", "normal", "hard")
CAPTURE_KINDS: tuple[str, ...] = ("scan", "photo")

#: How strongly genuine captures vary (wear, light, blur, noise) at each difficulty.
VARIATION: dict[str, float] = {"easy": 0.6, "normal": 1.0, "hard": 1.3}

#: How much detail genuine captures lose (blur, sensor noise, JPEG) at each difficulty. Even at "hard" a
#: capture keeps fine print: a teller's 300 dpi scanner or a phone photo in focus.
DETAIL_LOSS: dict[str, float] = {"easy": 0.6, "normal": 0.8, "hard": 1.0}


def check_difficulty(difficulty: str, owner: str = "the synthetic generator") -> None:
    """Raise ParameterError unless ``difficulty`` is "easy", "normal" or "hard"."""
    if difficulty not in DIFFICULTIES:
        raise parameter_error("difficulty", owner, "one of 'easy', 'normal', 'hard'", difficulty)


def smooth_noise(h: int, w: int, rng: np.random.Generator, cell: float) -> np.ndarray:
    """Low-frequency noise in [-1, 1] with features about ``cell`` pixels large."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    g = rng.standard_normal((gh, gw)).astype(np.float32)
    f = cv2.resize(g, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(f / 1.5, -1, 1)


# ----------------------------------------------------------------------------------------------
# wear


def apply_wear(note_rgb: np.ndarray, rng: np.random.Generator, amount: float = 1.0) -> np.ndarray:
    """Age a flat note: dirt, stains, folds, creases and a soft crumple.

    Args:
        note_rgb: (H, W, 3) uint8 flat note.
        rng: randomness.
        amount: 0 leaves the note new; 1 is ordinary circulation; larger values are very worn.

    Returns:
        (H, W, 3) uint8 note of the same size.
    """
    h, w = note_rgb.shape[:2]
    img = note_rgb.astype(np.float32) / 255.0
    wear = amount * rng.uniform(0.0, 1.0) ** 0.7  # some notes are crisp, some are tired
    shade = np.ones((h, w), np.float32)
    # dirt: low-frequency greyish-yellow darkening, heavier towards the edges (drawn at 1/4 size)
    sh_, sw_ = max(2, h // 4), max(2, w // 4)
    ys = np.linspace(0, h - 1, sh_, dtype=np.float32)[:, None]
    xs = np.linspace(0, w - 1, sw_, dtype=np.float32)[None, :]
    edge = np.minimum(np.minimum(xs, w - 1 - xs), np.minimum(ys, h - 1 - ys)) / (0.12 * w)
    edge_dirt = np.clip(1.0 - edge, 0, 1) ** 2
    dirt = (0.5 + 0.5 * smooth_noise(sh_, sw_, rng, sw_ / 6)) * 0.08 + edge_dirt * 0.10
    dirt = cv2.resize((dirt * wear).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    dirt_colour = np.array([0.55, 0.50, 0.38], np.float32)
    img *= 1.0 - dirt[..., None] * (1.0 - dirt_colour)
    # stains: a few soft blobs with a darker rim (a dried drop)
    for _ in range(rng.poisson(0.8 * wear)):
        blob = np.zeros((h, w), np.float32)
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        ax = (int(rng.uniform(0.02, 0.09) * w), int(rng.uniform(0.02, 0.09) * w))
        cv2.ellipse(blob, c, ax, rng.uniform(0, 180), 0, 360, 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), max(1.0, 0.006 * w))
        rim = np.clip(blob * (1 - blob) * 4, 0, 1)
        strength = rng.uniform(0.08, 0.25)
        col = np.array([0.75, 0.6, 0.4], np.float32) if rng.random() < 0.7 else np.array([0.7, 0.7, 0.7], np.float32)
        a = (blob * 0.5 + rim) * strength
        img *= 1.0 - a[..., None] * (1.0 - col)
    # folds: a sharp light/dark step along a line through the note, ink rubbed off on the ridge
    n_folds = rng.binomial(2, min(1.0, 0.45 * wear + 0.1))
    for k in range(n_folds):
        vertical = (k == 0) if rng.random() < 0.8 else rng.random() < 0.5
        if vertical:
            x0 = w * rng.uniform(0.45, 0.55)
            x1 = x0 + rng.uniform(-0.02, 0.02) * w
            d = xx - (x0 + (x1 - x0) * yy / h)
        else:
            y0 = h * rng.uniform(0.4, 0.6)
            y1 = y0 + rng.uniform(-0.03, 0.03) * h
            d = yy - (y0 + (y1 - y0) * xx / w)
        width = max(1.0, 0.004 * w)
        side_shade = np.tanh(d / (0.03 * w)) * rng.uniform(0.02, 0.06) * (0.5 + wear)
        shade *= 1.0 + side_shade
        ridge = np.exp(-(d / width) ** 2)
        rub = ridge * rng.uniform(0.2, 0.5) * min(1.0, wear + 0.2)
        img = img * (1 - rub[..., None]) + 0.93 * rub[..., None]
        shade *= 1.0 - 0.10 * np.exp(-((d - width * 1.5) / width) ** 2)
    # creases: thin irregular lines, light on one side, dark on the other
    n_creases = rng.poisson(2.5 * wear)
    if n_creases:
        crease = np.zeros((h, w), np.float32)
        for _ in range(n_creases):
            p = np.array([rng.uniform(0, w), rng.uniform(0, h)])
            ang = rng.uniform(0, np.pi)
            length = rng.uniform(0.1, 0.5) * w
            t = np.linspace(-0.5, 0.5, 12)[:, None]
            pts = p + t * length * np.array([np.cos(ang), np.sin(ang)])
            pts += rng.normal(0, 0.006 * w, pts.shape)
            cv2.polylines(crease, [np.round(pts).astype(np.int32)], False, 1.0, 1, cv2.LINE_AA)
        crease = cv2.GaussianBlur(crease, (0, 0), 0.7)
        shade *= 1.0 - 0.16 * crease
        img = img * (1 - 0.35 * crease[..., None]) + 0.92 * 0.35 * crease[..., None]
    # soft crumple: gentle shading and a small displacement of the paper
    if wear > 0.15:
        shade *= 1.0 + 0.05 * wear * smooth_noise(h, w, rng, w / 5)
        amp = 1.2 * wear * w / 640.0
        dx = smooth_noise(h, w, rng, w / 4) * amp
        dy = smooth_noise(h, w, rng, w / 4) * amp
        img = cv2.remap(img, dx + xx, dy + yy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    img *= shade[..., None]
    return (np.clip(img, 0, 1) * 255.0 + 0.5).astype(np.uint8)


# ----------------------------------------------------------------------------------------------
# backgrounds


def background(h: int, w: int, rng: np.random.Generator, kind: str) -> np.ndarray:
    """A float32 RGB background: scanner lid, or for photos a desk, wood, cloth, counter or paper."""
    if kind == "scan":
        if rng.random() < 0.15:  # lid open: near black with a little noise
            base = np.full((h, w, 3), rng.uniform(0.03, 0.10), np.float32)
        else:
            base = np.full((h, w, 3), rng.uniform(0.88, 0.99), np.float32)
            base *= 1.0 + rng.uniform(-0.02, 0.02, 3).astype(np.float32)
        return base
    choice = rng.integers(0, 5)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if choice == 0:  # wood grain
        col = np.array([0.55, 0.38, 0.22], np.float32) * rng.uniform(0.6, 1.3)
        ang = rng.uniform(0, np.pi)
        u = xx * np.cos(ang) + yy * np.sin(ang)
        warp = smooth_noise(h, w, rng, w / 4) * 25
        grain = 0.5 + 0.5 * np.sin((u + warp) / rng.uniform(3, 9))
        f = 0.85 + 0.15 * grain + 0.05 * smooth_noise(h, w, rng, 12)
    elif choice == 1:  # plain desk / counter with a mottled texture, in muted colours
        grey = rng.uniform(0.2, 0.85)
        col = np.clip(grey + rng.normal(0, 0.06, 3), 0, 1).astype(np.float32)
        f = 1.0 + 0.05 * smooth_noise(h, w, rng, 30) + 0.03 * smooth_noise(h, w, rng, 4)
    elif choice == 2:  # woven cloth / counting mat (often green, blue or grey)
        base = [np.array([0.15, 0.35, 0.2]), np.array([0.15, 0.2, 0.4]), np.array([0.35, 0.35, 0.35]),
                np.array([0.45, 0.3, 0.25])][int(rng.integers(0, 4))]
        col = np.clip(base * rng.uniform(0.6, 1.4) + rng.normal(0, 0.03, 3), 0, 1).astype(np.float32)
        p = rng.uniform(3, 6)
        f = 0.9 + 0.06 * np.sin(xx / p * 2 * np.pi) * np.sin(yy / p * 2 * np.pi) + 0.04 * smooth_noise(h, w, rng, 20)
    elif choice == 3:  # dark counter
        col = np.full(3, rng.uniform(0.05, 0.2), np.float32) + rng.uniform(0, 0.05, 3).astype(np.float32)
        f = 1.0 + 0.1 * smooth_noise(h, w, rng, 40)
    else:  # white paper / form
        col = np.full(3, rng.uniform(0.8, 0.95), np.float32)
        f = 1.0 + 0.02 * smooth_noise(h, w, rng, 50)
    return np.clip(f[..., None] * col, 0, 1).astype(np.float32)


# ----------------------------------------------------------------------------------------------
# capture


def capture(note_rgb: np.ndarray, rng: np.random.Generator, *, kind: str = "scan", difficulty: str = "normal",
            wear: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Capture a flat note the way a scanner or a phone/webcam would.

    Args:
        note_rgb: (H, W, 3) uint8 flat note.
        rng: randomness (pose, background, light, blur, noise, JPEG quality, wear).
        kind: "scan" (flatbed: small rotation, lid background, even light) or "photo" (perspective,
            rotation, table background, uneven light, colour temperature, blur, sensor noise).
        difficulty: "easy", "normal" or "hard": how much genuine captures vary.
        wear: age the note first (:func:`apply_wear`).

    Returns:
        The captured (h, w, 3) uint8 RGB image (already through a JPEG round trip) and the note's four
        corners in it as a (4, 2) float32 array in the order top-left, top-right, bottom-right,
        bottom-left of the note itself.
    """
    check_difficulty(difficulty)
    if kind not in CAPTURE_KINDS:
        raise parameter_error("kind", "capture", "'scan' or 'photo'", kind)
    var = VARIATION[difficulty]
    loss = DETAIL_LOSS[difficulty]
    note = apply_wear(note_rgb, rng, amount=0.9 * var) if wear else note_rgb
    nh, nw = note.shape[:2]
    src = np.array([[0, 0], [nw, 0], [nw, nh], [0, nh]], np.float32)
    if kind == "scan":
        scale = rng.uniform(0.97, 1.03)
        angle = np.deg2rad(rng.normal(0, 1.5 * var))
        margins = rng.uniform(0.03, 0.12, 4) * nw  # left, top, right, bottom
        bw, bh = nw * scale, nh * scale
        c, s_ = np.cos(angle), np.sin(angle)
        ext_w = abs(bw * c) + abs(bh * s_)
        ext_h = abs(bw * s_) + abs(bh * c)
        out_w = int(ext_w + margins[0] + margins[2])
        out_h = int(ext_h + margins[1] + margins[3])
        centre = np.array([margins[0] + ext_w / 2, margins[1] + ext_h / 2])
        rel = (src - [nw / 2, nh / 2]) * scale
        dst = rel @ np.array([[c, s_], [-s_, c]], np.float32) + centre
        persp = 0.0
    else:
        out_w = int(nw * rng.uniform(1.2, 1.6))
        out_h = int(out_w * rng.choice([0.75, 0.5625, 0.667]))
        out_h = max(out_h, int(nh * 1.25))
        frac = rng.uniform(0.62, 0.85)
        scale = frac * out_w / nw
        angle = np.deg2rad(rng.normal(0, 8 * var))
        c, s_ = np.cos(angle), np.sin(angle)
        rel = (src - [nw / 2, nh / 2]) * scale
        rot = rel @ np.array([[c, s_], [-s_, c]], np.float32)
        persp = 0.035 * var
        rot += rng.normal(0, persp * nw * scale, rot.shape)
        lo, hi = rot.min(0), rot.max(0)
        room = np.maximum(np.array([out_w, out_h]) - (hi - lo) - 4, 0)
        origin = 2 - lo + rng.uniform(0, 1, 2) * room
        dst = rot + origin
        # keep the whole note inside the frame even when the jitter made it too large
        span = dst.max(0) - dst.min(0)
        shrink = min(1.0, (out_w - 4) / span[0], (out_h - 4) / span[1])
        if shrink < 1.0:
            ctr = np.array([out_w / 2, out_h / 2])
            dst = (dst - dst.mean(0)) * shrink + ctr
    dst = dst.astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    sigma_pre = max(0.0, 0.45 / max(scale, 1e-3) - 0.35)  # optics band-limit before resampling
    note_f = note.astype(np.float32) / 255.0
    if sigma_pre > 0.05:
        note_f = cv2.GaussianBlur(note_f, (0, 0), sigma_pre)
    rgba = np.dstack([note_f, np.ones((nh, nw), np.float32)])
    warped = cv2.warpPerspective(rgba, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3:4]
    bg = background(out_h, out_w, rng, kind)
    if kind == "photo":  # a soft shadow of the note on the table
        sh = cv2.GaussianBlur(alpha[..., 0], (0, 0), rng.uniform(3, 10))
        off = rng.integers(-6, 7, 2)
        sh = np.roll(sh, (int(off[1]), int(off[0])), axis=(0, 1))
        bg *= 1.0 - rng.uniform(0.2, 0.5) * sh[..., None]
    bg *= 1.0 - alpha
    img = warped[..., :3]
    img += bg
    # lighting: gradient, vignette, colour temperature
    lh, lw_ = max(2, out_h // 8), max(2, out_w // 8)
    yy = np.linspace(0, out_h - 1, lh, dtype=np.float32)[:, None] * np.ones((1, lw_), np.float32)
    xx = np.linspace(0, out_w - 1, lw_, dtype=np.float32)[None, :] * np.ones((lh, 1), np.float32)
    if kind == "scan":
        light = 1.0 + rng.uniform(-0.02, 0.02) * var * (xx / out_w - 0.5) * 2 + rng.uniform(-0.015, 0.015)
        temp = rng.normal(0, 0.012 * var)
        gain = rng.uniform(0.97, 1.03)
    else:
        ang = rng.uniform(0, 2 * np.pi)
        g = ((xx / out_w - 0.5) * np.cos(ang) + (yy / out_h - 0.5) * np.sin(ang)) * 2
        vig = ((xx / out_w - 0.5) ** 2 + (yy / out_h - 0.5) ** 2) * 2
        light = 1.0 + rng.uniform(0.05, 0.25) * var * g - rng.uniform(0.0, 0.3) * var * vig
        temp = rng.normal(0, 0.03 * var)  # phones and webcams auto white-balance
        gain = rng.uniform(0.8, 1.1)
    tint = np.array([1 + temp, 1.0, 1 - temp], np.float32) * gain
    light = cv2.resize(np.asarray(light, np.float32), (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    img *= light[..., None]
    img *= tint
    # blur: scanner optics, or defocus / hand shake
    if kind == "scan":
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.5 + 0.2 * loss))
    elif rng.random() < 0.3:
        length = int(rng.integers(2, 3 + int(2 * loss)))
        k = np.zeros((length * 2 + 1, length * 2 + 1), np.float32)
        a = rng.uniform(0, np.pi)
        cv2.line(k, (int(length - length * np.cos(a)), int(length - length * np.sin(a))),
                 (int(length + length * np.cos(a)), int(length + length * np.sin(a))), 1.0, 1, cv2.LINE_AA)
        img = cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))
    else:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.4, 0.6 + 0.5 * loss))
    # sensor noise: shot noise grows with brightness, plus read noise
    if kind == "scan":
        sigma = rng.uniform(0.003, 0.008) * loss
    else:
        sigma = rng.uniform(0.008, 0.02) * loss
    noise = rng.standard_normal(img.shape, dtype=np.float32)
    noise *= cv2.sqrt(np.clip(img, 0, 1)) * np.float32(0.6 * sigma) + np.float32(0.4 * sigma)
    img += noise
    np.clip(img, 0, 1, out=img)
    img *= 255.0
    img += 0.5
    out = img.astype(np.uint8)
    quality = int(rng.uniform(88, 97) if kind == "scan" else rng.uniform(95 - 25 * loss, 95 - 5 * loss))
    ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, max(30, min(100, quality))])
    if ok:
        out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return out, dst
