"""The gallery: one centroid and one spread per denomination, computed from genuine embeddings.

A note's **counterfeit score** for denomination ``d`` is ``distance(x, centroid_d) / spread_d``
(the centroid being the nearest of ``d``'s prototypes, see below): how many "typical genuine
distances" the note lies from the genuine notes of ``d``. The spread is a
robust scale, the median distance of genuine notes to their centroid, so scores of different
denominations are comparable and one pooled threshold means roughly the same everywhere.

Spreads and sample size. Measured on the notes that built the centroid, distances are too small
by a factor of about ``(k - 1) / k`` (the centroid was pulled towards them), while a new note lies
``(k + 1) / k`` times farther than it would from the true centroid (squared Euclidean distance,
isotropic noise). :meth:`Gallery.fit` therefore multiplies in-sample medians by ``(k + 1) / (k - 1)``
so that the spread estimates the median distance of a *new* genuine note; :meth:`Gallery.set_heldout_spreads`
replaces it by the median distance of held-out genuine notes where there are enough of them. A class
of a single image has no spread of its own: it takes the pooled spread of the other classes times
``(k + 1) / k = 2``. Every spread is floored at :data:`SPREAD_FLOOR` (never zero).

Prototypes. A denomination's genuine notes need not form one round cluster: the front and the back
of a note look nothing alike, and a network that never saw a denomination (k-shot enrollment) has
not learned to map both sides together. Each class therefore keeps up to ``max_prototypes`` (default
2) sub-centroids: the genuine embeddings are split in two by 2-means (deterministic start) and the
split is kept when it removes more than half of the scatter (``SSE_2 < split_ratio * SSE_1``), which
random scatter of a single cluster does not do. The distance of a note to a denomination is its
distance to the nearest of the denomination's prototypes; ``centroids_`` stays the plain mean.
The spread is the median of the members' distances to their own prototype, each corrected by
``(m + 1) / (m - 1)`` for its prototype's size ``m`` (members of single-member prototypes give none;
with none at all, e.g. two images split into two prototypes, the pooled spread times
``1 + prototypes / images`` is used).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from banknote_guard.errors import NotFittedError, parameter_error

#: Smallest allowed spread: a score never divides by zero.
SPREAD_FLOOR = 1e-6
#: Weight, in notes, of the trained denominations' spread when a few enrollment images set a spread.
SPREAD_PRIOR_WEIGHT = 5.0
#: Reference embeddings kept per class (for refitting SVMs at enrollment), chosen deterministically.
MAX_REFERENCE_PER_CLASS = 256

DISTANCES = ("sqeuclidean", "cosine")


#: Neighbours averaged on each side of the not-a-note gate (:meth:`Gallery.note_likeness`).
GATE_NEIGHBOURS = 3
#: Distances to known counterfeits count this much more than to genuine notes in the gate.
COUNTERFEIT_WEIGHT = 1.2


def pairwise_distances(name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances between the rows of ``a`` (N, D) and ``b`` (M, D) as an (N, M) float64 array.

    Args:
        name: "sqeuclidean" (squared Euclidean) or "cosine" (1 - cosine similarity).
        a: first set of embeddings.
        b: second set of embeddings.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if name == "sqeuclidean":
        d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * (a @ b.T)
        return np.maximum(d, 0.0)
    if name == "cosine":
        an = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
        return np.clip(1.0 - an @ bn.T, 0.0, 2.0)
    raise parameter_error("distance", "Gallery", f"one of {DISTANCES}", name)


def _reference_subset(n: int, cap: int) -> np.ndarray:
    """Deterministic, evenly spread indices of at most ``cap`` out of ``n``."""
    if n <= cap:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, cap).round().astype(int))


class Gallery:
    """Per-denomination centroids and spreads (scikit-learn style estimator).

    Args:
        distance: "sqeuclidean" (default) or "cosine"; use the network's training distance.

    Attributes (after :meth:`fit`):
        classes_: denomination ids, in the order of the rows of ``centroids_``.
        centroids_: (C, D) float32 mean genuine embedding per class.
        spreads_: (C,) float64 robust scale of genuine distances per class (see module docstring).
        counts_: (C,) int number of genuine embeddings per class.
        spread_sources_: per class, how its spread was set: "in-sample", "held-out" or "pooled".
        reference_embeddings_: (R, D) float32 subset of the genuine embeddings (refitting SVMs).
        reference_labels_: (R,) int class index of each reference embedding.
        prototypes_: (P, D) float32 sub-centroids of all classes (see module docstring).
        prototype_labels_: (P,) int class index of each prototype.
        non_note_embeddings_: (M, D) float32 embeddings of pictures without a note (desks, documents,
            screens, ...), the "not a note" references of :meth:`note_likeness`; empty when the model
            has none.
        counterfeit_embeddings_: (K, D) float32 embeddings of known counterfeits: notes too, so the gate
            counts them on the note side (metric learning pushes them away from the genuine notes).
    """

    def __init__(self, distance: str = "sqeuclidean", max_prototypes: int = 2, split_ratio: float = 0.5) -> None:
        self.distance = distance
        self.max_prototypes = max_prototypes
        self.split_ratio = split_ratio

    # --- fitting ---------------------------------------------------------------------------------

    def fit(self, embeddings: np.ndarray, denom_ids: Sequence[str]) -> "Gallery":
        """Compute centroids and spreads from genuine embeddings.

        Args:
            embeddings: (N, D) genuine embeddings.
            denom_ids: N denomination ids.

        Returns:
            self
        """
        if self.distance not in DISTANCES:
            raise parameter_error("distance", "Gallery", f"one of {DISTANCES}", self.distance)
        if not isinstance(self.max_prototypes, int) or self.max_prototypes not in (1, 2):
            raise parameter_error("max_prototypes", "Gallery", "1 or 2", self.max_prototypes)
        if not isinstance(self.split_ratio, (int, float)) or not 0.0 < self.split_ratio < 1.0:
            raise parameter_error("split_ratio", "Gallery", "a float in (0, 1)", self.split_ratio)
        x, labels = _check_xy(embeddings, denom_ids, "Gallery.fit")
        self.classes_: list[str] = sorted(set(labels))
        self.centroids_ = np.zeros((len(self.classes_), x.shape[1]), dtype=np.float32)
        self.spreads_ = np.full(len(self.classes_), np.nan, dtype=np.float64)
        self.counts_ = np.zeros(len(self.classes_), dtype=np.int64)
        self.spread_sources_: list[str] = ["in-sample"] * len(self.classes_)
        self.reference_embeddings_ = np.zeros((0, x.shape[1]), dtype=np.float32)
        self.reference_labels_ = np.zeros(0, dtype=np.int64)
        self.non_note_embeddings_ = np.zeros((0, x.shape[1]), dtype=np.float32)
        self.counterfeit_embeddings_ = np.zeros((0, x.shape[1]), dtype=np.float32)
        self._class_prototypes: list[np.ndarray] = [np.zeros((0, x.shape[1]), np.float32)] * len(self.classes_)
        lab = np.asarray(labels)
        for i, c in enumerate(self.classes_):
            self._set_class(i, x[lab == c])
        self._fill_missing_spreads()
        return self

    def _split(self, emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Prototypes (P, D) of one class and each member's prototype index (see module docstring)."""
        x = emb.astype(np.float64)
        one = x.mean(0, keepdims=True)
        assign = np.zeros(len(x), dtype=np.int64)
        if self.max_prototypes < 2 or len(x) < 2:
            return one.astype(np.float32), assign
        sse1 = float(((x - one) ** 2).sum())
        if sse1 <= 0:
            return one.astype(np.float32), assign
        a = x[np.argmax(((x - one) ** 2).sum(1))]
        b = x[np.argmax(((x - a) ** 2).sum(1))]
        centres = np.stack([a, b])
        for _ in range(20):
            d = ((x[:, None, :] - centres[None, :, :]) ** 2).sum(2)
            new_assign = np.argmin(d, axis=1)
            if np.all(new_assign == assign) and _ > 0:
                break
            assign = new_assign
            if np.bincount(assign, minlength=2).min() == 0:
                return one.astype(np.float32), np.zeros(len(x), dtype=np.int64)
            centres = np.stack([x[assign == j].mean(0) for j in range(2)])
        sse2 = float(sum(((x[assign == j] - centres[j]) ** 2).sum() for j in range(2)))
        if sse2 < self.split_ratio * sse1:
            return centres.astype(np.float32), assign
        return one.astype(np.float32), np.zeros(len(x), dtype=np.int64)

    def class_model(self, emb: np.ndarray, pooled_spread: float | None = None) -> tuple[np.ndarray, float]:
        """Prototypes and spread that ``emb`` (k, D) would get as a class (NaN: no spread of its own).

        With ``pooled_spread`` (enrollment), the in-sample spread is shrunk towards the spread expected
        from the trained denominations, ``pooled_spread * (1 + prototypes / k)``: their logarithms are
        averaged with weights ``n`` (members that measured it) and :data:`SPREAD_PRIOR_WEIGHT`. A median
        of a handful of distances can be tiny by chance (two near-identical images), which would make
        every later note of the denomination look suspect; the shrinkage keeps it sane and fades as k grows.
        Changes nothing; :meth:`add_class` uses the same rule. Used to simulate k-shot enrollments.
        """
        emb = np.asarray(emb, dtype=np.float32)
        protos, assign = self._split(emb)
        d = pairwise_distances(self.distance, emb, protos)[np.arange(len(emb)), assign]
        sizes = np.bincount(assign, minlength=len(protos))[assign]
        usable = sizes >= 2
        if not usable.any():
            return protos, float("nan")
        corrected = d[usable] * (sizes[usable] + 1.0) / (sizes[usable] - 1.0)
        own = max(float(np.median(corrected)), SPREAD_FLOOR)
        if pooled_spread is not None and np.isfinite(pooled_spread) and pooled_spread > 0:
            prior = pooled_spread * self.pooled_factor_for(len(emb), len(protos))
            n = float(usable.sum())
            own = float(np.exp((n * np.log(own) + SPREAD_PRIOR_WEIGHT * np.log(prior)) / (n + SPREAD_PRIOR_WEIGHT)))
        return protos, max(own, SPREAD_FLOOR)

    def pooled_factor_for(self, k: int, n_prototypes: int) -> float:
        """``1 + prototypes / images``: the pooled spread's factor for a class without a spread of its own."""
        return 1.0 + max(n_prototypes, 1) / max(k, 1)

    def _set_class(self, index: int, emb: np.ndarray, pooled_spread: float | None = None) -> None:
        centroid = emb.mean(0)
        self.centroids_[index] = centroid
        self.counts_[index] = len(emb)
        protos, spread = self.class_model(emb, pooled_spread)
        self._class_prototypes[index] = protos
        if np.isfinite(spread):
            self.spreads_[index] = spread
            self.spread_sources_[index] = "in-sample"
        else:
            self.spreads_[index] = np.nan  # filled from the pooled spread
            self.spread_sources_[index] = "pooled"
        keep = self.reference_labels_ != index
        sub = emb[_reference_subset(len(emb), MAX_REFERENCE_PER_CLASS)].astype(np.float32)
        self.reference_embeddings_ = np.concatenate([self.reference_embeddings_[keep], sub])
        self.reference_labels_ = np.concatenate(
            [self.reference_labels_[keep], np.full(len(sub), index, dtype=np.int64)]
        )

    def pooled_spread(self, exclude: Sequence[int] = ()) -> float:
        """Median spread of the classes with a spread of their own (not pooled), excluding ``exclude``."""
        own = [
            s
            for i, (s, src) in enumerate(zip(self.spreads_, self.spread_sources_))
            if src != "pooled" and i not in exclude and np.isfinite(s)
        ]
        return float(np.median(own)) if own else float("nan")

    def _pooled_factor(self, index: int) -> float:
        """``1 + 1/m`` for prototypes of ``m`` images on average: a new note lies that much farther
        from a prototype estimated from ``m`` notes than from the true centre (2 for single images)."""
        return self.pooled_factor_for(int(self.counts_[index]), len(self._class_prototypes[index]))

    def _fill_missing_spreads(self) -> None:
        pooled = self.pooled_spread()
        for i, src in enumerate(self.spread_sources_):
            if src == "pooled":
                value = pooled * self._pooled_factor(i) if np.isfinite(pooled) else np.nan
                if not np.isfinite(value):
                    # Nothing to pool from (a gallery of one single-image class): a scale from the
                    # embedding itself, 1% of its squared norm, keeps scores finite.
                    value = 0.01 * float(np.sum(self.centroids_[i].astype(np.float64) ** 2)) + SPREAD_FLOOR
                self.spreads_[i] = max(value, SPREAD_FLOOR)

    def set_heldout_spreads(
        self, embeddings: np.ndarray, denom_ids: Sequence[str], *, min_count: int = 5
    ) -> "Gallery":
        """Replace spreads by the median distance of held-out genuine notes to their centroid.

        Classes with fewer than ``min_count`` held-out notes keep their in-sample spread. Held-out
        distances are honest: the network and the centroid never saw these notes.
        """
        self._check_fitted()
        if len(denom_ids) == 0:
            return self
        x, labels = _check_xy(embeddings, denom_ids, "Gallery.set_heldout_spreads")
        lab = np.asarray(labels)
        for i, c in enumerate(self.classes_):
            emb = x[lab == c]
            if len(emb) >= min_count:
                d = pairwise_distances(self.distance, emb, self.centroids_[i][None, :])[:, 0]
                self.spreads_[i] = max(float(np.median(d)), SPREAD_FLOOR)
                self.spread_sources_[i] = "held-out"
        return self

    def add_class(
        self, denom_id: str, embeddings: np.ndarray, pooled_spread_fallback: float | None = None
    ) -> str:
        """Add (or replace) one denomination from a few genuine embeddings (k-shot enrollment).

        Args:
            denom_id: the denomination id.
            embeddings: (k, D) genuine embeddings, k >= 1.
            pooled_spread_fallback: spread of the trained denominations (default: the pooled spread
                of the others); used alone when k == 1, else the in-sample spread is shrunk towards it
                (see :meth:`class_model`).

        Returns:
            How the spread was set: "in-sample" (k >= 2, shrunk towards the pooled spread) or "pooled" (k == 1).
        """
        self._check_fitted()
        emb = np.asarray(embeddings, dtype=np.float32)
        if emb.ndim != 2 or len(emb) == 0 or emb.shape[1] != self.centroids_.shape[1]:
            raise parameter_error(
                "embeddings", "Gallery.add_class", f"an array of shape (k >= 1, {self.centroids_.shape[1]})",
                getattr(emb, "shape", emb),
            )
        if denom_id in self.classes_:
            index = self.classes_.index(denom_id)
        else:
            index = len(self.classes_)
            self.classes_.append(denom_id)
            self.centroids_ = np.concatenate([self.centroids_, np.zeros((1, emb.shape[1]), np.float32)])
            self.spreads_ = np.append(self.spreads_, np.nan)
            self.counts_ = np.append(self.counts_, 0)
            self.spread_sources_.append("pooled")
            self._class_prototypes.append(np.zeros((0, emb.shape[1]), np.float32))
        pooled = pooled_spread_fallback
        if pooled is None or not np.isfinite(pooled):
            pooled = self.pooled_spread(exclude=[index])
        self._set_class(index, emb, pooled)
        if self.spread_sources_[index] == "pooled":
            if np.isfinite(pooled):
                self.spreads_[index] = max(pooled * self._pooled_factor(index), SPREAD_FLOOR)
            else:
                self._fill_missing_spreads()
        return self.spread_sources_[index]

    # --- scoring ---------------------------------------------------------------------------------

    def distances(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, C) distances of each embedding to each centroid, columns in the order of ``classes_``."""
        self._check_fitted()
        x = np.asarray(embeddings, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        protos, labels = self.prototypes_, self.prototype_labels_
        d = pairwise_distances(self.distance, x, protos)
        if len(protos) == len(self.classes_) and np.array_equal(labels, np.arange(len(self.classes_))):
            return d
        out = np.full((len(x), len(self.classes_)), np.inf)
        for j, c in enumerate(labels):
            np.minimum(out[:, c], d[:, j], out=out[:, c])
        return out

    @property
    def prototypes_(self) -> np.ndarray:
        """(P, D) sub-centroids of every class, class by class."""
        self._check_fitted()
        return np.concatenate(self._class_prototypes).astype(np.float32, copy=False)

    @property
    def prototype_labels_(self) -> np.ndarray:
        """(P,) class index of each row of :attr:`prototypes_`."""
        self._check_fitted()
        return np.concatenate([np.full(len(p), i, dtype=np.int64) for i, p in enumerate(self._class_prototypes)])

    @property
    def n_prototypes_(self) -> np.ndarray:
        """(C,) number of prototypes of each class."""
        return np.array([len(p) for p in self._class_prototypes], dtype=np.int64)

    def scores(self, embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Best class and counterfeit score of each embedding.

        Returns:
            (best, score, distances): ``best`` (N,) index of the nearest centroid, ``score`` (N,) its
            distance divided by that class's spread, ``distances`` (N, C).
        """
        d = self.distances(embeddings)
        best = np.argmin(d, axis=1)
        score = d[np.arange(len(d)), best] / self.spreads_[best]
        return best, score, d

    def own_scores(self, embeddings: np.ndarray, denom_ids: Sequence[str]) -> np.ndarray:
        """Score of each embedding against the centroid of its given (true) denomination; NaN if unknown."""
        d = self.distances(embeddings)
        out = np.full(len(d), np.nan)
        for n, c in enumerate(denom_ids):
            if c in self.classes_:
                i = self.classes_.index(c)
                out[n] = d[n, i] / self.spreads_[i]
        return out

    # --- not a note --------------------------------------------------------------------------------

    def set_non_notes(self, embeddings: np.ndarray, counterfeits: np.ndarray | None = None) -> "Gallery":
        """Keep embeddings of pictures without a note as the "not a note" references, and (optionally)
        embeddings of known counterfeits as further note references."""
        self._check_fitted()
        self.non_note_embeddings_ = self._check_refs(embeddings, "embeddings")
        if counterfeits is not None:
            self.counterfeit_embeddings_ = self._check_refs(counterfeits, "counterfeits")
        return self

    def _check_refs(self, embeddings: np.ndarray, name: str) -> np.ndarray:
        x = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.centroids_.shape[1])
        if len(x) and not np.isfinite(x).all():
            raise parameter_error(name, "Gallery.set_non_notes", "finite numbers", "NaN or inf values")
        return x.copy()

    def note_likeness(self, embeddings: np.ndarray) -> np.ndarray:
        """(N,) how far an embedding lies from the notes the model knows, relative to pictures without a note.

        The mean distance to the :data:`GATE_NEIGHBOURS` nearest known notes (genuine prototypes and
        references; known counterfeits count too, their distances stretched by
        :data:`COUNTERFEIT_WEIGHT` so that they pull less), divided by the mean distance to as many
        nearest pictures without a note. Small: among the notes; above 1: closer to things that are not
        notes. Zeros when the model has no "not a note" references (older models).
        """
        self._check_fitted()
        x = np.asarray(embeddings, dtype=np.float32)
        if x.ndim == 1:
            x = x[None, :]
        if not len(self.non_note_embeddings_) or not len(x):
            return np.zeros(len(x))
        genuine = np.concatenate([self.prototypes_, self.reference_embeddings_])
        d_note = _nearest_mean(pairwise_distances(self.distance, x, genuine))
        if len(self.counterfeit_embeddings_):
            d_fake = _nearest_mean(pairwise_distances(self.distance, x, self.counterfeit_embeddings_))
            d_note = np.minimum(d_note, COUNTERFEIT_WEIGHT * d_fake)
        d_non = _nearest_mean(pairwise_distances(self.distance, x, self.non_note_embeddings_))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(d_non > 0, d_note / d_non, np.inf)
        r[np.isnan(d_note) | np.isnan(d_non)] = np.nan
        return r

    # --- helpers ---------------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise NotFittedError("This Gallery is not fitted yet. Call 'fit' with genuine embeddings first.")

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "centroids_")

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, object]]:
        """Arrays and JSON-able settings that describe the fitted gallery (for the model file)."""
        self._check_fitted()
        arrays = {
            "centroids": self.centroids_.astype(np.float32),
            "spreads": self.spreads_.astype(np.float64),
            "counts": self.counts_.astype(np.int64),
            "reference_embeddings": self.reference_embeddings_.astype(np.float32),
            "reference_labels": self.reference_labels_.astype(np.int64),
            "prototypes": self.prototypes_,
            "prototype_labels": self.prototype_labels_,
            "non_note_embeddings": self.non_note_embeddings_.astype(np.float32),
            "counterfeit_embeddings": self.counterfeit_embeddings_.astype(np.float32),
        }
        meta = {
            "distance": self.distance, "classes": list(self.classes_), "spread_sources": list(self.spread_sources_),
            "max_prototypes": self.max_prototypes, "split_ratio": self.split_ratio,
        }
        return arrays, meta

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, object]) -> "Gallery":
        """Rebuild a fitted gallery from :meth:`to_arrays` output."""
        g = cls(
            distance=str(meta["distance"]), max_prototypes=int(meta.get("max_prototypes", 2)),  # type: ignore[call-overload]
            split_ratio=float(meta.get("split_ratio", 0.5)),  # type: ignore[arg-type]
        )
        g.classes_ = [str(c) for c in meta["classes"]]  # type: ignore[union-attr]
        g.spread_sources_ = [str(s) for s in meta["spread_sources"]]  # type: ignore[union-attr]
        g.centroids_ = np.asarray(arrays["centroids"], dtype=np.float32).copy()
        g.spreads_ = np.asarray(arrays["spreads"], dtype=np.float64).copy()
        g.counts_ = np.asarray(arrays["counts"], dtype=np.int64).copy()
        g.reference_embeddings_ = np.asarray(arrays["reference_embeddings"], dtype=np.float32).copy()
        g.reference_labels_ = np.asarray(arrays["reference_labels"], dtype=np.int64).copy()
        g.non_note_embeddings_ = np.asarray(
            arrays.get("non_note_embeddings", np.zeros((0, g.centroids_.shape[1]))), dtype=np.float32
        ).reshape(-1, g.centroids_.shape[1]).copy()
        g.counterfeit_embeddings_ = np.asarray(
            arrays.get("counterfeit_embeddings", np.zeros((0, g.centroids_.shape[1]))), dtype=np.float32
        ).reshape(-1, g.centroids_.shape[1]).copy()
        n = len(g.classes_)
        if g.centroids_.shape[0] != n or g.spreads_.shape != (n,) or g.counts_.shape != (n,):
            raise ValueError("gallery arrays do not match the list of denominations")
        if "prototypes" in arrays:
            protos = np.asarray(arrays["prototypes"], dtype=np.float32)
            labels = np.asarray(arrays["prototype_labels"], dtype=np.int64)
            if len(protos) != len(labels) or (len(labels) and (labels.min() < 0 or labels.max() >= n)):
                raise ValueError("gallery prototypes do not match the list of denominations")
            g._class_prototypes = [protos[labels == i].copy() for i in range(n)]
        else:
            g._class_prototypes = [g.centroids_[i : i + 1].copy() for i in range(n)]
        if any(len(p) == 0 for p in g._class_prototypes):
            raise ValueError("a denomination of the gallery has no prototype")
        return g


def _nearest_mean(d: np.ndarray, k: int | None = None) -> np.ndarray:
    """(N,) mean of the ``k`` (default :data:`GATE_NEIGHBOURS`) smallest values of each row of ``d``."""
    k = min(k or GATE_NEIGHBOURS, d.shape[1])
    return np.partition(d, k - 1, axis=1)[:, :k].astype(np.float64).mean(axis=1)


def _check_xy(embeddings: np.ndarray, denom_ids: Sequence[str], owner: str) -> tuple[np.ndarray, list[str]]:
    x = np.asarray(embeddings, dtype=np.float32)
    labels = [str(c) for c in denom_ids]
    if x.ndim != 2 or len(x) == 0:
        raise parameter_error("embeddings", owner, "a non-empty 2-D array (N, D)", getattr(x, "shape", x))
    if len(labels) != len(x):
        raise parameter_error("denom_ids", owner, f"a sequence of {len(x)} ids (one per embedding)", len(labels))
    if not np.all(np.isfinite(x)):
        raise parameter_error("embeddings", owner, "finite numbers", "NaN or inf values")
    return x, labels
