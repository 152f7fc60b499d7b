"""Small generator of photos and scans of a banknote-like card with known corners.

Used by the tests and by ``benchmarks/rectify_accuracy.py`` to measure note detection: the note is
a textured, printed-looking rectangle (aspect about 2) placed on a flatbed lid or on a cluttered
table, rotated, seen in perspective, with shadow, lighting gradient, noise and blur.
"""

from __future__ import annotations

import cv2
import numpy as np


def make_note_texture(rng: np.random.Generator, width: int = 400, aspect: float = 2.0) -> np.ndarray:
    """A banknote-like picture: tinted paper, guilloche-like lines, a portrait blob, numerals, a frame."""
    h = int(round(width / aspect))
    yy, xx = np.mgrid[0:h, 0:width].astype(np.float32)
    base = rng.uniform(120, 230, size=3).astype(np.float32)
    tint = rng.uniform(-60, 60, size=3).astype(np.float32)
    f1, f2 = rng.uniform(0.02, 0.08, size=2)
    wave = 0.5 + 0.5 * np.sin(xx * f1 + 6.0 * np.sin(yy * f2))
    img = base[None, None, :] + wave[:, :, None] * tint[None, None, :] * 0.6
    # Guilloche rosette.
    cx, cy = rng.uniform(0.55, 0.8) * width, rng.uniform(0.3, 0.7) * h
    r = np.hypot(xx - cx, yy - cy)
    theta = np.arctan2(yy - cy, xx - cx)
    ros = 0.5 + 0.5 * np.cos(r * 0.35 + 5.0 * np.sin(theta * 7.0))
    img -= (ros * (r < 0.35 * h))[:, :, None] * rng.uniform(20, 60)
    img = np.clip(img, 0, 255).astype(np.uint8)
    ink = tuple(int(v) for v in rng.uniform(20, 120, size=3))
    # Portrait blob, numerals, frame.
    px, py = int(0.25 * width), int(0.5 * h)
    cv2.ellipse(img, (px, py), (int(0.1 * width), int(0.32 * h)), 0, 0, 360, ink, -1, cv2.LINE_AA)
    cv2.ellipse(img, (px, py), (int(0.12 * width), int(0.36 * h)), 0, 0, 360, ink, 2, cv2.LINE_AA)
    value = str(int(rng.choice([5, 10, 20, 50, 100])))
    scale = h / 90.0
    cv2.putText(img, value, (int(0.78 * width), int(0.25 * h)), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, 2, cv2.LINE_AA)
    cv2.putText(img, value, (int(0.05 * width), int(0.92 * h)), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, 2, cv2.LINE_AA)
    m = int(0.04 * h)
    cv2.rectangle(img, (m, m), (width - 1 - m, h - 1 - m), ink, 1, cv2.LINE_AA)
    return img


def _cluttered_background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c0, c1 = rng.uniform(30, 220, size=(2, 3)).astype(np.float32)
    t = (xx / w * rng.uniform(-1, 1) + yy / h * rng.uniform(-1, 1)) * 0.5 + 0.5
    bg = c0[None, None, :] * (1 - t[:, :, None]) + c1[None, None, :] * t[:, :, None]
    # Wood-like or fabric-like fine texture.
    freq = rng.uniform(0.05, 0.3)
    grain = np.sin(yy * freq + 3.0 * np.sin(xx * 0.01)) * rng.uniform(0, 18)
    bg += grain[:, :, None]
    bg = np.clip(bg, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(4, 14))):
        color = tuple(int(v) for v in rng.uniform(0, 255, size=3))
        kind = rng.integers(0, 3)
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        s = int(rng.uniform(0.03, 0.18) * min(w, h))
        if kind == 0:
            cv2.circle(bg, (x, y), s, color, -1, cv2.LINE_AA)
        elif kind == 1:
            box = cv2.boxPoints(((x, y), (s * rng.uniform(0.5, 2), s * rng.uniform(0.3, 1)), rng.uniform(0, 180)))
            cv2.fillConvexPoly(bg, box.astype(np.int32), color, cv2.LINE_AA)
        else:
            x2, y2 = int(rng.uniform(0, w)), int(rng.uniform(0, h))
            cv2.line(bg, (x, y), (x2, y2), color, int(rng.integers(1, 6)), cv2.LINE_AA)
    return bg


def _scan_background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    level = rng.uniform(200, 250) if rng.random() < 0.7 else rng.uniform(40, 90)
    bg = np.full((h, w, 3), level, np.float32) + rng.normal(0, 2.0, size=(h, w, 1)).astype(np.float32)
    return np.clip(bg, 0, 255).astype(np.uint8)


def make_note_photo(
    seed: int,
    *,
    size: tuple[int, int] = (1280, 960),
    kind: str = "photo",
    note_aspect: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Make one capture of a banknote-like card with known corners.

    Args:
        seed: random seed; the same seed gives the same picture.
        size: ``(width, height)`` of the capture.
        kind: ``"photo"`` (cluttered background, any rotation, perspective, shadow, lighting
            gradient, noise, blur) or ``"scan"`` (flat lid, small tilt, even light).
        note_aspect: width/height of the note; random in [1.8, 2.3] when None.

    Returns:
        ``(rgb, corners)``: the ``(H, W, 3)`` uint8 capture and the ``(4, 2)`` float32 corners of the
        note in capture pixels, ordered top-left, top-right, bottom-right, bottom-left of the note
        picture (the note's own upright orientation).
    """
    rng = np.random.default_rng(seed)
    w, h = size
    aspect = float(note_aspect) if note_aspect is not None else float(rng.uniform(1.8, 2.3))
    tex = make_note_texture(rng, width=480, aspect=aspect)
    th, tw = tex.shape[:2]
    src = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)

    if kind == "scan":
        bg = _scan_background(rng, w, h)
        note_w = rng.uniform(0.55, 0.85) * w
        angle = rng.uniform(-6, 6) + (90.0 if rng.random() < 0.2 else 0.0)
        persp = 0.0
    elif kind == "photo":
        bg = _cluttered_background(rng, w, h)
        note_w = rng.uniform(0.4, 0.7) * min(w, h) * 1.3
        angle = rng.uniform(0, 360)
        persp = rng.uniform(0.0, 0.08)
    else:
        raise ValueError(f"kind must be 'photo' or 'scan', got {kind!r}")
    note_h = note_w / aspect
    # Keep the rotated note inside the frame with a margin.
    rad = np.deg2rad(angle)
    ext_w = abs(note_w * np.cos(rad)) + abs(note_h * np.sin(rad))
    ext_h = abs(note_w * np.sin(rad)) + abs(note_h * np.cos(rad))
    fit = min(1.0, 0.9 * w / ext_w, 0.9 * h / ext_h)
    note_w, note_h = note_w * fit, note_h * fit
    ext_w, ext_h = ext_w * fit, ext_h * fit
    cx = rng.uniform(ext_w / 2 + 0.03 * w, w - ext_w / 2 - 0.03 * w) if w - ext_w > 0.06 * w else w / 2
    cy = rng.uniform(ext_h / 2 + 0.03 * h, h - ext_h / 2 - 0.03 * h) if h - ext_h > 0.06 * h else h / 2
    local = np.array(
        [[-note_w / 2, -note_h / 2], [note_w / 2, -note_h / 2], [note_w / 2, note_h / 2], [-note_w / 2, note_h / 2]],
        np.float32,
    )
    local += rng.uniform(-persp, persp, size=(4, 2)).astype(np.float32) * np.float32(note_w)
    rot = np.array([[np.cos(rad), -np.sin(rad)], [np.sin(rad), np.cos(rad)]], np.float32)
    corners = (local @ rot.T + np.array([cx, cy], np.float32)).astype(np.float32)

    m = cv2.getPerspectiveTransform(src, corners)
    warped = cv2.warpPerspective(tex, m, (w, h), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.full((th, tw), 255, np.uint8), m, (w, h), flags=cv2.INTER_LINEAR)
    a = (mask.astype(np.float32) / 255.0)[:, :, None]
    img = bg.astype(np.float32) * (1 - a) + warped.astype(np.float32) * a

    if kind == "photo":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        grad = 1.0 + rng.uniform(-0.25, 0.25) * (xx / w - 0.5) + rng.uniform(-0.25, 0.25) * (yy / h - 0.5)
        img *= grad[:, :, None]
        if rng.random() < 0.6:
            # Soft shadow of a hand or phone over part of the picture.
            shadow = np.zeros((h, w), np.float32)
            pts = (rng.uniform(0, 1, size=(5, 2)) * np.array([w, h]) * 0.7 + np.array([w, h]) * rng.uniform(0, 0.3))
            cv2.fillConvexPoly(shadow, cv2.convexHull(pts.astype(np.int32)), 1.0)
            shadow = cv2.GaussianBlur(shadow, (0, 0), 0.02 * w)
            img *= (1.0 - rng.uniform(0.2, 0.45) * shadow)[:, :, None]
        img += rng.normal(0, rng.uniform(2, 6), size=(h, w, 1)).astype(np.float32)
        out = np.clip(img, 0, 255).astype(np.uint8)
        sigma = rng.uniform(0.3, 1.2)
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    else:
        out = np.clip(img, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out), corners


def make_empty_photo(seed: int, *, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    """A capture with no note: a smooth gradient with faint noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = 120 + 60 * (xx / w) + 20 * (yy / h) + rng.normal(0, 2, size=(h, w))
    return np.repeat(np.clip(g, 0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def corner_error(found: np.ndarray, true: np.ndarray) -> float:
    """Largest corner distance in pixels, allowing the 180° ambiguity (the order may start at the
    opposite corner)."""
    f = np.asarray(found, np.float64)
    t = np.asarray(true, np.float64)
    errs = [np.linalg.norm(np.roll(f, k, axis=0) - t, axis=1).max() for k in (0, 2)]
    return float(min(errs))
