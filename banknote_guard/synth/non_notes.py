"""Pictures without a banknote: what a camera over a counter or a scanner sees when no note is there.

A model learns what *is* a note from notes; to say "this is not a note at all" it needs examples of
what is not. :func:`render_non_note` draws one picture of a kind in :data:`KINDS` — desks and counters,
printed documents and forms, plain paper, test patterns, screens, hands and skin, cluttered scenes —
in the sizes and lighting of the generator's captures. The verification engine embeds a few hundred
of them into the model's gallery as "not a note" references (:mod:`banknote_guard.verify.gallery`).
Deterministic for a given generator state.
"""

from __future__ import annotations

import cv2
import numpy as np

from banknote_guard.synth.capture import background, smooth_noise

#: The kinds of picture, drawn in turn.
KINDS = ("desk", "document", "paper", "pattern", "screen", "skin", "clutter")


def _document(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = np.full((h, w, 3), rng.uniform(0.86, 0.98), np.float32)
    y = int(rng.uniform(0.05, 0.12) * h)
    line = max(6, int(rng.uniform(0.025, 0.05) * h))
    ink = tuple(float(v) for v in rng.uniform(0.0, 0.25, 3))
    while y < h * 0.95:
        x0 = int(rng.uniform(0.05, 0.1) * w)
        x1 = int(x0 + rng.uniform(0.4, 0.85) * w)
        if rng.random() < 0.85:  # a line of "words"
            x = x0
            while x < x1:
                word = int(rng.uniform(0.03, 0.12) * w)
                cv2.rectangle(img, (x, y), (min(x + word, x1), y + max(2, line // 3)), ink, -1)
                x += word + int(rng.uniform(0.01, 0.025) * w)
        if rng.random() < 0.1:  # a table rule or a form field
            cv2.line(img, (x0, y + line // 2), (x1, y + line // 2), ink, 1)
        y += line
    return img


def _pattern(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    choice = int(rng.integers(0, 4))
    if choice == 0:  # colour bars
        n = int(rng.integers(4, 9))
        cols = rng.uniform(0, 1, (n, 3)).astype(np.float32)
        return cols[np.minimum((xx / w * n).astype(int), n - 1)]
    if choice == 1:  # checkerboard
        c = rng.uniform(8, 60)
        v = ((xx // c + yy // c) % 2).astype(np.float32)
        return np.repeat(v[..., None], 3, axis=2) * rng.uniform(0.6, 1.0)
    if choice == 2:  # gradient
        a, b = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
        t = (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1))
        t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
        return (a[None, None, :] * (1 - t[..., None]) + b[None, None, :] * t[..., None]).astype(np.float32)
    f = rng.uniform(0.02, 0.2)  # concentric rings / zone plate
    r2 = (xx - w / 2) ** 2 + (yy - h / 2) ** 2
    v = 0.5 + 0.5 * np.sin(f * np.sqrt(r2))
    return np.repeat(v[..., None], 3, axis=2).astype(np.float32)


def _screen(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = np.full((h, w, 3), rng.uniform(0.1, 0.95), np.float32)
    for _ in range(int(rng.integers(3, 10))):
        x, y = int(rng.uniform(0, w * 0.8)), int(rng.uniform(0, h * 0.8))
        ww, hh = int(rng.uniform(0.1, 0.6) * w), int(rng.uniform(0.05, 0.4) * h)
        cv2.rectangle(img, (x, y), (x + ww, y + hh), tuple(float(v) for v in rng.uniform(0, 1, 3)), -1)
    img *= 1.0 + 0.08 * np.sin(np.arange(h, dtype=np.float32) * rng.uniform(0.5, 2.0))[:, None, None]  # scan lines
    return img


def _skin(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = background(h, w, rng, "photo")
    tone = np.array([0.85, 0.62, 0.5], np.float32) * rng.uniform(0.45, 1.1)
    mask = np.zeros((h, w), np.float32)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    cv2.ellipse(mask, (int(cx), int(cy)), (int(w * rng.uniform(0.15, 0.3)), int(h * rng.uniform(0.2, 0.35))),
                float(rng.uniform(0, 180)), 0, 360, 1.0, -1)
    for _ in range(int(rng.integers(2, 6))):  # fingers
        ang = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(0.2, 0.45) * min(h, w)
        x2, y2 = int(cx + np.cos(ang) * length * 1.6), int(cy + np.sin(ang) * length)
        cv2.line(mask, (int(cx), int(cy)), (x2, y2), 1.0, int(rng.uniform(0.04, 0.08) * min(h, w)))
    mask = cv2.GaussianBlur(mask, (0, 0), 3)
    shade = 0.8 + 0.2 * smooth_noise(h, w, rng, 40)
    return img * (1 - mask[..., None]) + (tone * shade[..., None]) * mask[..., None]


def _clutter(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    img = background(h, w, rng, "photo")
    for _ in range(int(rng.integers(3, 12))):
        col = tuple(float(v) for v in rng.uniform(0, 1, 3))
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), int(rng.uniform(0.03, 0.15) * min(h, w)), col, -1)
        else:
            pts = rng.uniform(0, 1, (int(rng.integers(3, 6)), 2)) * [w * 0.3, h * 0.3] + [x, y]
            cv2.fillPoly(img, [pts.astype(np.int32)], col)
    return img


def render_non_note(rng: np.random.Generator, kind: str, size: tuple[int, int] = (480, 640)) -> np.ndarray:
    """One (H, W, 3) uint8 RGB picture without a banknote, of ``kind`` (one of :data:`KINDS`)."""
    h, w = size
    if kind == "desk":
        img = background(h, w, rng, "photo")
    elif kind == "document":
        img = _document(h, w, rng)
    elif kind == "paper":
        img = background(h, w, rng, "scan") * (1.0 + 0.03 * smooth_noise(h, w, rng, 30))[..., None]
    elif kind == "pattern":
        img = _pattern(h, w, rng)
    elif kind == "screen":
        img = _screen(h, w, rng)
    elif kind == "skin":
        img = _skin(h, w, rng)
    elif kind == "clutter":
        img = _clutter(h, w, rng)
    else:
        raise ValueError(f"unknown kind {kind!r}; choose one of {KINDS}")
    light = rng.uniform(0.7, 1.15) * (1.0 + rng.uniform(-0.05, 0.05, 3))
    img = np.clip(np.asarray(img, np.float32) * light + rng.normal(0, 0.01, (h, w, 3)), 0, 1)
    return (img * 255 + 0.5).astype(np.uint8)


def non_note_pictures(n: int, seed: int = 0, size: tuple[int, int] = (480, 640)) -> list[np.ndarray]:
    """``n`` pictures without a note, the kinds in turn (deterministic for ``seed``)."""
    rng = np.random.default_rng(seed)
    return [render_non_note(rng, KINDS[i % len(KINDS)], size) for i in range(n)]
