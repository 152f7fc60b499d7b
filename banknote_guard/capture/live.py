"""Looking at one live frame: where is the note, is it whole, large enough and sharp?

:func:`find_live_note` runs the note finder on the frame (on a copy at most :data:`LIVE_SIDE` pixels
wide, which keeps it fast enough for a live view) and measures the note's sharpness with the same
measures and limits the verdict's capture-quality check uses
(:mod:`~banknote_guard.verify.quality`), so a note the live view calls sharp is not sent back as
blurred.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from banknote_guard.data.rectify import rectify_note
from banknote_guard.verify.quality import (
    ANALYSIS_WIDTH,
    DEFAULT_LIMITS,
    MIN_BLUR_PX,
    QualityLimits,
    analysis_view,
    is_blurred,
    note_length,
    sharpness,
)

#: The longer side of the copy of a frame the note finder looks at.
LIVE_SIDE: int = 720


@dataclass(frozen=True)
class LiveNote:
    """A note seen in a live frame.

    Attributes:
        corners: (4, 2) float32 corners in the frame's pixels (top-left, top-right, bottom-right,
            bottom-left of the upright note).
        confidence: how sure the note finder is, in [0, 1].
        length: the note's longer side in the frame, in pixels.
        area: the share of the frame the note covers.
        inside: every corner lies at least the margin away from the frame's edges.
        blur_index, edge_sharpness: the sharpness measures (None: the note is too small to judge).
        sharp: the measures do not say "blurred".
    """

    corners: np.ndarray
    confidence: float
    length: float
    area: float
    inside: bool
    blur_index: float | None
    edge_sharpness: float | None
    sharp: bool


def find_live_note(
    rgb: np.ndarray, *, margin: float = 0.02, limits: QualityLimits = DEFAULT_LIMITS
) -> LiveNote | None:
    """The note in a frame, or None when no note outline is found.

    Args:
        rgb: (H, W, 3) uint8 RGB frame.
        margin: share of the frame's shorter side a corner must keep from the edges to be inside.
        limits: the sharpness limits (those of the verdict's quality check by default).
    """
    h, w = rgb.shape[:2]
    scale = min(1.0, LIVE_SIDE / max(h, w))
    view = rgb if scale >= 1.0 else cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    note = rectify_note(np.ascontiguousarray(view), out_width=ANALYSIS_WIDTH)
    if not note.found or note.corners is None:
        return None
    corners = (note.corners.astype(np.float32) + 0.5) / scale - 0.5
    length = note_length(corners)
    if length >= MIN_BLUR_PX:  # measured at the resolution the note finder saw it at
        blur, edges = sharpness(analysis_view(note.image, note_length(note.corners)))
    else:
        blur = edges = None
    m = margin * min(h, w)
    inside = bool((corners[:, 0] >= m).all() and (corners[:, 1] >= m).all()
                  and (corners[:, 0] <= w - 1 - m).all() and (corners[:, 1] <= h - 1 - m).all())
    area = abs(float(cv2.contourArea(corners))) / float(h * w)
    return LiveNote(
        corners=corners, confidence=float(note.confidence), length=length, area=area, inside=inside,
        blur_index=blur, edge_sharpness=edges, sharp=not is_blurred(blur, edges, limits),
    )
