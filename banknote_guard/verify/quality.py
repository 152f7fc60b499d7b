"""Capture quality: is a picture good enough to judge the note in it?

A blurred, dark or cut-off picture of a genuine note can look like a counterfeit to the network, and a
blurred counterfeit can hide the very cues that give it away. So before a verdict is trusted, the
picture is checked, and when it fails a check the verdict is "retake" with the reason
(:func:`~banknote_guard.verify.verdict.judge`): the operator captures the note again instead of
raising a false alarm or passing a note that was never really seen.

Every reason starts with a short key and a colon (``"blurred: ..."``); :func:`reason_key` returns it.

Checks (measured on the straightened note, at :data:`ANALYSIS_WIDTH` pixels across at most, and on
a small copy of the picture for the checks that need its surroundings):

- **blurred** — two measures, either failing is enough. The *blur index* of Crete et al. (2007, "The
  blur effect: perception and estimation with a new no-reference perceptual blur metric"): how much
  of the variation between neighbouring pixels survives blurring the picture once more (a sharp
  picture loses much, a blurred one little), in [0, 1], higher = blurrier. And the *edge sharpness*:
  at the note's strong edges (local contrast at least :data:`STRONG_EDGE`), the steepest step per
  pixel relative to the local contrast, taken in the worst of four directions, so motion blur along
  one direction counts; lower = blurrier. Not judged on notes smaller than :data:`MIN_BLUR_PX` pixels
  across (too few pixels to tell blur from a coarse picture) nor on pictures without strong edges.
- **too dark** — the brightest part of the note (95th percentile of luminance) stays dark.
- **glare** — a reflection: one blown-out patch (every channel at least :data:`BLOWN_OUT`) covers a
  large share of the note.
- **cut off** — the region the note belongs to runs into the edge of the picture. With no outline
  found: the picture's largest region stands on a background seen along most of its border and runs
  into its edge. Never for a note filling most of the picture (a tightly cropped scan).
- **too small** — the note is fewer pixels across than the network needs (a share of its input width).
- **several notes** — a second note-like outline of a similar size beside the first.
- **no note** — for a picture that should show a whole note on a background (a camera frame, a scanned
  page), no outline was found at all. Not applied to files: a tightly cropped scan has no outline.

Limits (:class:`QualityLimits`) were set on measured data (``benchmarks/capture_latency.py``, figures
in ``benchmarks/README.md``): none of 100 synthetic captures at the "normal" setting nor of the
bundled sample notes is sent back, 1 of 160 at the "hard" setting (a counterfeit printed soft); of
genuine captures, 98 % are sent back once blurred with a Gaussian of 3 px (on notes ~640 px across),
97 % once motion-blurred over 17 px, all once darkened to a quarter, about half once cropped so that
a fifth of the note is cut off. The checks look at the note finder's outline, so they are measured
again whenever it changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.model.config import ModelConfig
    from banknote_guard.model.preprocess import PreparedNote

#: The straightened note is measured at most this many pixels across.
ANALYSIS_WIDTH: int = 384
#: Blur is not judged on notes fewer than this many pixels across in the picture.
MIN_BLUR_PX: float = 300.0
#: Local contrast (grey levels, over :data:`EDGE_WINDOW` pixels) that makes an edge strong.
STRONG_EDGE: float = 40.0
#: Window (pixels, at the analysis size) over which local contrast is measured.
EDGE_WINDOW: int = 9
#: A channel value at or above this is blown out (no detail left).
BLOWN_OUT: int = 250
#: Longer side of the small copy the surroundings checks look at.
WORK_SIDE: int = 480
#: The most notes :func:`find_notes` looks for on one picture.
MAX_NOTES: int = 12

BLURRED = "blurred"
TOO_DARK = "too dark"
GLARE = "glare"
CUT_OFF = "cut off"
TOO_SMALL = "too small"
SEVERAL_NOTES = "several notes"
NO_NOTE = "no note"
#: Every reason key, in the order reasons are listed.
REASON_KEYS: tuple[str, ...] = (NO_NOTE, SEVERAL_NOTES, CUT_OFF, TOO_SMALL, BLURRED, TOO_DARK, GLARE)

_ADVICE = {
    BLURRED: "the picture is not sharp; hold the note still and let the camera focus, then capture it again",
    TOO_DARK: "the note is too dark to see its print; add light, then capture it again",
    GLARE: "a reflection hides part of the note; tilt the note or move the light, then capture it again",
    CUT_OFF: "part of the note is outside the picture; put the whole note in view, then capture it again",
    SEVERAL_NOTES: "more than one note is in the picture; capture the notes one at a time",
    NO_NOTE: "no banknote was found in the picture; put a note in view (or on the scanner glass) and capture again",
}


def reason_key(reason: str) -> str:
    """The short key a reason starts with (``"blurred"`` for ``"blurred: the picture ..."``)."""
    return reason.partition(":")[0].strip()


@dataclass(frozen=True)
class QualityLimits:
    """Where each check draws the line (see the module docstring for how they were set).

    Attributes:
        max_blur_index: blur index (0 sharp .. 1 blurred) above which a note is blurred.
        min_edge_sharpness: edge sharpness below which a note is blurred.
        min_brightness: 95th percentile of the note's luminance (0-255) below which it is too dark.
        max_glare: share of the note one blown-out patch may cover.
        min_note_width: the note's longer side in the picture, as a share of the network's input
            width, below which it is too small.
        cut_off_run: length of the note's region along the picture's edge, as a share of the note's
            shorter side, from which it counts as cut off.
        other_note_score: outline score (as the note finder rates outlines) a second note needs.
        other_note_area: a second note's area relative to the first, (lowest, highest).
        max_crop_share: a note covering this share of the picture or more is a cropped picture of
            it, not a note cut off by the frame.
        min_border_background: share of the picture's border that must be plain background before the
            foreground mask is trusted to say a note runs out of the picture. On a cluttered table or a
            hand-held photo (shirts, fingers, wood grain at the border) the mask is not the note, and
            without this limit 105 of 179 real hand-held photos, nearly all with the whole note in view,
            came back "cut off" (``benchmarks/README.md``).
    """

    max_blur_index: float = 0.52
    min_edge_sharpness: float = 0.165
    min_brightness: float = 75.0
    max_glare: float = 0.15
    min_note_width: float = 0.7
    cut_off_run: float = 0.25
    other_note_score: float = 0.55
    other_note_area: tuple[float, float] = (0.5, 2.0)
    max_crop_share: float = 0.7
    min_border_background: float = 0.85


DEFAULT_LIMITS = QualityLimits()


@dataclass
class CaptureQuality:
    """What the checks measured on one picture, and the reasons to capture it again.

    Attributes:
        note_found: whether the note's outline was found.
        note_px: the note's longer side in the picture, in pixels (the picture's, when not found).
        blur_index: Crete's blur index, 0 sharp .. 1 blurred (None: not judged).
        edge_sharpness: steepness of the note's strong edges, worst direction (None: not judged).
        brightness: 95th percentile of the note's luminance, 0-255.
        glare: share of the note covered by the largest blown-out patch.
        cut_off: the note runs into the edge of the picture.
        several_notes: a second note lies beside the first.
        reasons: the reasons to capture again (empty: good enough to judge).
    """

    note_found: bool
    note_px: float
    blur_index: float | None
    edge_sharpness: float | None
    brightness: float
    glare: float
    cut_off: bool = False
    several_notes: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons


# --------------------------------------------------------------------------------------------------
# measures


def _grey(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY)


def blur_index(grey: np.ndarray) -> float:
    """Crete et al.'s blur index of a grey picture: 0 sharp .. 1 blurred (the worse of the two axes).

    The picture is blurred once more (a 9-pixel box along each axis); the index is the share of the
    variation between neighbouring pixels that survives. NaN for a picture without any variation.
    """
    g = grey.astype(np.float32)
    worst = -1.0
    for axis, ksize in ((0, (1, 9)), (1, (9, 1))):
        if g.shape[axis] < 2:
            continue
        again = cv2.blur(g, ksize)
        d_img = np.abs(np.diff(g, axis=axis))
        d_again = np.abs(np.diff(again, axis=axis))
        total = float(d_img.sum())
        if total <= 0:
            continue
        lost = float(np.maximum(0.0, d_img - d_again).sum())
        worst = max(worst, (total - lost) / total)
    return float("nan") if worst < 0 else worst


def edge_sharpness(grey: np.ndarray, *, quantile: float = 95.0) -> float:
    """How steep the strong edges of a grey picture are, in the worst of four directions.

    At every pixel whose local contrast (max - min over :data:`EDGE_WINDOW` pixels) is at least
    :data:`STRONG_EDGE`, the gradient per pixel divided by that contrast (about 0.5 for a step over
    one pixel, 1/(sigma*sqrt(2*pi)) for a step blurred by a Gaussian of sigma pixels). The edges are
    grouped by the direction of their gradient (four bins) and the ``quantile`` of each bin taken;
    the lowest bin is returned, so a picture blurred along one direction only (motion) scores low.
    NaN when the picture has too few strong edges to judge.
    """
    g = grey.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3) / 8.0
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3) / 8.0
    mag = cv2.magnitude(gx, gy)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (EDGE_WINDOW, EDGE_WINDOW))
    contrast = cv2.dilate(g, kernel) - cv2.erode(g, kernel)
    # Pixels on an edge's slope (not the flat parts beside it) inside high local contrast.
    strong = (contrast >= STRONG_EDGE) & (mag >= 0.05 * contrast)
    if int(np.count_nonzero(strong)) < 120:
        return float("nan")
    ax, ay = np.abs(gx[strong]), np.abs(gy[strong])
    ratio = mag[strong] / contrast[strong]
    tan = math.tan(math.pi / 8)
    along_x, along_y = ay < tan * ax, ax < tan * ay  # gradient within 22.5 degrees of an axis
    diagonal = ~(along_x | along_y)
    rising = (gx[strong] * gy[strong]) > 0
    worst = math.inf
    for sel in (along_x, along_y, diagonal & rising, diagonal & ~rising):
        if int(np.count_nonzero(sel)) >= 30:
            worst = min(worst, float(np.percentile(ratio[sel], quantile)))
    return float("nan") if math.isinf(worst) else worst


def sharpness(image: np.ndarray) -> tuple[float, float]:
    """(:func:`blur_index`, :func:`edge_sharpness`) of an RGB or grey picture of a note."""
    grey = _grey(image)
    return blur_index(grey), edge_sharpness(grey)


def is_blurred(blur: float | None, edges: float | None, limits: QualityLimits = DEFAULT_LIMITS) -> bool:
    """Whether the two blur measures say "blurred" (a measure that is None or NaN says nothing)."""
    too_blurred = blur is not None and math.isfinite(blur) and blur > limits.max_blur_index
    too_soft = edges is not None and math.isfinite(edges) and edges < limits.min_edge_sharpness
    return too_blurred or too_soft


def analysis_view(upright: np.ndarray, note_px: float) -> np.ndarray:
    """The straightened note as the checks look at it: at most :data:`ANALYSIS_WIDTH` (and at most
    ``note_px``) pixels across, without its outer 5 % (the paper's edge and any background)."""
    h, w = upright.shape[:2]
    aw = int(max(8, min(ANALYSIS_WIDTH, w, round(note_px))))
    ah = int(max(8, round(aw * h / max(w, 1))))
    small = cv2.resize(upright, (aw, ah), interpolation=cv2.INTER_AREA) if (aw, ah) != (w, h) else upright
    my, mx = int(ah * 0.05), int(aw * 0.05)
    return small[my : ah - my, mx : aw - mx]


def glare_share(rgb: np.ndarray) -> float:
    """Share of the picture covered by its largest blown-out patch (every channel >= :data:`BLOWN_OUT`)."""
    r, g, b = cv2.split(np.ascontiguousarray(rgb[:, :, :3]))
    blown = (cv2.min(cv2.min(r, g), b) >= BLOWN_OUT).astype(np.uint8)
    if not blown.any():
        return 0.0
    n, _, stats, _ = cv2.connectedComponentsWithStats(blown, connectivity=8)
    return float(stats[1:, cv2.CC_STAT_AREA].max()) / float(blown.size) if n > 1 else 0.0


def brightness(rgb: np.ndarray) -> float:
    """95th percentile of the luminance, 0-255."""
    return float(np.percentile(_grey(rgb), 95))


def note_length(corners: np.ndarray) -> float:
    """The longer side of a note outline, in the outline's pixels."""
    c = np.asarray(corners, np.float64)
    return float(max(np.linalg.norm(c[(i + 1) % 4] - c[i]) for i in range(4)))


# --------------------------------------------------------------------------------------------------
# the surroundings: cut off, several notes


def _working_copy(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """A copy of the picture at most :data:`WORK_SIDE` pixels on its longer side, and its scale."""
    h, w = rgb.shape[:2]
    scale = WORK_SIDE / max(h, w)
    if scale >= 1.0:
        return rgb, 1.0
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = rgb
    while small.shape[1] * 0.35 > size[0]:  # halve first (2x2 averages), so the last step does not alias
        small = cv2.resize(small, (small.shape[1] // 2, small.shape[0] // 2), interpolation=cv2.INTER_AREA)
    small = cv2.resize(small, size, interpolation=cv2.INTER_LINEAR)
    return small, small.shape[1] / w


def _foreground(small: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What stands out from the background seen along the picture's border (the note finder's
    masks), and the background colour as RGB."""
    from banknote_guard.data.rectify.masks import (
        background_distance,
        background_mask,
        border_colour,
        colour_space,
        uniform_background_mask,
    )

    colour = colour_space(small)
    dist = background_distance(colour, border_colour(colour))
    mask = uniform_background_mask(dist)
    if mask is None:
        mask = background_mask(dist)
    h, w = small.shape[:2]
    b = max(2, min(h, w) // 40)
    band = np.concatenate([small[:b].reshape(-1, 3), small[-b:].reshape(-1, 3), small[:, :b].reshape(-1, 3),
                           small[:, -b:].reshape(-1, 3)])
    return mask, np.median(band, axis=0)


def _grown(quad: np.ndarray, factor: float) -> np.ndarray:
    centre = quad.mean(axis=0)
    return (quad - centre) * factor + centre


def _runs_into_edge(mask: np.ndarray, quad: np.ndarray, limits: QualityLimits) -> bool:
    """Whether the note at ``quad`` (working-copy pixels) runs out of the picture.

    Either the foreground region holding the outline reaches the picture's edge beyond the outline
    along at least ``cut_off_run`` of the note's shorter side (the note finder outlined only part of
    the note), or a side of the outline lies along an edge of the picture and the strip of picture
    edge beside it is foreground, not background (the note finder closed the outline at the edge).
    """
    h, w = mask.shape
    shorter = min(np.linalg.norm(quad[(i + 1) % 4] - quad[i]) for i in range(4))
    # Only what lies clearly beyond the outline counts: a note scanned with a thin margin, which the
    # masks' smoothing joins to the edge, is not cut off.
    beyond = max(0.06 * shorter, 0.02 * max(h, w) + 2.0)
    fg = mask > 0
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        for axis, at_far in ((0, False), (1, False), (0, True), (1, True)):
            size = (w, h)[axis]
            da, db = (size - 1 - a[axis], size - 1 - b[axis]) if at_far else (a[axis], b[axis])
            if max(da, db) > beyond:
                continue
            lo, hi = sorted((int(a[1 - axis]), int(b[1 - axis])))
            lo, hi = max(lo, 0), min(hi, (h, w)[axis] - 1)
            if hi - lo < 0.5 * shorter:
                continue
            strip = (fg[lo : hi + 1, -2:] if at_far else fg[lo : hi + 1, :2]) if axis == 0 else \
                (fg[-2:, lo : hi + 1] if at_far else fg[:2, lo : hi + 1])
            if float(strip.mean()) >= 0.6:
                return True
    if _border_background(fg) < limits.min_border_background:
        return False  # a cluttered picture: its foreground is not the note
    inside = np.zeros(mask.shape, np.uint8)
    cv2.fillConvexPoly(inside, quad.round().astype(np.int32), 255)
    _, labels = cv2.connectedComponents((fg | (inside > 0)).astype(np.uint8), connectivity=8)
    ids = labels[inside > 0]
    ids = ids[ids > 0]
    if ids.size == 0:
        return False
    region = (labels == int(np.bincount(ids).argmax())).astype(np.uint8)
    cv2.fillConvexPoly(region, _grown(quad, 1.0 + 2.0 * beyond / max(shorter, 1.0)).round().astype(np.int32), 0)
    region = region > 0
    touching = max(int(region[:2].any(axis=0).sum()), int(region[-2:].any(axis=0).sum()),
                   int(region[:, :2].any(axis=1).sum()), int(region[:, -2:].any(axis=1).sum()))
    return touching >= limits.cut_off_run * shorter


def _cut_off_without_outline(mask: np.ndarray, limits: QualityLimits) -> bool:
    """For a picture in which no outline was found: whether its largest foreground region (a note
    whose outline runs out of the picture) covers a good part of it, lies on a background that shows
    along most of the picture's border, and runs into the edge along a quarter of its width."""
    h, w = mask.shape
    fg = mask > 0
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg.astype(np.uint8))
    if n <= 1:
        return False
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    share = stats[k, cv2.CC_STAT_AREA] / float(h * w)
    background = _border_background(fg)
    region = labels == k
    touching = max(int(region[:2].any(axis=0).sum()), int(region[-2:].any(axis=0).sum()),
                   int(region[:, :2].any(axis=1).sum()), int(region[:, -2:].any(axis=1).sum()))
    shorter = min(stats[k, cv2.CC_STAT_WIDTH], stats[k, cv2.CC_STAT_HEIGHT])
    return (0.1 <= share < limits.max_crop_share and background >= limits.min_border_background
            and touching >= limits.cut_off_run * shorter)


def _border_background(fg: np.ndarray) -> float:
    """Share of the picture's border (a band 1/40 of its shorter side wide) that is background."""
    h, w = fg.shape
    b = max(2, min(h, w) // 40)
    border = np.zeros((h, w), bool)
    border[:b], border[-b:], border[:, :b], border[:, -b:] = True, True, True, True
    return 1.0 - float(fg[border].mean())


def _second_note(small: np.ndarray, mask: np.ndarray, background: np.ndarray, quad: np.ndarray,
                 limits: QualityLimits) -> bool:
    """Whether another note of a similar size lies beside the one at ``quad`` (working-copy pixels).

    Cheap test first: something as large as half the note stands out from the background outside it.
    Only then is the note painted over with the background colour and the note finder run again.
    """
    from banknote_guard.data.rectify import rectify_note

    area = abs(float(cv2.contourArea(quad.astype(np.float32))))
    grown = _grown(quad, 1.1).round().astype(np.int32)
    outside = mask.copy()
    cv2.fillConvexPoly(outside, grown, 0)
    n, _, stats, _ = cv2.connectedComponentsWithStats((outside > 0).astype(np.uint8))
    lo, hi = limits.other_note_area
    if n <= 1 or stats[1:, cv2.CC_STAT_AREA].max() < 0.8 * lo * area:
        return False
    painted = small.copy()
    cv2.fillConvexPoly(painted, grown, tuple(int(v) for v in background))
    other = rectify_note(painted, out_width=64)
    if not other.found or other.corners is None:
        return False
    quad2, score = other.corners, other.confidence
    area2 = abs(float(cv2.contourArea(quad2.astype(np.float32))))
    if not (score >= limits.other_note_score and lo <= area2 / max(area, 1.0) <= hi):
        return False
    # A second note lies apart from the first; an outline that touches it is a part of the same note
    # (a panel beyond its security thread) that the note finder took for a whole note.
    overlap, _ = cv2.intersectConvexConvex(_grown(quad, 1.15).astype(np.float32), quad2.astype(np.float32))
    return overlap < 0.05 * area2


def find_notes(rgb: np.ndarray, *, max_notes: int = MAX_NOTES,
               limits: QualityLimits = DEFAULT_LIMITS) -> list[np.ndarray]:
    """The outlines of every note in a picture (several notes on a scanner's glass), largest first.

    The note finder is run, the note it found painted over with the background colour, and run
    again, until it finds nothing more or finds an outline much smaller or larger than the first
    note, or less sure than ``limits.other_note_score``. Returns (4, 2) float32 corners in the
    picture's pixels, each ordered like :func:`~banknote_guard.data.rectify.rectify_note`'s.
    """
    from banknote_guard.data.rectify import rectify_note

    work = np.ascontiguousarray(rgb[:, :, :3]).copy()
    small, _ = _working_copy(work)
    _, background = _foreground(small)
    colour = tuple(int(v) for v in background)
    found: list[np.ndarray] = []
    first_area = 0.0
    lo, hi = limits.other_note_area
    for _ in range(max_notes):
        note = rectify_note(work, out_width=64)
        if not note.found or note.corners is None:
            break
        area = abs(float(cv2.contourArea(note.corners.astype(np.float32))))
        if found and not (note.confidence >= limits.other_note_score and lo <= area / max(first_area, 1.0) <= hi):
            break
        if not found:
            first_area = area
        found.append(note.corners.astype(np.float32))
        cv2.fillConvexPoly(work, _grown(note.corners, 1.06).round().astype(np.int32), colour)
    found.sort(key=lambda q: -abs(float(cv2.contourArea(q))))
    return found


def crop_note(rgb: np.ndarray, corners: np.ndarray, others: Sequence[np.ndarray] = (),
              margin: float = 0.12) -> np.ndarray:
    """The part of a picture around one note, with a margin of background, the other notes in it
    painted over with the background colour (so each note is verified on its own)."""
    img = np.ascontiguousarray(rgb[:, :, :3]).copy()
    if others:
        small, _ = _working_copy(img)
        _, background = _foreground(small)
        for other in others:
            cv2.fillConvexPoly(img, _grown(np.asarray(other, np.float32), 1.06).round().astype(np.int32),
                               tuple(int(v) for v in background))
    h, w = img.shape[:2]
    c = np.asarray(corners, np.float64)
    pad = margin * note_length(c)
    x0, y0 = (c.min(axis=0) - pad).astype(int)
    x1, y1 = (c.max(axis=0) + pad).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1 + 1), min(h, y1 + 1)
    return np.ascontiguousarray(img[y0:y1, x0:x1])


# --------------------------------------------------------------------------------------------------
# the assessment


def assess(
    prepared: "PreparedNote",
    *,
    min_note_px: float = 0.0,
    expect_outline: bool = False,
    limits: QualityLimits = DEFAULT_LIMITS,
) -> CaptureQuality:
    """Check a prepared picture (:func:`~banknote_guard.model.preprocess.prepare_note`).

    Args:
        prepared: the picture and what the note finder saw in it.
        min_note_px: fewest pixels across the note may have (see :func:`min_note_px`).
        expect_outline: the picture should show a whole note on a background (a camera frame, a
            scanned page): finding no outline means there is no note to judge.
        limits: where each check draws the line.
    """
    source = prepared.source
    found = bool(prepared.found and prepared.corners is not None)
    note_px = note_length(prepared.corners) if found else float(max(source.shape[:2]))
    view = analysis_view(prepared.upright, note_px)
    if note_px >= MIN_BLUR_PX:
        blur, edges = sharpness(view)
    else:
        blur = edges = None
    quality = CaptureQuality(
        note_found=found, note_px=note_px, blur_index=blur, edge_sharpness=edges,
        brightness=brightness(view), glare=glare_share(view),
    )
    if found:
        small, scale = _working_copy(source)
        mask, background = _foreground(small)
        quad = np.asarray(prepared.corners, np.float32) * scale
        # A note filling most of the picture is a crop of it (a tightly cropped scan), which touches
        # the picture's edges by design: only a note with background around it can be cut off.
        share = abs(float(cv2.contourArea(quad))) / float(small.shape[0] * small.shape[1])
        quality.cut_off = share < limits.max_crop_share and _runs_into_edge(mask, quad, limits)
        quality.several_notes = _second_note(small, mask, background, quad, limits)
    else:
        small, _ = _working_copy(source)
        quality.cut_off = _cut_off_without_outline(_foreground(small)[0], limits)
    keys = []
    if expect_outline and not found and not quality.cut_off:
        keys.append(NO_NOTE)
    if quality.several_notes:
        keys.append(SEVERAL_NOTES)
    if quality.cut_off:
        keys.append(CUT_OFF)
    if note_px < min_note_px:
        keys.append(TOO_SMALL)
    if is_blurred(blur, edges, limits):
        keys.append(BLURRED)
    if quality.brightness < limits.min_brightness:
        keys.append(TOO_DARK)
    if quality.glare > limits.max_glare:
        keys.append(GLARE)
    quality.reasons = [_sentence(k, note_px, min_note_px) for k in keys]
    return quality


def _sentence(key: str, note_px: float, min_px: float) -> str:
    if key == TOO_SMALL:
        return (f"{TOO_SMALL}: the note is only {note_px:.0f} pixels across (at least {min_px:.0f} are needed); "
                "bring it closer or scan at a higher resolution, then capture it again")
    return f"{key}: {_ADVICE[key]}"


def min_note_px(config: "ModelConfig", limits: QualityLimits = DEFAULT_LIMITS) -> float:
    """Fewest pixels across a note needs for a model with this configuration (a share of its input width)."""
    return float(limits.min_note_width * config.image_width)


def retake_reasons(prepared: "PreparedNote", config: "ModelConfig", *, expect_outline: bool = False) -> list[str]:
    """The reasons to capture ``prepared`` again for a model with ``config`` (empty: judge it)."""
    return assess(prepared, min_note_px=min_note_px(config), expect_outline=expect_outline).reasons
