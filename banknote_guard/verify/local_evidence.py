"""Local evidence: each region of the straightened note against the genuine notes of its denomination.

One distance between whole-note embeddings dilutes a small altered region (a missing thread, a flat
foil patch, a changed numeral) into the rest of the note. This module looks at the straightened note
(the very image the network embeds) region by region, with plain image statistics (numpy and OpenCV,
no network), and compares each region with the same region of the denomination's genuine notes.

**Features.** The note is first read against its own paper white: the white is estimated from its
brightest low-saturation pixels (:func:`paper_white`) and every pixel is divided by it, so the tint
of a camera's white balance or a scanner's lamp cancels while an ink that is off stays off. The note
is then cut into a grid of cells (:data:`GRID` = 4 rows x 8 columns; 32 x 32 pixels at the default
128 x 256 input) and each cell gets :data:`FEATURES`: the two CIELAB colour axes and chroma (the ink's
colour against the paper), colour variation (the spread of a and b inside the cell: iridescent foil,
multicolour print), local contrast (the standard deviation of lightness), gradient energy (edges: fine
lines, print relief, the thread's edges), fine texture (lightness minus its 1-pixel blur: halftone
dots, toner, softened lines) and a middle band (1- minus 2.5-pixel blur: line screens). Mean
lightness itself is left out: on the hard synthetic set it follows uneven light and wear more than
any counterfeit (alone it separated counterfeits from genuine notes at AUC 0.58, the mean of all
features 0.70, without it 0.72). A finer grid (8 x 16, 6 x 12) measured no better.

**Memory.** Per denomination, one or two *modes* (the note's two sides; a split is kept only when it
removes more than half the scatter, as for the gallery's prototypes) with, per cell and feature, a
robust centre (median) and a robust spread (1.4826 x MAD). A spread from n genuine notes is shrunk
towards the typical spread of that feature over all trained denominations and cells (the *prior*,
weight :data:`PRIOR_WEIGHT` notes) and floored at :data:`FLOOR_FRACTION` of it::

    spread^2 = (n * own^2 + n0 * prior^2) / (n + n0),  spread >= FLOOR_FRACTION * prior
    spread  *= sqrt(1 + 1 / n)          # the centre itself is estimated from n notes

So five enrollment shots give a spread half their own and half the prior (no absurd z-scores from
five similar pictures), and with more shots the denomination's own variation takes over; the
``sqrt(1 + 1/n)`` factor shrinks with n too (1.10 at n = 5, 1.02 at n = 30).

**Score.** Each cell's deviation is the root mean square of its features' robust z-scores (each
clipped at :data:`Z_CLIP` so one saturated feature cannot dominate); the note's **local score** is the
mean of its :data:`TOP_CELLS` most deviant cells (a robust top-region statistic: one noisy cell does
not make a note suspect, one altered region does) plus :data:`SHIFT_WEIGHT` x the largest whole-note
mean shift of a feature (an ink that is off over the whole note). A note may have come in rotated by
180 degrees: both orientations and every mode are scored and the best fit is kept.

**Fusion** (:func:`fuse`): the global score ``g`` (embedding distance / spread, plus the counterfeit
head's share when the model has one) and the local score ``l`` are combined into the one
``counterfeit_score = (g^p + (scale * l)^p)^(1/p)`` with
:data:`FUSION_POWER` p, where ``scale`` (stored with the memory) puts ``l`` on the scale of ``g``:
the ratio of their medians on the held-out genuine notes. Thresholds are then calibrated on the fused
scores of held-out genuine notes (:func:`calibrate_fused`) exactly as before, and the k-shot
thresholds of enrolled denominations by simulating enrollment (embedding prototypes and local memory
from k notes) on them. A model without a local memory scores exactly as before.

**Why suspect.** :class:`LocalEvidence` keeps each cell's deviation (the heat map, in the orientation
of the note as straightened) and :meth:`LocalEvidence.top_regions` the most deviant cells with their
boxes; where the layout of a denomination is known (the synthetic designs) the memory stores named
regions per mode ("security thread", "foil patch", "numeral", ...) and a region takes the name of the
one it overlaps most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import cv2
import numpy as np

from banknote_guard.errors import ModelFileError, parameter_error
from banknote_guard.verify.counterfeit_head import global_scores, head_bonus

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.verify.gallery import Gallery

#: Rows and columns of cells.
GRID = (4, 8)
#: Per-cell features (see the module docstring).
FEATURES = ("green_red", "blue_yellow", "chroma", "colour_variation", "contrast", "gradient", "fine_texture", "line_texture")
#: Weight, in notes, of the prior spread (typical spread of a feature over trained denominations).
PRIOR_WEIGHT = 5.0
#: Fewest genuine notes of a denomination for its spreads to count in the prior.
MIN_PRIOR_NOTES = 3
#: Spreads never fall below this fraction of the prior spread.
FLOOR_FRACTION = 0.5
#: Each z-score is clipped at this many spreads before it enters a cell's deviation.
Z_CLIP = 12.0
#: Cells averaged into the local score.
TOP_CELLS = 3
#: Weight of the largest whole-note mean shift of a feature in the local score.
SHIFT_WEIGHT = 1.0
#: A note is taken as turned by 180 degrees in the memory only when that fits this much better.
FLIP_MARGIN = 0.6
#: Modes (note sides) kept per denomination at most.
MAX_MODES = 2
#: A 2-mode split is kept when it leaves less than this share of the 1-mode scatter.
SPLIT_RATIO = 0.5
#: Exponent of the fusion of global and local evidence.
FUSION_POWER = 2.0
#: Weight of the local score against the global one, after both are put on one scale (see :func:`fuse`).
FUSION_WEIGHT = 0.5
#: Regions reported per note at most.
MAX_REGIONS = 3
#: Share of a cell a layout region must cover (along each axis, against the shorter) to name it.
NAME_OVERLAP = 0.3
#: Version of the stored memory layout.
MEMORY_VERSION = 1
#: Verdicts whose result card and report show the heat map over the note (why suspect).
HEATMAP_VERDICTS = ("suspect", "uncertain")
#: Drawing the heat map: a cell's deviation (robust z-scores) at which its red tint starts, and the
#: deviation span over which the tint grows to full strength (the GUI and the reports draw alike).
HEAT_START, HEAT_SPAN = 1.5, 5.0


def heat_alpha(deviation: float | None) -> float:
    """How strongly a cell of the heat map is tinted, in [0, 1] (0 for a missing or NaN deviation)."""
    if deviation is None:
        return 0.0
    v = float(deviation)
    if not math.isfinite(v):
        return 0.0
    return min(max((v - HEAT_START) / HEAT_SPAN, 0.0), 1.0)


# --- features ------------------------------------------------------------------------------------


def paper_white(rgb: np.ndarray) -> np.ndarray:
    """The note's paper white as an RGB triple in (0, 1]: the median colour of its brightest
    low-saturation pixels (falling back to its brightest pixels when it has hardly any grey)."""
    img = np.asarray(rgb, dtype=np.float32)
    if img.ndim == 3 and img.shape[0] * img.shape[1] > 8192:  # every other pixel is plenty for the white
        img = img[::2, ::2]
    img = img.reshape(-1, 3)
    if img.size == 0:
        return np.ones(3, np.float32)
    if img.max() > 1.5:
        img = img / 255.0
    mx, mn = img.max(axis=1), img.min(axis=1)
    sat = (mx - mn) / np.maximum(mx, 1e-3)
    bright = img.mean(axis=1)
    grey = sat < 0.18
    pool = bright[grey] if grey.sum() >= max(16, img.shape[0] // 50) else bright
    cut = np.quantile(pool, 0.9)
    sel = (bright >= cut) & (grey if pool is not bright else True)
    white = np.median(img[sel], axis=0) if sel.any() else np.ones(3, np.float32)
    return np.clip(white, 0.15, 1.0).astype(np.float32)


def feature_maps(rgb: np.ndarray) -> np.ndarray:
    """Per-cell features of one straightened note: (rows, cols, features) float32 (see module docstring)."""
    img = np.asarray(rgb)
    if img.ndim != 3 or img.shape[2] < 3 or img.shape[0] < GRID[0] or img.shape[1] < GRID[1]:
        raise ValueError(f"expected an (H, W, 3) note image of at least {GRID[0]} x {GRID[1]} pixels, got {img.shape}")
    f = img[..., :3].astype(np.float32) / (255.0 if img.dtype == np.uint8 or img.max() > 1.5 else 1.0)
    white = paper_white(f)
    f = np.clip(f / white, 0.0, 1.0)
    lab = cv2.cvtColor(f, cv2.COLOR_RGB2LAB)
    L, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.sqrt(a * a + b * b)
    gx = cv2.Sobel(L, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(L, cv2.CV_32F, 0, 1, ksize=3)
    grad = np.sqrt(gx * gx + gy * gy) / 8.0
    blur1 = cv2.GaussianBlur(L, (0, 0), 1.0)
    blur2 = cv2.GaussianBlur(L, (0, 0), 2.5)
    fine = np.abs(L - blur1)
    mid = np.abs(blur1 - blur2)
    maps = np.stack([L, a, b, chroma, grad, fine, mid, L * L, a * a, b * b], axis=-1)
    m = _cell_means(maps)
    mean_l, mean_a, mean_b = m[..., 0], m[..., 1], m[..., 2]
    contrast = np.sqrt(np.maximum(m[..., 7] - mean_l * mean_l, 0.0))
    colour_var = np.sqrt(np.maximum(m[..., 8] - mean_a * mean_a + m[..., 9] - mean_b * mean_b, 0.0))
    out = np.stack([mean_a, mean_b, m[..., 3], colour_var, contrast, m[..., 4], m[..., 5], m[..., 6]], axis=-1)
    return out.astype(np.float32)


def _cell_means(maps: np.ndarray) -> np.ndarray:
    """Mean of each (H, W, K) map over the cells of :data:`GRID`: (rows, cols, K)."""
    rows, cols = GRID
    return cv2.resize(np.ascontiguousarray(maps, np.float32), (cols, rows), interpolation=cv2.INTER_AREA).reshape(
        rows, cols, maps.shape[-1]
    )


def batch_features(images: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
    """:func:`feature_maps` of each image (None where an image is missing or unusable)."""
    out: list[np.ndarray | None] = []
    for im in images:
        if im is None:
            out.append(None)
            continue
        try:
            out.append(feature_maps(im))
        except (ValueError, cv2.error):
            out.append(None)
    return out


def _rot180(x: np.ndarray) -> np.ndarray:
    """A cell grid (…, rows, cols, F) as seen with the note turned by 180 degrees."""
    return x[..., ::-1, ::-1, :]


# --- the memory ----------------------------------------------------------------------------------


@dataclass
class Region:
    """One region of a straightened note that stands out (a cell of the grid).

    Attributes:
        score: the cell's deviation (root mean square robust z-score of its features).
        box: (x0, y0, x1, y1) in pixels of the straightened note as scored.
        box_fraction: the same box as fractions of the note's width and height.
        name: what the region holds where the denomination's layout is known ("security thread"), else None.
    """

    score: float
    box: tuple[int, int, int, int]
    box_fraction: tuple[float, float, float, float]
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "score": float(self.score) if math.isfinite(self.score) else None,
            "box": [int(v) for v in self.box],
            "box_fraction": [round(float(v), 4) for v in self.box_fraction],
            "name": self.name,
        }


@dataclass
class LocalEvidence:
    """What the local comparison found for one note.

    Attributes:
        score: the local score (see the module docstring; NaN when it could not be computed).
        heatmap: (rows, cols) deviation of each cell, in the orientation of the straightened note.
        rotated: whether the note matched its genuine notes best turned by 180 degrees.
        mode: index of the denomination's mode (side) it matched.
        regions: the most deviant cells (see :meth:`top_regions`).
    """

    score: float
    heatmap: np.ndarray
    rotated: bool = False
    mode: int = -1
    regions: list[Region] = field(default_factory=list)


def _robust_centre_spread(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    centre = np.median(x, axis=0)
    mad = np.median(np.abs(x - centre), axis=0) * 1.4826
    return centre.astype(np.float32), mad.astype(np.float32)


class LocalMemory:
    """Genuine cell statistics per denomination and mode (see the module docstring).

    Attributes:
        prior: (F,) typical spread of each feature (median over the trained denominations' cells).
        scale: the factor that puts local scores on the global score's scale (see :func:`fuse`).
        modes: denomination id -> list of (centre (R, C, F), spread (R, C, F), notes).
        layouts: denomination id -> per mode, a list of (name, (x0, y0, x1, y1) as fractions) or an
            empty list where the layout is not known.
    """

    def __init__(self, prior: np.ndarray, scale: float = 1.0) -> None:
        self.prior = np.maximum(np.asarray(prior, dtype=np.float32), 1e-3)
        self.scale = float(scale)
        self.modes: dict[str, list[tuple[np.ndarray, np.ndarray, int]]] = {}
        self.layouts: dict[str, list[list[tuple[str, tuple[float, float, float, float]]]]] = {}

    # --- building --------------------------------------------------------------------------------

    @staticmethod
    def measure_prior(features_by_denom: Mapping[str, np.ndarray]) -> np.ndarray:
        """The prior spread per feature from the genuine notes of several denominations: the median,
        over denominations and cells, of the robust spread (modes split as :meth:`add` would)."""
        spreads = []
        for feats in features_by_denom.values():
            if len(feats) < MIN_PRIOR_NOTES:
                continue
            modes = [m for m in _split_modes(np.asarray(feats, np.float32), None) if len(m) >= MIN_PRIOR_NOTES]
            for members in modes or [np.asarray(feats, np.float32)]:
                spreads.append(_robust_centre_spread(members)[1].reshape(-1, len(FEATURES)))
        if not spreads:
            raise parameter_error("features_by_denom", "LocalMemory.measure_prior",
                                  f"at least one denomination with {MIN_PRIOR_NOTES} or more genuine notes", "none")
        return np.median(np.concatenate(spreads), axis=0).astype(np.float32)

    def add(self, denom: str, features: np.ndarray) -> None:
        """Set (or replace) a denomination's modes from its genuine notes' features (N, R, C, F)."""
        feats = np.asarray(features, dtype=np.float32)
        if feats.ndim != 4 or len(feats) == 0 or feats.shape[1:] != (*GRID, len(FEATURES)):
            raise parameter_error("features", "LocalMemory.add", f"an (N, {GRID[0]}, {GRID[1]}, {len(FEATURES)}) array",
                                  getattr(feats, "shape", None))
        modes = []
        for members in _split_modes(feats, self.prior):
            n = len(members)
            centre, own = _robust_centre_spread(members)
            if n < 2:
                own = np.zeros_like(own)
            spread = np.sqrt((n * own ** 2 + PRIOR_WEIGHT * self.prior ** 2) / (n + PRIOR_WEIGHT))
            spread = np.maximum(spread, FLOOR_FRACTION * self.prior) * math.sqrt(1.0 + 1.0 / n)
            modes.append((centre, spread.astype(np.float32), n))
        self.modes[denom] = modes
        self.layouts[denom] = [[] for _ in modes]

    def remove(self, denom: str) -> None:
        self.modes.pop(denom, None)
        self.layouts.pop(denom, None)

    def knows(self, denom: str) -> bool:
        return denom in self.modes

    # --- scoring ---------------------------------------------------------------------------------

    def evidence(self, features: np.ndarray | None, denom: str, image_shape: tuple[int, int] | None = None) -> LocalEvidence:
        """The local evidence of one note against ``denom`` (NaN score when it cannot be computed)."""
        rows, cols = GRID
        if features is None or denom not in self.modes:
            return LocalEvidence(float("nan"), np.full(GRID, np.nan, np.float32))
        x = np.asarray(features, np.float32)
        best: tuple[float, np.ndarray, bool, int] | None = None
        for m, (centre, spread, _) in enumerate(self.modes[denom]):
            for rotated in (False, True):
                xx = _rot180(x) if rotated else x
                z = np.clip((xx - centre) / spread, -Z_CLIP, Z_CLIP)
                s, dev = _local_score(z)
                if best is None or s < best[0]:
                    best = (s, dev, rotated, m)
        assert best is not None
        s, dev, rotated, m = best
        heat = dev[::-1, ::-1] if rotated else dev  # in the note's own orientation
        ev = LocalEvidence(float(s), np.ascontiguousarray(heat, np.float32), rotated, m)
        ev.regions = self.top_regions(ev, denom, image_shape)
        return ev

    def top_regions(self, ev: LocalEvidence, denom: str, image_shape: tuple[int, int] | None) -> list[Region]:
        """The :data:`MAX_REGIONS` most deviant cells of ``ev`` (highest first), named where the layout is known."""
        rows, cols = GRID
        h, w = image_shape if image_shape is not None else (rows, cols)
        flat = ev.heatmap.ravel()
        if not np.isfinite(flat).any():
            return []
        order = np.argsort(-np.nan_to_num(flat, nan=-1.0))[:MAX_REGIONS]
        layout = self.layouts.get(denom, [])
        named = layout[ev.mode] if 0 <= ev.mode < len(layout) else []
        out = []
        for idx in order:
            r, c = divmod(int(idx), cols)
            frac = (c / cols, r / rows, (c + 1) / cols, (r + 1) / rows)
            box = (round(frac[0] * w), round(frac[1] * h), round(frac[2] * w), round(frac[3] * h))
            out.append(Region(float(flat[idx]), box, frac, _name_for(frac, named, ev.rotated)))
        return out

    # --- storage ---------------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Plain arrays (``centres``, ``spreads``: (M, R, C, F) float32; ``prior``) and a JSON description."""
        denoms, counts, centres, spreads, layouts = [], [], [], [], []
        for denom in sorted(self.modes):
            for i, (c, s, n) in enumerate(self.modes[denom]):
                denoms.append(denom)
                counts.append(int(n))
                centres.append(c)
                spreads.append(s)
                lay = self.layouts.get(denom, [])
                layouts.append([[name, [float(v) for v in box]] for name, box in (lay[i] if i < len(lay) else [])])
        shape = (0, *GRID, len(FEATURES))
        arrays = {
            "centres": np.stack(centres).astype(np.float32) if centres else np.zeros(shape, np.float32),
            "spreads": np.stack(spreads).astype(np.float32) if spreads else np.zeros(shape, np.float32),
            "prior": self.prior.astype(np.float32),
        }
        meta = {
            "version": MEMORY_VERSION, "grid": list(GRID), "features": list(FEATURES), "scale": self.scale,
            "fusion_power": FUSION_POWER, "mode_denominations": denoms, "mode_counts": counts, "layouts": layouts,
        }
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any], name: str = "model") -> "LocalMemory":
        """Rebuild from :meth:`to_arrays`; a memory this version cannot read is refused with a clear error."""
        def damaged(what: str) -> ModelFileError:
            return ModelFileError(f"{name!r} is a damaged banknote_guard model: its local evidence {what}.")

        try:
            version = int(meta["version"])
            grid = tuple(int(v) for v in meta["grid"])
            feats = tuple(str(v) for v in meta["features"])
            denoms = [str(d) for d in meta["mode_denominations"]]
            counts = [int(n) for n in meta["mode_counts"]]
            layouts = meta.get("layouts") or [[] for _ in denoms]
            scale = float(meta["scale"])
            centres, spreads, prior = (np.asarray(arrays[k], np.float32) for k in ("centres", "spreads", "prior"))
        except (KeyError, TypeError, ValueError) as exc:
            raise damaged(f"cannot be read ({exc})") from exc
        if version > MEMORY_VERSION or grid != GRID or feats != FEATURES:
            raise ModelFileError(
                f"{name!r} holds local evidence of another layout (version {version}, grid {grid}); this version "
                "of banknote_guard cannot use it. Upgrade banknote_guard, or rebuild the model's local evidence."
            )
        shape = (len(denoms), *GRID, len(FEATURES))
        if centres.shape != shape or spreads.shape != shape or prior.shape != (len(FEATURES),):
            raise damaged("has arrays of the wrong shape")
        if len(counts) != len(denoms) or len(layouts) != len(denoms):
            raise damaged("does not list its modes consistently")
        if not (np.isfinite(centres).all() and np.isfinite(spreads).all() and (spreads > 0).all() and (prior > 0).all()):
            raise damaged("holds spreads that are not positive numbers")
        if not (math.isfinite(scale) and scale > 0):
            raise damaged("has a scale that is not a positive number")
        mem = cls(prior, scale)
        for i, denom in enumerate(denoms):
            mem.modes.setdefault(denom, []).append((centres[i], spreads[i], counts[i]))
            try:
                lay = [(str(n), tuple(float(v) for v in box)) for n, box in layouts[i]]
            except (TypeError, ValueError) as exc:
                raise damaged("has unreadable region names") from exc
            mem.layouts.setdefault(denom, []).append(lay)  # type: ignore[arg-type]
        return mem


def _local_score(z: np.ndarray) -> tuple[float, np.ndarray]:
    """(local score, per-cell deviation) of clipped z-scores (R, C, F)."""
    dev = np.sqrt(np.mean(z * z, axis=-1))
    top = np.sort(dev.ravel())[-TOP_CELLS:]
    shift = float(np.max(np.abs(z.mean(axis=(0, 1)))))
    return float(top.mean() + SHIFT_WEIGHT * shift), dev


def _name_for(frac: tuple[float, float, float, float], named: Sequence[tuple[str, tuple[float, ...]]],
              rotated: bool) -> str | None:
    """The name of the smallest layout region that lies substantially in the cell ``frac``.

    Along each axis the overlap is measured against the shorter of the cell and the region (a thin
    thread running through a cell is in it), and the product of the two must reach :data:`NAME_OVERLAP`.
    """
    if not named:
        return None
    x0, y0, x1, y1 = frac
    if rotated:  # layout boxes are in the genuine orientation; the cell is in the note's own
        x0, y0, x1, y1 = 1 - x1, 1 - y1, 1 - x0, 1 - y0
    best, best_area = None, math.inf
    for name, (bx0, by0, bx1, by1) in named:
        ox = max(0.0, min(x1, bx1) - max(x0, bx0)) / max(min(x1 - x0, bx1 - bx0), 1e-9)
        oy = max(0.0, min(y1, by1) - max(y0, by0)) / max(min(y1 - y0, by1 - by0), 1e-9)
        area = (bx1 - bx0) * (by1 - by0)
        if ox * oy >= NAME_OVERLAP and area < best_area:
            best, best_area = name, area
    return best


def _split_modes(feats: np.ndarray, prior: np.ndarray | None) -> list[np.ndarray]:
    """Split genuine notes into at most :data:`MAX_MODES` modes (sides), each note aligned to its mode's
    orientation (notes turned by 180 degrees are turned back)."""
    n = len(feats)
    scale = prior if prior is not None else np.maximum(feats.reshape(-1, feats.shape[-1]).std(axis=0), 1e-3)
    x = feats / scale

    def dist(a: np.ndarray, c: np.ndarray) -> np.ndarray:  # (N, 2) squared distances, both orientations
        # a note counts as turned only when turning it fits clearly better (most notes come upright)
        return np.stack([((a - c) ** 2).sum(axis=(1, 2, 3)),
                         ((_rot180(a) - c) ** 2).sum(axis=(1, 2, 3)) / FLIP_MARGIN], axis=1)

    def aligned(a: np.ndarray, flip: np.ndarray) -> np.ndarray:
        out = a.copy()
        out[flip] = _rot180(a[flip])
        return out

    c1 = np.median(x, axis=0)
    for _ in range(3):
        d1 = dist(x, c1)
        flip1 = d1[:, 1] < d1[:, 0]
        c1 = np.median(aligned(x, flip1), axis=0)
    d1 = dist(x, c1)
    flip1 = d1[:, 1] < d1[:, 0]
    sse1 = float(d1.min(axis=1).sum())
    one = [aligned(feats, flip1)]
    if n < 2 or MAX_MODES < 2:
        return one
    # 2 modes: start from the note farthest from the single centre
    far = int(np.argmax(d1.min(axis=1)))
    centres = [c1, x[far]]
    assign = np.zeros(n, int)
    flips = np.zeros(n, bool)
    for _ in range(8):
        ds = np.stack([dist(x, c) for c in centres], axis=1)  # (N, 2 modes, 2 orientations)
        flat = ds.reshape(n, -1).argmin(axis=1)
        assign, flips = flat // 2, flat % 2 == 1
        if len(set(assign.tolist())) < 2:
            return one
        centres = [np.median(aligned(x[assign == k], flips[assign == k]), axis=0) for k in range(2)]
    ds = np.stack([dist(x, c) for c in centres], axis=1)
    sse2 = float(ds.reshape(n, -1).min(axis=1).sum())
    if sse2 >= SPLIT_RATIO * sse1:
        return one
    return [aligned(feats[assign == k], flips[assign == k]) for k in range(2)]


# --- fusion and calibration ---------------------------------------------------------------------


def fuse(global_score: np.ndarray | float, local_score: np.ndarray | float, scale: float) -> np.ndarray:
    """The fused counterfeit score ``(g^p + (scale * l)^p)^(1/p)`` (NaN where either is NaN)."""
    g = np.maximum(np.asarray(global_score, np.float64), 0.0)
    loc = np.maximum(np.asarray(local_score, np.float64) * scale, 0.0)
    p = FUSION_POWER
    return (g ** p + loc ** p) ** (1.0 / p)


def fusion_scale(global_genuine: np.ndarray, local_genuine: np.ndarray) -> float:
    """The stored scale of the local score: :data:`FUSION_WEIGHT` x median(global) / median(local) of
    held-out genuine notes, so that a typical genuine note's two scores weigh in the ratio of the weight."""
    g = np.asarray(global_genuine, np.float64)
    loc = np.asarray(local_genuine, np.float64)
    g, loc = g[np.isfinite(g)], loc[np.isfinite(loc)]
    if not len(g) or not len(loc) or np.median(loc) <= 0 or np.median(g) <= 0:
        return FUSION_WEIGHT
    return float(FUSION_WEIGHT * np.median(g) / np.median(loc))


# --- the model's local evidence: build, calibrate, enroll, score ---------------------------------


def features_of(images: Sequence[np.ndarray]) -> np.ndarray:
    """(N, R, C, F) features of straightened notes; raises ValueError when one cannot be used."""
    feats = batch_features(images)
    if any(f is None for f in feats):
        raise ValueError("a note image could not be measured (it is not an (H, W, 3) image)")
    return np.stack(feats) if feats else np.zeros((0, *GRID, len(FEATURES)), np.float32)  # type: ignore[arg-type]


def note_scores(memory: LocalMemory, features: np.ndarray, denoms: Sequence[str]) -> np.ndarray:
    """Local score of each note against its own denomination (NaN for denominations without memory)."""
    return np.array([memory.evidence(f, d).score for f, d in zip(features, denoms)], dtype=np.float64)


def build_local_evidence(
    bundle: "ModelBundle",
    train_images: Sequence[np.ndarray],
    train_denoms: Sequence[str],
    heldout_images: Sequence[np.ndarray],
    heldout_denoms: Sequence[str],
    heldout_embeddings: np.ndarray,
    *,
    seed: int = 0,
    pooled_only: bool = False,
) -> LocalMemory | None:
    """Give a model (gallery and thresholds fitted) its local evidence, in place, and return it (None,
    and the model unchanged, when no denomination has :data:`MIN_PRIOR_NOTES` genuine training notes or
    fewer than two held-out genuine notes are given).

    ``train_images``: genuine straightened notes of the trained denominations (the memory);
    ``heldout_*``: held-out genuine notes (their embeddings too) that calibrate the fusion scale, the
    thresholds on the fused score at the model's false-alarm rate (:func:`calibrate_fused`) and the
    k-shot thresholds of later enrollments. The unknown threshold, margin and gate stay as they are.
    """
    train_denoms = [str(d) for d in train_denoms]
    feats = features_of(train_images)
    by_denom = {d: feats[np.array([x == d for x in train_denoms])] for d in sorted(set(train_denoms))}
    if not any(len(f) >= MIN_PRIOR_NOTES for f in by_denom.values()) or len(heldout_images) < 2:
        return None  # too few genuine notes to know how a region varies: the model keeps the distance alone
    memory = LocalMemory(LocalMemory.measure_prior(by_denom))
    for denom, f in by_denom.items():
        memory.add(denom, f)
    bundle.local_memory = memory
    calibrate_fused(bundle, features_of(heldout_images), heldout_denoms, heldout_embeddings, seed=seed,
                    pooled_only=pooled_only)
    return memory


def calibrate_fused(
    bundle: "ModelBundle", features: np.ndarray, denoms: Sequence[str], embeddings: np.ndarray, *, seed: int = 0,
    pooled_only: bool = False,
) -> None:
    """Set the fusion scale and recalibrate the thresholds on fused scores of held-out genuine notes.

    ``pooled_only``: every trained denomination gets the pooled threshold (method "pooled"), as when
    each has too few held-out notes for one of its own (a model whose thresholds were pooled keeps
    them pooled when its local evidence is added later).

    Per denomination and pooled, thresholds are estimated exactly as for the global score
    (:func:`~banknote_guard.verify.calibration.estimate_threshold`); k-shot thresholds come from
    simulated enrollments in which both the embedding prototypes and the local memory are built from
    k of a denomination's held-out notes and its other held-out notes are scored (:func:`kshot_fused`).
    """
    from banknote_guard.verify.calibration import MAX_POOLED_KEPT, estimate_threshold

    memory = bundle.local_memory
    if memory is None:
        raise parameter_error("bundle", "calibrate_fused", "a model with local evidence", "none")
    denoms = [str(d) for d in denoms]
    cal, gallery = bundle.calibration, bundle.gallery
    g = global_scores(gallery, bundle.counterfeit_head, embeddings, denoms)
    loc = note_scores(memory, features, denoms)
    memory.scale = fusion_scale(g, loc)
    fused = fuse(g, loc, memory.scale)
    labels = np.array(denoms)
    pooled = np.sort(fused[np.isfinite(fused)])
    for c in gallery.classes_:
        if not memory.knows(c):
            continue
        own = fused[labels == c]
        cal.thresholds[c], cal.methods[c] = estimate_threshold(own[:0] if pooled_only else own,
                                                              cal.false_alarm_rate, pooled=pooled)
        cal.heldout_counts[c] = int(np.isfinite(own).sum())
    if len(pooled) > MAX_POOLED_KEPT:
        pooled = pooled[np.unique(np.linspace(0, len(pooled) - 1, MAX_POOLED_KEPT).round().astype(int))]
    cal.pooled_scores = pooled
    cal.kshot_thresholds, cal.kshot_methods = kshot_fused(bundle, features, denoms, embeddings, seed=seed)


def kshot_fused(
    bundle: "ModelBundle", features: np.ndarray, denoms: Sequence[str], embeddings: np.ndarray, *, seed: int = 0,
    ks: Sequence[int] | None = None,
) -> tuple[dict[int, float], dict[int, str]]:
    """k-shot thresholds on the fused score, simulated on held-out genuine notes (see
    :func:`~banknote_guard.verify.calibration.kshot_thresholds`, which does the same for the global score)."""
    from banknote_guard.verify.calibration import KSHOT_TOTAL_DRAWS, MAX_SIMULATED_K, estimate_threshold
    from banknote_guard.verify.gallery import pairwise_distances

    memory = bundle.local_memory
    assert memory is not None
    gallery, cal = bundle.gallery, bundle.calibration
    ks = list(ks) if ks is not None else list(range(1, MAX_SIMULATED_K + 1))
    labels = np.array([str(d) for d in denoms])
    x = np.asarray(embeddings, np.float32)
    plus = head_bonus(bundle, x)  # the counterfeit head's share, which does not depend on the shots
    groups = [np.where(labels == c)[0] for c in sorted(set(labels.tolist()))]
    draws = max(20, math.ceil(KSHOT_TOTAL_DRAWS / 2 / max(len(groups), 1)))
    pooled_spread = gallery.pooled_spread()
    rng = np.random.default_rng(seed)
    thresholds: dict[int, float] = {}
    methods: dict[int, str] = {}
    for k in ks:
        scores = []
        for idx in groups:
            if len(idx) <= k:
                continue
            for _ in range(draws):
                order = rng.permutation(idx)
                shots, rest = order[:k], order[k:]
                protos, spread = gallery.class_model(x[shots], pooled_spread)
                if not np.isfinite(spread):
                    if not np.isfinite(pooled_spread):
                        continue
                    spread = pooled_spread * gallery.pooled_factor_for(k, len(protos))
                g = pairwise_distances(gallery.distance, x[rest], protos).min(axis=1) / spread + plus[rest]
                sim = LocalMemory(memory.prior, memory.scale)
                sim.add("k", features[shots])
                loc = note_scores(sim, features[rest], ["k"] * len(rest))
                scores.append(fuse(g, loc, memory.scale))
        if not scores:
            continue
        threshold, how = estimate_threshold(np.zeros(0), cal.false_alarm_rate, pooled=np.concatenate(scores))
        thresholds[int(k)] = float(threshold)
        methods[int(k)] = "k-shot-simulated-fused" + ("" if how == "pooled" else "-parametric")
    return thresholds, methods


def enroll_local(
    bundle: "ModelBundle", denom: str, images: Sequence[np.ndarray], embeddings: np.ndarray | None = None,
    *, held_out: np.ndarray | None = None,
) -> bool:
    """Give an enrolled denomination its local memory from its genuine shots (a model with local
    evidence only); returns whether it did.

    Without ``held_out`` every shot builds the memory and the threshold is the k-shot one (the table
    :func:`kshot_fused` made for fused scores, set by enrollment). With ``held_out`` (a boolean mask:
    enough shots for a threshold of the denomination's own) the other shots build the memory and the
    threshold is re-estimated on the fused scores of the held-out shots (``embeddings`` needed).
    """
    from banknote_guard.verify.calibration import estimate_threshold

    memory = bundle.local_memory
    if memory is None:
        return False
    feats = batch_features(images)
    ok = np.array([f is not None for f in feats])
    if not ok.any():
        memory.remove(denom)
        return False
    held = np.zeros(len(feats), bool) if held_out is None else np.asarray(held_out, bool)
    build = ok & ~held
    memory.add(denom, np.stack([f for f, b in zip(feats, build) if b]))
    test = ok & held
    if test.any() and embeddings is not None:
        cal = bundle.calibration
        x = np.stack([f for f, t in zip(feats, test) if t])
        g = global_scores(bundle.gallery, bundle.counterfeit_head, np.asarray(embeddings)[test], [denom] * int(test.sum()))
        fused = fuse(g, note_scores(memory, x, [denom] * len(x)), memory.scale)
        cal.thresholds[denom], cal.methods[denom] = estimate_threshold(fused, cal.false_alarm_rate,
                                                                      pooled=cal.pooled_scores)
    return True


@dataclass
class NoteEvidence:
    """The scores of one note: global (embedding), local, fused (the counterfeit score)."""

    global_score: float
    local: LocalEvidence | None
    fused: float


def note_evidence(bundle: "ModelBundle", image: np.ndarray | None, denom: str, global_score: float) -> NoteEvidence:
    """The fused counterfeit score of one note against its named denomination.

    A model without local evidence scores exactly as before (fused = global). With local evidence, a
    note without its straightened image, or of a denomination without a local memory, cannot be
    checked locally: its local score is NaN and so is its fused score (the verdict rule then fails
    closed: never "genuine").
    """
    memory = getattr(bundle, "local_memory", None)
    g = float(global_score)
    if memory is None:
        return NoteEvidence(g, None, g)
    (f,) = batch_features([image])
    shape = None if image is None else (int(np.asarray(image).shape[0]), int(np.asarray(image).shape[1]))
    ev = memory.evidence(f, str(denom), shape)
    return NoteEvidence(g, ev, float(fuse(g, ev.score, memory.scale)))


def name_layout(memory: LocalMemory, denom: str, layouts: Mapping[str, Sequence[tuple[str, tuple[float, float, float, float]]]],
                sides: Mapping[str, np.ndarray]) -> None:
    """Name the regions of a denomination's modes: each mode takes the layout of the side whose
    features (``sides``: side -> (R, C, F) features of an upright rendering) it matches best."""
    if denom not in memory.modes:
        return
    names = []
    for centre, spread, _ in memory.modes[denom]:
        best, best_d = None, math.inf
        for side, f in sides.items():
            d = float(np.mean(((np.asarray(f) - centre) / spread) ** 2))
            if d < best_d:
                best, best_d = side, d
        names.append([(str(n), tuple(float(v) for v in box)) for n, box in layouts.get(best, [])] if best else [])
    memory.layouts[denom] = names  # type: ignore[assignment]


def where(box_fraction: Sequence[float]) -> str:
    """A region's place on the note in words ("top left", "middle centre", ...)."""
    x0, y0, x1, y1 = (float(v) for v in box_fraction)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return ("top " if cy < 0.34 else "bottom " if cy > 0.66 else "middle ") + (
        "left" if cx < 0.34 else "right" if cx > 0.66 else "centre")


def why_suspect(denom: str, regions: Sequence[Region]) -> str:
    """The sentence a suspect note's reasons get: its regions that differ most, numbered as on the
    heat map, with their deviation (robust z-scores; about 1-2 on a genuine note)."""
    parts = [f"{i} {r.name or where(r.box_fraction)} ({r.score:.1f})" for i, r in enumerate(regions, 1)]
    return (f"Regions that differ most from genuine {denom} notes (deviation; about 1-2 on a genuine note): "
            + ", ".join(parts) + ".")
