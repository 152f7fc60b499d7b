"""Naming a note by its print: keypoint prototypes matched under a perspective transform.

The embedding network names a note by the centroid nearest to its embedding. On real photos of notes
it never saw in training (hand-held, cluttered tables, fingers over the note, a series the shots did not
cover) that is often wrong, and a misnamed note must never be called genuine. This module is a second,
independent reading of the denomination that holds where the embedding does not: the note's own print.

Each prototype is one genuine picture of a denomination (an enrollment shot, or a few training notes per
trained denomination): its SIFT keypoints with RootSIFT descriptors (the square root of the L1-normalised
SIFT vector: Euclidean distance between them is the Hellinger kernel, which matches better than raw SIFT).
A photo to verify is read the same way and matched against all prototypes at once:

1. Each keypoint of the photo looks up its nearest prototype descriptors. It is kept only when its
   nearest one is clearly closer than the nearest one *of any other denomination* (a ratio test across
   denominations): print that many denominations share (a portrait, a guilloche, the bank's name) says
   nothing about which note this is and drops out, while a numeral or a denomination's own motif stays.
2. For the prototypes with most kept matches, a perspective transform (homography) is fitted with RANSAC;
   its inliers are matches that agree on one flat note seen from one viewpoint, which background clutter
   and chance matches do not.
3. Each denomination's evidence is its best prototype's inlier count. The print **names** a denomination
   when it has at least :data:`DECIDE_INLIERS` inliers and :data:`DECIDE_RATIO` times as many as any
   other denomination.

Measured on the real photos of ``../shared/realdata`` (5 shots per denomination, the other photos
verified; see ``benchmarks/README.md``, "Real photos through the product"): the print's best denomination
is right for 85 % of the IRR crops and 81 % of the INR hand-held photos (the embedding's nearest centroid:
58 % and 31 %); synthetic notes 100 %. The decision rule trades named notes for safety: at 12 inliers
it named 70 % of the INR photos with 3 % of all of them misnamed and called genuine, at 20 inliers
(the default) 1 % (3 draws, 432 verifications: 4 misnamed and genuine, against 14 at 12 inliers).

Cost: SIFT on the photo read at :data:`KEYPOINT_SIDE` pixels (about 75 ms of one core on a 2-core
desk machine; 45 ms at 480 pixels, which named fewer notes right) plus matching (15-35 ms); the
verifier runs both in its preparation threads, side by side.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import cv2
import numpy as np

#: Longest side, in pixels, a photo is read at for keypoints.
KEYPOINT_SIDE = 640
#: Keypoints kept from a photo to verify (the strongest by detector response).
QUERY_POINTS = 1000
#: Keypoints kept per prototype (the strongest).
PROTOTYPE_POINTS = 500
#: A match is kept when its distance is below this share of the nearest other denomination's.
RATIO = 0.8
#: Leaves FLANN visits per search (more: closer to the exact neighbours, slower).
CHECKS = 32
#: Neighbours looked up per keypoint (to find the nearest one of another denomination).
NEIGHBOURS = 10
#: Prototypes per photo whose matches get a perspective fit (those with most kept matches).
FIT_PROTOTYPES = 6
#: Fewest kept matches for a prototype to be fitted.
MIN_MATCHES = 6
#: RANSAC reprojection error, in pixels at KEYPOINT_SIDE.
RANSAC_PIXELS = 6.0
#: Inliers the best denomination needs to name the note on the print alone ...
DECIDE_INLIERS = 20
#: ... and how many times the runner-up's inliers it needs.
DECIDE_RATIO = 3.0
#: Inliers (and ratio) with which the print confirms the embedding's own choice.
AGREE_INLIERS = 6
AGREE_RATIO = 1.5
#: Descriptors are stored as uint8: RootSIFT components lie in [0, 1].
_QUANT = 255.0
_FORMAT = 1

_LOCAL = threading.local()


def _sift() -> Any:
    """One SIFT detector per thread (OpenCV detectors keep state and are not shared across threads); it
    goes with its thread, so the verifier's short-lived reader pools leave none behind."""
    det = getattr(_LOCAL, "sift", None)
    if det is None:
        det = _LOCAL.sift = cv2.SIFT_create(nfeatures=QUERY_POINTS)
    return det


@dataclass
class PhotoKeypoints:
    """Keypoints of one picture.

    Attributes:
        points: (N, 2) float32 positions in the picture read at ``scale`` (x, y).
        descriptors: (N, 128) float32 RootSIFT descriptors.
        scale: the factor the picture was resized by (positions / scale = original pixels).
        size: (width, height) of the picture as read.
    """

    points: np.ndarray
    descriptors: np.ndarray
    scale: float = 1.0
    size: tuple[int, int] = (0, 0)

    def __len__(self) -> int:
        return int(len(self.points))


def photo_keypoints(rgb: np.ndarray, limit: int = QUERY_POINTS) -> PhotoKeypoints:
    """The strongest ``limit`` SIFT keypoints of an RGB (or grey) picture read at :data:`KEYPOINT_SIDE`."""
    arr = np.asarray(rgb)
    grey = cv2.cvtColor(arr[:, :, :3], cv2.COLOR_RGB2GRAY) if arr.ndim == 3 else arr
    if grey.dtype != np.uint8:
        grey = np.clip(grey, 0, 255).astype(np.uint8)
    h, w = grey.shape[:2]
    scale = min(1.0, KEYPOINT_SIDE / max(h, w, 1))
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    kps, des = _sift().detectAndCompute(np.ascontiguousarray(grey), None)
    size = (int(grey.shape[1]), int(grey.shape[0]))
    if des is None or not kps:
        return PhotoKeypoints(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32), scale, size)
    order = np.argsort([-k.response for k in kps], kind="stable")[:limit]
    des = des[order].astype(np.float32)
    des = np.sqrt(des / (des.sum(axis=1, keepdims=True) + 1e-7))
    points = np.array([kps[i].pt for i in order], dtype=np.float32).reshape(-1, 2)
    return PhotoKeypoints(points, des.astype(np.float32), scale, size)


@dataclass
class PrintMatch:
    """What the print says about one photo.

    Attributes:
        denomination: the denomination with most inliers (None: nothing matched).
        inliers: its inlier count.
        runner_up: the next denomination (None if none matched).
        runner_up_inliers: its inlier count.
        per_denomination: inliers of every denomination that was fitted.
    """

    denomination: str | None = None
    inliers: int = 0
    runner_up: str | None = None
    runner_up_inliers: int = 0
    per_denomination: dict[str, int] = field(default_factory=dict)

    @property
    def decided(self) -> bool:
        """Whether the print alone names the note (see the module docstring)."""
        return self.denomination is not None and self.inliers >= DECIDE_INLIERS and (
            self.inliers >= DECIDE_RATIO * max(self.runner_up_inliers, 1)
        )

    def confirms(self, denomination: str) -> bool:
        """Whether the print backs ``denomination`` (named by the embedding) with enough inliers."""
        return self.denomination == denomination and self.inliers >= AGREE_INLIERS and (
            self.inliers >= AGREE_RATIO * max(self.runner_up_inliers, 1)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "denomination": self.denomination, "inliers": self.inliers, "runner_up": self.runner_up,
            "runner_up_inliers": self.runner_up_inliers, "decided": self.decided,
        }


class KeypointPrototypes:
    """Genuine pictures' keypoints per denomination, and the matcher over them (see the module docstring)."""

    def __init__(self) -> None:
        self.denominations: list[str] = []  # per prototype
        self.sources: list[str] = []  # per prototype: the picture's name, for the record
        self._points: list[np.ndarray] = []
        self._descriptors: list[np.ndarray] = []  # uint8
        self._index: Any = None
        self._table: tuple[np.ndarray, ...] | None = None
        self._lock = threading.Lock()

    # --- building ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.denominations)

    def covered(self) -> set[str]:
        """Denominations that have at least one prototype."""
        return set(self.denominations)

    def add(self, denomination: str, keypoints: PhotoKeypoints, source: str = "") -> bool:
        """Add one picture of ``denomination`` as a prototype (False when it has too few keypoints)."""
        if len(keypoints) < MIN_MATCHES:
            return False
        n = min(len(keypoints), PROTOTYPE_POINTS)
        self.denominations.append(str(denomination))
        self.sources.append(str(source))
        self._points.append(np.asarray(keypoints.points[:n], dtype=np.float32))
        q = np.clip(np.rint(np.asarray(keypoints.descriptors[:n]) * _QUANT), 0, 255).astype(np.uint8)
        self._descriptors.append(q)
        self._invalidate()
        return True

    def remove(self, denomination: str) -> int:
        """Drop every prototype of ``denomination`` (before it is enrolled afresh); returns how many."""
        keep = [i for i, d in enumerate(self.denominations) if d != denomination]
        dropped = len(self.denominations) - len(keep)
        if dropped:
            self.denominations = [self.denominations[i] for i in keep]
            self.sources = [self.sources[i] for i in keep]
            self._points = [self._points[i] for i in keep]
            self._descriptors = [self._descriptors[i] for i in keep]
            self._invalidate()
        return dropped

    def _invalidate(self) -> None:
        with self._lock:
            self._index = None
            self._table = None

    # --- matching ---------------------------------------------------------------------------------

    def _matcher(self) -> tuple[Any, tuple[np.ndarray, ...]]:
        with self._lock:
            if self._index is None or self._table is None:
                desc = np.concatenate(self._descriptors).astype(np.float32) / _QUANT
                owner = np.concatenate([np.full(len(p), i, np.int32) for i, p in enumerate(self._points)])
                names = sorted(set(self.denominations))
                proto_class = np.array([names.index(d) for d in self.denominations], np.int32)
                points = np.concatenate(self._points)
                self._index = _Index(desc)
                self._table = (owner, proto_class[owner], points, np.array(names, dtype=object))
            return self._index, self._table

    def match(self, photo: PhotoKeypoints) -> PrintMatch:
        """What the print of ``photo`` says (an empty :class:`PrintMatch` when nothing matches)."""
        if not self.denominations or len(photo) < MIN_MATCHES:
            return PrintMatch()
        index, (owner, row_class, points, names) = self._matcher()
        k = min(NEIGHBOURS, len(owner))
        idx, dist = _neighbours(index, photo.descriptors, k)
        valid = idx >= 0
        idx = np.where(valid, idx, 0)
        cls = row_class[idx]
        other = (cls != cls[:, :1]) & valid
        has_other = other.any(axis=1)
        first_other = np.argmax(other, axis=1)
        d_other = np.where(has_other, dist[np.arange(len(dist)), first_other], dist[:, -1])
        keep = valid[:, 0] & (dist[:, 0] < (RATIO**2) * d_other)
        q_rows = np.flatnonzero(keep)
        db_rows = idx[q_rows, 0]
        protos = owner[db_rows]
        counts = np.bincount(protos, minlength=len(self.denominations))
        best: dict[str, int] = {}
        for p in np.argsort(-counts, kind="stable")[:FIT_PROTOTYPES]:
            if counts[p] < MIN_MATCHES:
                break
            sel = protos == p
            inliers = _homography_inliers(photo.points[q_rows[sel]], points[db_rows[sel]])
            name = str(names[row_class[db_rows[sel][0]]])
            best[name] = max(best.get(name, 0), inliers)
        if not best:
            return PrintMatch()
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        top, second = ranked[0], (ranked[1] if len(ranked) > 1 else (None, 0))
        if top[1] <= 0:
            return PrintMatch(per_denomination=best)
        return PrintMatch(top[0], int(top[1]), second[0], int(second[1]), best)

    # --- storage ----------------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Plain arrays and JSON metadata (never pickled) for the model file."""
        if not self.denominations:
            return {}, {"format": _FORMAT, "prototypes": []}
        arrays = {
            "points": np.concatenate(self._points).astype(np.float32),
            "descriptors": np.concatenate(self._descriptors).astype(np.uint8),
            "owner": np.concatenate([np.full(len(p), i, np.int32) for i, p in enumerate(self._points)]),
        }
        meta = {
            "format": _FORMAT, "side": KEYPOINT_SIDE,
            "prototypes": [{"denomination": d, "source": s} for d, s in zip(self.denominations, self.sources)],
        }
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> "KeypointPrototypes":
        """Rebuild from :meth:`to_arrays`; ValueError on anything inconsistent (a damaged file)."""
        if not isinstance(meta, Mapping) or meta.get("format") != _FORMAT:
            raise ValueError("keypoint prototypes: unknown format")
        protos = meta.get("prototypes")
        if not isinstance(protos, list) or not all(
            isinstance(p, Mapping) and isinstance(p.get("denomination"), str) and p["denomination"]
            for p in protos
        ):
            raise ValueError("keypoint prototypes: bad prototype list")
        out = cls()
        if not protos:
            return out
        points = np.asarray(arrays.get("points"))
        desc = np.asarray(arrays.get("descriptors"))
        owner = np.asarray(arrays.get("owner"))
        n = len(protos)
        if (
            points.ndim != 2 or points.shape[1] != 2 or points.dtype != np.float32
            or desc.ndim != 2 or desc.shape[1] != 128 or desc.dtype != np.uint8
            or owner.ndim != 1 or owner.dtype != np.int32
            or not (len(points) == len(desc) == len(owner))
            or not np.isfinite(points).all()
            or (len(owner) and (owner.min() < 0 or owner.max() >= n or np.any(np.diff(owner) < 0)))
        ):
            raise ValueError("keypoint prototypes: arrays do not fit together")
        bounds = np.searchsorted(owner, np.arange(n + 1))
        for i, p in enumerate(protos):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            if hi - lo < MIN_MATCHES:
                raise ValueError("keypoint prototypes: a prototype has too few keypoints")
            out.denominations.append(p["denomination"])
            out.sources.append(str(p.get("source", "")))
            out._points.append(points[lo:hi].copy())
            out._descriptors.append(desc[lo:hi].copy())
        return out


#: Up to this many prototype keypoints the nearest ones are found exactly (a matrix product); beyond,
#: with FLANN's randomised k-d trees (falling back to the exact search should FLANN fail).
EXACT_SEARCH_ROWS = 12000


class _Index:
    """Nearest-neighbour search over the prototypes' descriptors."""

    def __init__(self, desc: np.ndarray) -> None:
        self.desc = np.ascontiguousarray(desc, dtype=np.float32)
        self.norms = (self.desc.astype(np.float64) ** 2).sum(axis=1)
        self.flann = None
        if len(self.desc) > EXACT_SEARCH_ROWS:
            self.flann = cv2.flann_Index(self.desc, {"algorithm": 1, "trees": 4})

    def exact(self, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        d2 = (q.astype(np.float64) ** 2).sum(axis=1)[:, None] + self.norms[None, :] - 2.0 * (q @ self.desc.T)
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < d2.shape[1] else np.tile(np.arange(d2.shape[1]), (len(q), 1))
        pd = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(pd, axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1), np.maximum(np.take_along_axis(pd, order, axis=1), 0.0)


def _neighbours(index: _Index, descriptors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices, squared distances), each (N, k), of every descriptor's ``k`` nearest prototype rows."""
    q = np.ascontiguousarray(descriptors, dtype=np.float32)
    if index.flann is not None:
        try:
            idx, dist = index.flann.knnSearch(q, k, params={"checks": CHECKS})
            return (np.asarray(idx, dtype=np.int64).reshape(len(q), k),
                    np.asarray(dist, dtype=np.float64).reshape(len(q), k))
        except cv2.error:
            pass  # a search FLANN cannot complete: the exact one always can
    return index.exact(q, k)


def _homography_inliers(src: np.ndarray, dst: np.ndarray) -> int:
    """Inliers of a RANSAC perspective fit from ``src`` to ``dst`` (0 when no sane fit exists)."""
    if len(src) < 4:
        return 0
    h, mask = cv2.findHomography(src.reshape(-1, 1, 2), dst.reshape(-1, 1, 2), cv2.RANSAC, RANSAC_PIXELS)
    if h is None or mask is None or not np.isfinite(h).all():
        return 0
    # A fit that mirrors or collapses the note is a chance alignment, not a view of a flat note.
    if np.linalg.det(h[:2, :2]) <= 1e-6:
        return 0
    inl = mask.ravel().astype(bool)
    pts = src[inl]
    if len(pts) < 4:
        return 0
    # Inliers bunched in a tiny spot (one logo) are weak evidence: count them only when they spread.
    span = np.ptp(pts, axis=0)
    if span.min() < 12.0:
        return 0
    return int(inl.sum())


def prototype_pictures(paths: Sequence[Any], per_denomination: int) -> list[Any]:
    """Up to ``per_denomination`` of ``paths`` spread evenly over the (sorted) list."""
    items = list(paths)
    if len(items) <= per_denomination:
        return items
    picks = np.linspace(0, len(items) - 1, per_denomination).round().astype(int)
    return [items[i] for i in sorted(set(picks.tolist()))]


def add_pictures(
    protos: KeypointPrototypes, denomination: str, pictures: Iterable[tuple[str, np.ndarray]]
) -> int:
    """Add each (name, RGB picture) of ``denomination``; returns how many became prototypes."""
    added = 0
    for name, rgb in pictures:
        added += protos.add(denomination, photo_keypoints(rgb, PROTOTYPE_POINTS), name)
    return added


@dataclass
class Naming:
    """Which denomination a note is taken for, and whether that name is clear enough to authenticate.

    Attributes:
        index: the denomination's index in the model's classes.
        clear: None when the print had no say (the embedding's margin decides, as without prototypes);
            True when the print named the note or backed the embedding's name; False when it did not.
        reason: why the name is not clear (a sentence for the operator), or None.
        match: what the print said, or None when it was not read.
    """

    index: int
    clear: bool | None
    reason: str | None = None
    match: PrintMatch | None = None


def name_note(
    classes: Sequence[str],
    nearest: int,
    embedding_clear: bool,
    prototypes: "KeypointPrototypes | None",
    photo: "PhotoKeypoints | PrintMatch | None",
) -> Naming:
    """The denomination a note is taken for, from the embedding's ``nearest`` class and its print
    (``photo``: its keypoints, or what they matched already).

    - The print names a denomination on its own (:attr:`PrintMatch.decided`): that name, clear.
    - Else, when the embedding's denomination has prototypes: clear only when the print backs it
      (:meth:`PrintMatch.confirms`) *and* the embedding's margin is clear.
    - Else (a denomination known only to the embedding, e.g. one trained before prototypes existed):
      the embedding's margin decides, unless the print points to another denomination.
    """
    if prototypes is None or not len(prototypes) or photo is None:
        return Naming(nearest, None)
    m = photo if isinstance(photo, PrintMatch) else prototypes.match(photo)
    name = classes[nearest]
    if m.decided and m.denomination in classes:
        return Naming(list(classes).index(m.denomination), True, None, m)
    if name in prototypes.covered():
        if m.confirms(name):
            return Naming(nearest, bool(embedding_clear), None, m)
        return Naming(nearest, False, _unbacked(name, m), m)
    if m.denomination is not None and m.denomination != name and m.inliers >= AGREE_INLIERS:
        return Naming(nearest, False, _unbacked(name, m), m)
    return Naming(nearest, None, None, m)


def _unbacked(name: str, m: PrintMatch) -> str:
    """The operator's sentence for a name the print does not back."""
    if m.denomination is None:
        return (f"Its denomination is not clear: its print matches no genuine picture of any known note "
                f"(the network's nearest is {name}).")
    runner = f", {m.runner_up} {m.runner_up_inliers}" if m.runner_up else ""
    return (f"Its denomination is not clear: the network's nearest is {name}, its print matches "
            f"{m.denomination} ({m.inliers} matching points{runner}).")


#: Most prototypes kept per enrolled denomination (spread evenly over its shots) ...
PROTOTYPES_PER_DENOMINATION = 12
#: ... and per trained denomination (training pictures are many and alike; about 0.5 MB each 8).
TRAINED_PROTOTYPES = 8


def enroll_print(model: Any, denomination: str, paths: Sequence[Any], *, cancel: Any = None) -> int:
    """Make ``paths`` (genuine pictures of ``denomination``) its print prototypes in ``model``, replacing
    any it had; a model without prototypes gets them. Returns how many were added (pictures that cannot
    be read or have too little print are left out: the embedding still names them)."""
    from banknote_guard.data.imageio import load_image
    from banknote_guard.errors import BanknoteGuardError
    from banknote_guard.progress import check_cancel

    if model.keypoints is None:
        model.keypoints = KeypointPrototypes()
    model.keypoints.remove(denomination)
    added = 0
    for path in prototype_pictures(list(paths), PROTOTYPES_PER_DENOMINATION):
        check_cancel(cancel)
        try:
            rgb = load_image(path)
        except BanknoteGuardError:
            continue
        added += model.keypoints.add(denomination, photo_keypoints(rgb, PROTOTYPE_POINTS), Path(str(path)).name)
    return added


def build_print(model: Any, records: Sequence[Any], *, cancel: Any = None) -> int:
    """Give each denomination of ``records`` (genuine :class:`~banknote_guard.data.records.ImageRecord`
    objects) print prototypes from up to :data:`TRAINED_PROTOTYPES` of its pictures, both
    sides where the records say which; returns how many prototypes were added."""
    groups: dict[str, list[Any]] = {}
    for r in records:
        groups.setdefault(r.denom_id, []).append(r)
    added = 0
    for denom in sorted(groups):
        recs = sorted(groups[denom], key=lambda r: (str(r.side or ""), str(r.path)))
        sides = sorted({str(r.side or "") for r in recs})
        per_side = max(1, TRAINED_PROTOTYPES // len(sides))
        paths = [r.path for side in sides for r in prototype_pictures([r for r in recs if str(r.side or "") == side], per_side)]
        added += enroll_print(model, denom, paths, cancel=cancel)
    return added
