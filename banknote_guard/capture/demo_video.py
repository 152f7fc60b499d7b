"""Synthetic counter videos: notes slide into a webcam's view, settle, and leave, one after another.

For trying the Capture page or ``banknote-guard capture --video`` without a camera, and for the tests
and benchmarks of auto-capture (they know exactly when each note was at rest). The notes are the
synthetic generator's (:func:`~banknote_guard.synth.render_note`, optionally a counterfeit of it);
the camera adds optical blur and sensor noise; the video is MJPG in an .avi file, which OpenCV writes
with its own encoder (no codec to install).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

#: (height, width) of the frames.
FRAME: tuple[int, int] = (480, 640)
FPS: float = 10.0


def flat_note(denomination: str = "10", side: str = "front", *, currency: str = "KRT", width: int = 420,
              seed: int = 0, method: str | None = None) -> np.ndarray:
    """A flat synthetic note, or with ``method`` a counterfeit of it (see :mod:`banknote_guard.synth`)."""
    from banknote_guard.synth import counterfeit, render_note

    rng = np.random.default_rng(seed)
    note = render_note(currency, denomination, side, serial=f"KA{seed:08d}", width=width, rng=rng)
    if method is not None:
        note = counterfeit(note, method, rng, currency=currency, denomination=denomination, side=side)
    return note


def desk(shape: tuple[int, int] = FRAME, seed: int = 0, colour: tuple[int, int, int] = (120, 96, 74)) -> np.ndarray:
    """A plain desk: a muted colour, a soft light gradient and a little texture."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 0.9 + 0.15 * (xx / w) - 0.08 * (yy / h)
    texture = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 3) * 6
    img = np.asarray(colour, np.float32)[None, None, :] * light[..., None] + texture[..., None]
    return np.clip(img, 0, 255).astype(np.uint8)


def lid(shape: tuple[int, int], value: int = 236) -> np.ndarray:
    """A scanner's white lid."""
    return np.full((*shape, 3), value, np.uint8)


def place(canvas: np.ndarray, note: np.ndarray, centre: tuple[float, float], width: float,
          angle: float = 0.0) -> np.ndarray:
    """``note`` laid on a copy of ``canvas``: ``width`` pixels wide, centred at ``centre``, turned by
    ``angle`` degrees, with anti-aliased edges (it may run out of the picture)."""
    h, w = note.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, width / w)
    m[:, 2] += np.asarray(centre, np.float64) - np.array([w / 2, h / 2])
    size = (canvas.shape[1], canvas.shape[0])
    warped = cv2.warpAffine(note.astype(np.float32), m, size, flags=cv2.INTER_AREA)
    alpha = cv2.warpAffine(np.ones((h, w), np.float32), m, size, flags=cv2.INTER_LINEAR)[..., None]
    out = canvas.astype(np.float32) * (1 - alpha) + warped * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def camera_look(rgb: np.ndarray, rng: np.random.Generator, blur: float = 0.0) -> np.ndarray:
    """What a webcam makes of a scene: optical blur (``blur``: Gaussian sigma, pixels) and sensor noise."""
    img = rgb.astype(np.float32)
    if blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    img += rng.normal(0, 2.0, img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Visit:
    """One note's visit: it slides in from the left, rests ``settle_s`` seconds in the middle, and
    leaves to the right. ``settle_s`` 0 slides it straight through without stopping."""

    note: np.ndarray
    settle_s: float = 1.6
    blur: float = 0.0
    width: float = 400.0
    angle: float = 4.0


@dataclass(frozen=True)
class Timeline:
    """When each visit happened, in frame numbers.

    Attributes:
        rests: (first, last) frame of each visit's note at rest, None for a note that did not stop.
        spans: (first, last) frame of each visit's note in the picture at all.
        frames: frames in the video.
    """

    rests: list[tuple[int, int] | None]
    spans: list[tuple[int, int]]
    frames: int


def visit_frames(visits: Iterable[Visit], *, fps: float = FPS, shape: tuple[int, int] = FRAME, seed: int = 0,
                 slide_s: float = 0.8, gap_s: float = 0.6, timeline: list[tuple[int, int] | None] | None = None,
                 spans: list[tuple[int, int]] | None = None) -> Iterator[np.ndarray]:
    """The frames of notes visiting one after another over an empty desk; ``timeline`` and ``spans``,
    when given, receive each visit's resting frames and its frames in view (see :class:`Timeline`)."""
    rng = np.random.default_rng(seed)
    h, w = shape
    background = desk(shape, seed)
    n = 0
    for _ in range(int(gap_s * fps)):
        n += 1
        yield camera_look(background, rng)
    for v in visits:
        rest = (w / 2, h / 2)
        n_slide = max(2, int(round(slide_s * fps)))
        entered = n
        for i in range(n_slide):  # in from the left
            x = -v.width / 2 + (rest[0] + v.width / 2) * (i + 1) / n_slide
            n += 1
            yield camera_look(place(background, v.note, (x, rest[1]), v.width, v.angle), rng, v.blur)
        still = place(background, v.note, rest, v.width, v.angle)
        n_rest = int(round(v.settle_s * fps))
        if timeline is not None:
            timeline.append((n - 1, n - 1 + n_rest) if n_rest else None)
        for _ in range(n_rest):
            n += 1
            yield camera_look(still, rng, v.blur)
        for i in range(n_slide):  # out to the right
            x = rest[0] + (w + v.width / 2 - rest[0]) * (i + 1) / n_slide
            n += 1
            yield camera_look(place(background, v.note, (x, rest[1]), v.width, v.angle), rng, v.blur)
        if spans is not None:
            spans.append((entered, n - 1))
        for _ in range(int(gap_s * fps)):
            n += 1
            yield camera_look(background, rng)


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: float = FPS) -> Path:
    """Write RGB frames to an MJPG .avi file."""
    writer = None
    try:
        for rgb in frames:
            if writer is None:
                h, w = rgb.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
                if not writer.isOpened():
                    raise OSError(f"OpenCV cannot write an MJPG video to {str(path)!r}")
            writer.write(np.ascontiguousarray(rgb[:, :, ::-1]))
    finally:
        if writer is not None:
            writer.release()
    return Path(path)


def write_demo_video(path: str | Path, visits: Iterable[Visit], **kwargs: object) -> Timeline:
    """Write a counter video of ``visits`` to ``path``; returns when each note rested (see :class:`Timeline`)."""
    rests: list[tuple[int, int] | None] = []
    spans: list[tuple[int, int]] = []
    frames = [0]

    def counted(it: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        for f in it:
            frames[0] += 1
            yield f

    write_video(path, counted(visit_frames(visits, timeline=rests, spans=spans, **kwargs)),  # type: ignore[arg-type]
                fps=float(kwargs.get("fps", FPS)))  # type: ignore[arg-type]
    return Timeline(rests, spans, frames[0])
