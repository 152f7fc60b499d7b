"""The detector: finds the note's outline in the working copy.

It walks the foreground masks cheapest first (:func:`_mask_sources`), scores the candidate outlines
of each mask's largest contours (:class:`_CandidateSearch`) until one scores
:data:`EARLY_EXIT_SCORE`, then settles on the best one (:func:`_settle`): moves its sides when unsure,
prefers an outline holding it whole, and puts its sides on the paper's edge. On a plain background a
clean quadrilateral region is taken directly (:func:`~.candidates.plain_outline`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

import cv2
import numpy as np

from banknote_guard.data.rectify.candidates import hull_quad, plain_outline, quads_from_lines, ransac_lines
from banknote_guard.data.rectify.geometry import order_corners
from banknote_guard.data.rectify.masks import (
    background_distance,
    background_mask,
    border_colour,
    colour_space,
    edge_masks,
    saturation_masks,
    uniform_background_mask,
)
from banknote_guard.data.rectify.paper_edge import extend_sides, snap_sides
from banknote_guard.data.rectify.refine import refine_full_res
from banknote_guard.data.rectify.scoring import score_quad, support
from banknote_guard.data.rectify.side_search import search_sides

#: Outer contours looked at per mask, largest first.
MAX_CONTOURS: int = 4

#: A candidate scoring this high ends the search early.
EARLY_EXIT_SCORE: float = 0.85

#: A candidate holding the best one whole (2-8 times its area) wins when it scores this fraction of
#: the best one's score.
STRIP_HOLDER_SCORE: float = 0.7

#: Candidates scoring below this are not taken for a note.
MIN_SCORE: float = 0.45

#: A scored candidate: its outline, score and area.
Found = tuple[np.ndarray, float, float]


def detect(small: np.ndarray, min_area_fraction: float) -> tuple[np.ndarray, float] | None:
    """The note's outline in the working copy ``small`` and its score; None when no outline is
    plausible."""
    sh, sw = small.shape[:2]
    image_area = float(sh * sw)
    rng = np.random.default_rng(0)
    tol = max(1.5, min(sh, sw) / 200)
    colour = colour_space(small)
    lab = cv2.GaussianBlur(colour, (3, 3), 0)
    bg_colour = border_colour(colour)
    dist = background_distance(colour, bg_colour)

    plain = uniform_background_mask(dist)
    if plain is not None:
        direct = plain_outline(plain, image_area, min_area_fraction, tol)
        if direct is not None:
            # the mask's outline lies a little outside the paper (smoothing, closing): put it on the edge
            return order_corners(refine_full_res(small, direct[0], 2.5)), direct[1]
    bg_mask = background_mask(dist)
    edges, filled_edges = edge_masks(colour)
    search = _CandidateSearch(image_area, min_area_fraction, tol, rng, edges, lab)
    search.run(_mask_sources(colour, plain, bg_mask, edges, filled_edges))
    either = filled_edges | bg_mask
    if not search.found:
        return None
    return _settle(search.found, lab, edges, either, bg_colour, image_area)


def _mask_sources(
    colour: np.ndarray, plain: np.ndarray | None, bg_mask: np.ndarray, edges: np.ndarray, filled_edges: np.ndarray
) -> Iterator[tuple[np.ndarray, int, np.ndarray]]:
    """(image to take contours of, retrieval mode, mask for the inside test), cheapest first; the
    later masks are only built when the search gets that far."""
    if plain is not None:
        yield plain, cv2.RETR_EXTERNAL, plain
    yield bg_mask, cv2.RETR_EXTERNAL, bg_mask
    yield filled_edges, cv2.RETR_EXTERNAL, filled_edges
    yield edges, cv2.RETR_LIST, filled_edges
    for m in saturation_masks(colour):
        yield m, cv2.RETR_EXTERNAL, m
    c_edges, c_filled = edge_masks(colour, chroma=True)
    yield c_filled, cv2.RETR_EXTERNAL, c_filled
    yield c_edges, cv2.RETR_LIST, c_filled


@dataclass(eq=False)
class _CandidateSearch:
    """The search over the masks' contours: every distinct candidate outline scored once, the
    plausible ones kept in :attr:`found`, the best score so far in :attr:`best`."""

    image_area: float
    min_area_fraction: float
    tol: float
    rng: np.random.Generator
    edges: np.ndarray
    lab: np.ndarray
    best: float = 0.0
    found: list[Found] = field(default_factory=list)
    seen: set[tuple[int, ...]] = field(default_factory=set)

    def run(self, sources: Iterator[tuple[np.ndarray, int, np.ndarray]]) -> None:
        """Look at the largest contours of each source in turn, until a candidate scores
        :data:`EARLY_EXIT_SCORE`."""
        for mask, mode, support_mask in sources:
            if self.best >= EARLY_EXIT_SCORE:
                break
            for cnt in self._largest_contours(mask, mode):
                self._try_contour(cnt, support_mask)

    def _largest_contours(self, mask: np.ndarray, mode: int) -> list[np.ndarray]:
        """Up to :data:`MAX_CONTOURS` contours of ``mask`` of a plausible size, largest first."""
        contours, _ = cv2.findContours(mask, mode, cv2.CHAIN_APPROX_NONE)
        sized = [(float(cv2.contourArea(c)), c) for c in contours if len(c) >= 20]
        sized = [(a, c) for a, c in sized if self.min_area_fraction * self.image_area <= a <= 0.97 * self.image_area]
        sized.sort(key=lambda ac: -ac[0])
        return [c for _, c in sized[:MAX_CONTOURS]]

    def _try_contour(self, cnt: np.ndarray, support_mask: np.ndarray) -> None:
        """Score the contour's hull quadrilateral and, while still unsure, the quadrilaterals of its
        dominant straight lines."""
        pts = cnt.reshape(-1, 2).astype(np.float32)
        self._consider(hull_quad(cnt, pts), support_mask)
        if self.best < EARLY_EXIT_SCORE:
            sub = pts[:: max(1, len(pts) // 400)]
            for quad in quads_from_lines(ransac_lines(sub, self.tol, self.rng)):
                self._consider(quad, support_mask)

    def _consider(self, quad: np.ndarray, support_mask: np.ndarray) -> None:
        """Score an ordered candidate not seen before (its support only when its shape could still
        compete) and keep it when plausible."""
        key = tuple(int(v) for v in (quad / 3.0).round().ravel())
        if key in self.seen:
            return
        self.seen.add(key)
        shape = score_quad(quad, self.image_area)
        if shape < max(0.5 * MIN_SCORE, 0.8 * self.best):  # the support is at most 1
            return
        score = shape * support(quad, self.edges, support_mask, self.lab)
        self.best = max(self.best, score)
        if score >= 0.5 * MIN_SCORE:
            self.found.append((quad, score, abs(float(cv2.contourArea(quad)))))


def _settle(
    found: list[Found], lab: np.ndarray, edges: np.ndarray, either: np.ndarray, bg_colour: np.ndarray,
    image_area: float,
) -> tuple[np.ndarray, float] | None:
    """The final outline and score from the scored candidates; None when the best scores below
    :data:`MIN_SCORE` even after moving its sides."""
    quad, score, area = max(found, key=lambda f: f[1])
    if score < EARLY_EXIT_SCORE:
        quad, score, area = _move_sides(quad, score, area, lab, edges, either, image_area)
    if score < MIN_SCORE:
        return None
    quad, score = _whole_note(found, quad, score, area, 0.02 * max(lab.shape[:2]))
    return _on_paper_edge(quad, score, lab, edges, either, bg_colour, image_area)


def _move_sides(
    quad: np.ndarray, score: float, area: float, lab: np.ndarray, edges: np.ndarray, either: np.ndarray,
    image_area: float,
) -> tuple[np.ndarray, float, float]:
    """Unsure: clutter touching the note may have pulled a side out (or a shadow in). The outline
    with its sides moved, when that raises the score clearly; the outline itself otherwise."""
    moved, moved_score = search_sides(quad, lab, edges, either, image_area)
    if moved_score > max(score, 0.5 * MIN_SCORE) + 0.05:
        return moved, moved_score, abs(float(cv2.contourArea(moved)))
    return quad, score, area


def _whole_note(
    found: list[Found], quad: np.ndarray, score: float, area: float, tol_px: float
) -> tuple[np.ndarray, float]:
    """A plausible candidate holding ``quad`` whole, when there is one, else ``quad``.

    A printed frame inside the note makes a second, smaller rectangle: the outer one (up to 1.5
    times the area, around the centre) is preferred. Else a panel of the note (the watermark zone
    beyond the security thread) can look like a note on its own: an outline 2-8 times the area that
    holds every corner (within ``tol_px``) is preferred.
    """
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
        return quad, score
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
    return quad, score


def _on_paper_edge(
    quad: np.ndarray, score: float, lab: np.ndarray, edges: np.ndarray, either: np.ndarray, bg_colour: np.ndarray,
    image_area: float,
) -> tuple[np.ndarray, float]:
    """The outline with its sides snapped onto the paper's edge and, where a side stops at a line
    printed inside the note, pushed out to it; each move kept only when it scores well enough."""
    snapped = order_corners(snap_sides(quad, edges, lab))
    snapped_score = score_quad(snapped, image_area) * support(snapped, edges, either, lab)
    if snapped_score >= 0.8 * score:
        quad = snapped
    wider = extend_sides(quad, lab, bg_colour)
    if wider is not quad:
        wider = order_corners(snap_sides(wider, edges, lab))
        wider_score = score_quad(wider, image_area) * support(wider, edges, either, lab)
        if wider_score >= 0.6 * score and wider_score >= MIN_SCORE:
            quad, score = wider, max(score, wider_score)
    return quad, score

