"""Thresholds on the counterfeit score, calibrated on held-out genuine notes at a chosen false-alarm rate.

The false-alarm rate (FAR) is the share of genuine notes called suspect. A denomination's threshold is
the ``1 - FAR`` quantile of the counterfeit scores of its held-out genuine notes. How it is estimated
depends on how many held-out notes ``n`` the denomination has (recorded per denomination in
``methods``):

- ``"quantile"``: ``n >= ceil(1 / FAR)`` (100 at 1%): the empirical quantile.
- ``"parametric"``: ``MIN_PARAMETRIC <= n < ceil(1 / FAR)``: a log-normal fitted to the scores, its
  ``1 - FAR`` quantile (an empirical quantile of a few dozen notes cannot reach the 99th percentile).
  It is never set below the largest held-out score's ``1 - 1/(n+1)`` level, i.e. the empirical value.
- ``"pooled"``: ``n < MIN_PARAMETRIC`` (also every enrolled denomination without held-out notes): the
  quantile of the held-out scores of *all* denominations pooled together; scores are normalised by each
  denomination's spread, so they share one scale. When the pool itself is smaller than ``1 / FAR``,
  the pooled quantile is log-normal too (``"pooled-parametric"``).

**k-shot thresholds** (denominations enrolled later from k genuine images): a centroid and a
spread estimated from k notes are themselves noisy, so the scores of new genuine notes of such a
denomination have a heavier tail than those of a trained one, and the pooled threshold would let
through more false alarms than promised. :func:`kshot_thresholds` therefore simulates enrollment on
the held-out genuine notes of the trained denominations: for each k = 1 ... :data:`MAX_SIMULATED_K`,
it repeatedly draws k notes of a denomination, builds its prototypes and spread exactly as
enrollment would, scores the denomination's other held-out notes, and takes the ``1 - FAR``
quantile of all these scores (method ``"k-shot-simulated"``; log-normal when fewer than ``1 / FAR``
scores). Enrollment of k > :data:`MAX_SIMULATED_K` images uses the value of the largest simulated k,
which is on the safe side (more images give a steadier centroid). Without held-out notes to simulate
on, the pooled threshold is used.

The **denomination margin** says when a note's denomination is not clear. For each note, the
*ambiguity* is the distance to its nearest denomination divided by the distance to the next nearest
other denomination (:func:`ambiguity`; 0 = clearly one denomination, 1 = two equally close). The
margin threshold is the ``1 - UNCERTAIN_RATE`` quantile of the ambiguity of the held-out genuine notes
(log-normal-free: the empirical quantile, or :data:`DEFAULT_MARGIN` when fewer than
:data:`MIN_MARGIN_NOTES` notes were held out). A note above it is "uncertain", never "genuine"
(:mod:`~banknote_guard.verify.verdict`). A model with a single denomination has no margin (inf).

The **unknown threshold** separates "a suspect note of a known denomination" from "something that is
not a known denomination at all". Rule: ``UNKNOWN_FACTOR`` times the largest of (a) the highest score
(to its nearest centroid) of any known note seen at calibration, genuine or counterfeit, and (b) the
largest denomination threshold. So a note is "unknown" only when it lies well beyond everything the
model has seen of its denominations, counterfeits included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np

from banknote_guard.errors import parameter_error

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.gallery import Gallery

#: Fewest held-out notes for a per-denomination log-normal fit.
MIN_PARAMETRIC = 20
#: Unknown threshold = this factor x the largest score seen on known notes.
UNKNOWN_FACTOR = 1.5
#: Share of held-out genuine notes allowed to come out "uncertain" (denomination not clear).
UNCERTAIN_RATE = 0.01
#: Fewest held-out genuine notes for a measured margin; with fewer, :data:`DEFAULT_MARGIN` is used.
MIN_MARGIN_NOTES = 20
#: The margin when it cannot be measured: nearest within 10 % of the next denomination's distance.
DEFAULT_MARGIN = 0.9
#: Pooled genuine scores kept in the model (for thresholds of denominations enrolled later).
MAX_POOLED_KEPT = 4096
#: Largest k for which k-shot enrollment is simulated at calibration time.
MAX_SIMULATED_K = 10
#: Random draws of k notes per k in the simulation, over all denominations (at least 30 per denomination):
#: the tail that sets the threshold comes from the rare draws that underestimate the spread.
KSHOT_TOTAL_DRAWS = 600


#: The false-alarm rate new models are calibrated at unless told otherwise (1 %).
DEFAULT_FALSE_ALARM_RATE = 0.01
#: The false-alarm rates a model can be calibrated at, inclusive: 0.1 % to 20 %. Below 0.1 % no
#: held-out set of a desk-sized dataset can support the quantile; above 20 % the tool is useless.
FALSE_ALARM_RANGE = (0.001, 0.2)
#: Where the SVMs are fitted: on the training genuine notes, or on the held-out ("val") ones.
SVM_DATA_CHOICES = ("train", "val")


def check_far(far: float, owner: str = "calibrate") -> float:
    """Validate a false-alarm rate (a float within :data:`FALSE_ALARM_RANGE`)."""
    lo, hi = FALSE_ALARM_RANGE
    if isinstance(far, bool) or not isinstance(far, (int, float)) or not (lo <= float(far) <= hi):
        raise parameter_error(
            "false_alarm_rate", owner, f"a float in [{lo:g}, {hi:g}], e.g. {DEFAULT_FALSE_ALARM_RATE:g} for 1%", far
        )
    return float(far)


@dataclass(frozen=True)
class CalibrationConfig:
    """How a model's thresholds and SVMs are set after training: one default and one valid range,
    shared by the command line, the GUI and the engine.

    Attributes:
        false_alarm_rate: share of genuine notes allowed to be called suspect, within
            :data:`FALSE_ALARM_RANGE` (default :data:`DEFAULT_FALSE_ALARM_RATE`).
        svm_kernel: kernel of the one-vs-rest SVMs, one of :data:`~banknote_guard.verify.svm.KERNELS`.
        svm_data: fit the SVMs on the "train" genuine notes or on the held-out "val" ones (embeddings the
            network was not trained on; needs every denomination among the held-out notes).
        non_notes: pictures without a note drawn for the not-a-note gate
            (:mod:`~banknote_guard.verify.not_a_note`); 0 builds no gate.
    """

    false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE
    svm_kernel: str = "rbf"
    svm_data: str = "train"
    non_notes: int = 200

    def __post_init__(self) -> None:
        from banknote_guard.verify.svm import KERNELS

        check_far(self.false_alarm_rate, "CalibrationConfig")
        if self.svm_kernel not in KERNELS:
            raise parameter_error("svm_kernel", "CalibrationConfig", f"one of {KERNELS}", self.svm_kernel)
        if self.svm_data not in SVM_DATA_CHOICES:
            raise parameter_error("svm_data", "CalibrationConfig", "'train' or 'val'", self.svm_data)
        if isinstance(self.non_notes, bool) or not isinstance(self.non_notes, int) or not 0 <= self.non_notes <= 2000:
            raise parameter_error("non_notes", "CalibrationConfig", "an integer in [0, 2000] (0: no gate)", self.non_notes)


def lognormal_quantile(scores: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a log-normal distribution fitted to positive ``scores``."""
    from scipy.stats import norm

    s = np.log(np.maximum(np.asarray(scores, dtype=np.float64), 1e-12))
    mu, sd = float(s.mean()), float(s.std(ddof=1)) if len(s) > 1 else 0.0
    return float(math.exp(mu + sd * norm.ppf(q)))


def estimate_threshold(scores: np.ndarray, far: float, *, pooled: np.ndarray | None = None) -> tuple[float, str]:
    """Threshold at false-alarm rate ``far`` from held-out genuine ``scores`` (see module docstring).

    Args:
        scores: held-out genuine counterfeit scores of one denomination (may be empty).
        far: false-alarm rate.
        pooled: held-out genuine scores of all denominations, used when ``scores`` are too few.

    Returns:
        (threshold, method)
    """
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    need = math.ceil(1.0 / far)
    if len(s) >= need:
        return float(np.quantile(s, 1.0 - far, method="higher")), "quantile"
    if len(s) >= MIN_PARAMETRIC:
        empirical = float(np.quantile(s, 1.0 - 1.0 / (len(s) + 1)))
        return max(lognormal_quantile(s, 1.0 - far), empirical), "parametric"
    p = np.asarray(pooled if pooled is not None else [], dtype=np.float64)
    p = p[np.isfinite(p)]
    if len(p) >= need:
        return float(np.quantile(p, 1.0 - far, method="higher")), "pooled"
    if len(p) >= 2:
        empirical = float(np.quantile(p, 1.0 - 1.0 / (len(p) + 1)))
        return max(lognormal_quantile(p, 1.0 - far), empirical), "pooled-parametric"
    if len(s) >= 2:
        return float(lognormal_quantile(s, 1.0 - far)), "parametric"
    # Nothing to calibrate on at all: 3 spreads, a conventional default, stated in the method.
    return 3.0, "default"


@dataclass
class Calibration:
    """Thresholds of one model (stored in the model file).

    Attributes:
        false_alarm_rate: the FAR the thresholds were set for.
        thresholds: denomination id -> score threshold (above: suspect).
        methods: denomination id -> how its threshold was estimated (see module docstring).
        heldout_counts: denomination id -> held-out genuine notes used.
        unknown_threshold: score above which a note is "unknown" (no known denomination).
        pooled_scores: held-out genuine scores of all calibrated denominations (sorted; capped).
    """

    false_alarm_rate: float = DEFAULT_FALSE_ALARM_RATE
    thresholds: dict[str, float] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    heldout_counts: dict[str, int] = field(default_factory=dict)
    unknown_threshold: float = float("inf")
    pooled_scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kshot_thresholds: dict[int, float] = field(default_factory=dict)
    kshot_methods: dict[int, str] = field(default_factory=dict)
    margin_threshold: float = float("inf")
    margin_method: str = "none"
    gate_threshold: float = float("inf")
    gate_method: str = "none"

    def threshold_for_k(self, k: int) -> tuple[float, str]:
        """Threshold for a denomination enrolled from ``k`` genuine images, and how it was set."""
        if self.kshot_thresholds:
            known = sorted(self.kshot_thresholds)
            key = max([x for x in known if x <= k], default=known[0])
            return self.kshot_thresholds[key], self.kshot_methods.get(key, "k-shot-simulated")
        return self.pooled_threshold()

    def threshold_for(self, denom_id: str) -> float:
        """Threshold of a denomination; the pooled one when it has none of its own."""
        if denom_id in self.thresholds:
            return self.thresholds[denom_id]
        return self.pooled_threshold()[0]

    def margin_for(self, n_classes: int) -> float:
        """The margin threshold in force: the stored one, or :data:`DEFAULT_MARGIN` for a model of two or
        more denominations that has none (files written before the margin existed)."""
        if not math.isfinite(self.margin_threshold) and n_classes >= 2:
            return DEFAULT_MARGIN
        return self.margin_threshold

    def pooled_threshold(self, far: float | None = None) -> tuple[float, str]:
        """Threshold from the pooled held-out scores (for denominations without held-out notes)."""
        return estimate_threshold(np.zeros(0), far or self.false_alarm_rate, pooled=self.pooled_scores)

    def to_json(self) -> dict[str, Any]:
        return {
            "false_alarm_rate": self.false_alarm_rate,
            "thresholds": {k: float(v) for k, v in self.thresholds.items()},
            "methods": dict(self.methods),
            "heldout_counts": {k: int(v) for k, v in self.heldout_counts.items()},
            "unknown_threshold": None if not math.isfinite(self.unknown_threshold) else float(self.unknown_threshold),
            "kshot_thresholds": {str(k): float(v) for k, v in self.kshot_thresholds.items()},
            "kshot_methods": {str(k): str(v) for k, v in self.kshot_methods.items()},
            "margin_threshold": None if not math.isfinite(self.margin_threshold) else float(self.margin_threshold),
            "margin_method": self.margin_method,
            "gate_threshold": None if not math.isfinite(self.gate_threshold) else float(self.gate_threshold),
            "gate_method": self.gate_method,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], pooled_scores: np.ndarray | None = None) -> "Calibration":
        unknown = data.get("unknown_threshold")
        return cls(
            false_alarm_rate=float(data["false_alarm_rate"]),
            thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
            methods={str(k): str(v) for k, v in data["methods"].items()},
            heldout_counts={str(k): int(v) for k, v in data.get("heldout_counts", {}).items()},
            unknown_threshold=float("inf") if unknown is None else float(unknown),
            pooled_scores=np.zeros(0) if pooled_scores is None else np.asarray(pooled_scores, dtype=np.float64),
            kshot_thresholds={int(k): float(v) for k, v in data.get("kshot_thresholds", {}).items()},
            kshot_methods={int(k): str(v) for k, v in data.get("kshot_methods", {}).items()},
            margin_threshold=float("inf") if data.get("margin_threshold") is None else float(data["margin_threshold"]),
            margin_method=str(data.get("margin_method", "none")),
            gate_threshold=float("inf") if data.get("gate_threshold") is None else float(data["gate_threshold"]),
            gate_method=str(data.get("gate_method", "none")),
        )


def calibrate(
    classes: Sequence[str],
    genuine_scores: np.ndarray,
    genuine_denoms: Sequence[str],
    far: float = DEFAULT_FALSE_ALARM_RATE,
    *,
    known_scores: np.ndarray | None = None,
) -> Calibration:
    """Calibrate thresholds from held-out genuine scores.

    Args:
        classes: every denomination of the gallery (each gets a threshold).
        genuine_scores: counterfeit score of each held-out genuine note against its own denomination.
        genuine_denoms: its denomination id.
        far: false-alarm rate.
        known_scores: scores (to the nearest centroid) of all known notes, genuine and counterfeit,
            that set the unknown threshold; default: ``genuine_scores``.

    Returns:
        The :class:`Calibration`.
    """
    far = check_far(far)
    s = np.asarray(genuine_scores, dtype=np.float64)
    labels = np.asarray([str(c) for c in genuine_denoms])
    if len(labels) != len(s):
        raise parameter_error("genuine_denoms", "calibrate", f"{len(s)} ids (one per score)", len(labels))
    pooled = np.sort(s[np.isfinite(s)])
    cal = Calibration(false_alarm_rate=far)
    for c in classes:
        own = s[labels == c]
        cal.thresholds[c], cal.methods[c] = estimate_threshold(own, far, pooled=pooled)
        cal.heldout_counts[c] = int(np.isfinite(own).sum())
    if len(pooled) > MAX_POOLED_KEPT:
        pooled = pooled[np.unique(np.linspace(0, len(pooled) - 1, MAX_POOLED_KEPT).round().astype(int))]
    cal.pooled_scores = pooled
    cal.unknown_threshold = unknown_threshold(cal.thresholds.values(), known_scores if known_scores is not None else s)
    return cal


def ambiguity(distances: np.ndarray) -> np.ndarray:
    """(N,) nearest distance / next nearest distance of each row of (N, C) distances (0 when C < 2).

    0: clearly one denomination; 1: the two nearest are equally close. NaN rows give NaN (and so fail
    closed in the verdict rule).
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[1] < 2:
        return np.zeros(len(d))
    two = np.partition(d, 1, axis=1)[:, :2]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(two[:, 1] > 0, two[:, 0] / two[:, 1], 1.0)
    r[np.isnan(two).any(axis=1)] = np.nan
    return r


def calibrate_margin(genuine_ambiguity: np.ndarray, n_classes: int) -> tuple[float, str]:
    """The margin threshold and how it was set (see the module docstring)."""
    if n_classes < 2:
        return float("inf"), "none"
    a = np.asarray(genuine_ambiguity, dtype=np.float64)
    a = a[np.isfinite(a)]
    if len(a) < MIN_MARGIN_NOTES:
        return DEFAULT_MARGIN, "default"
    q = float(np.quantile(a, 1.0 - UNCERTAIN_RATE, method="higher"))
    # Never looser than "within 2 % of each other", never stricter than the default.
    return float(min(max(q, DEFAULT_MARGIN), 0.98)), "quantile"


#: Share of held-out genuine notes the not-a-note gate may turn away ("unknown").
GATE_REJECT_RATE = 0.005
#: The gate never turns away a picture that is closer to a known note than to every non-note.
MIN_GATE = 1.0


def calibrate_gate(genuine_likeness: np.ndarray) -> tuple[float, str]:
    """The not-a-note gate threshold from held-out genuine notes' :meth:`Gallery.note_likeness`."""
    a = np.asarray(genuine_likeness, dtype=np.float64)
    a = a[np.isfinite(a)]
    if len(a) < MIN_MARGIN_NOTES:
        return 2.0 * MIN_GATE, "default"
    return float(max(np.quantile(a, 1.0 - GATE_REJECT_RATE, method="higher") * 1.1, MIN_GATE)), "quantile"


def calibration_warnings(cal: Calibration) -> list[str]:
    """Plain sentences on what was not calibrated on a denomination's own notes, and why.

    Empty when every denomination's threshold came from its own held-out genuine notes.
    """
    by_method: dict[str, list[str]] = {}
    for denom, method in sorted(cal.methods.items()):
        by_method.setdefault(method, []).append(denom)
    out = []
    if by_method.get("default"):
        names = ", ".join(by_method["default"])
        out.append(
            f"NOT CALIBRATED: {names} had no held-out genuine notes to measure, so the threshold is a fixed "
            f"default ({cal.thresholds[by_method['default'][0]]:.2f}) and the promised false-alarm rate means "
            f"nothing. Add more genuine images (at least {MIN_PARAMETRIC} per denomination) and train again."
        )
    pooled = by_method.get("pooled", []) + by_method.get("pooled-parametric", [])
    if pooled:
        few = ", ".join(f"{d} ({cal.heldout_counts.get(d, 0)})" for d in pooled)
        out.append(
            f"Pooled thresholds: {few} had fewer than {MIN_PARAMETRIC} held-out genuine notes each, so "
            f"{'its threshold was' if len(pooled) == 1 else 'their thresholds were'} taken from the held-out "
            f"notes of all denominations together ({len(cal.pooled_scores)} notes). They share one value and "
            "are less certain; more genuine images per denomination give each its own."
        )
    return out


def unknown_threshold(thresholds: Any, known_scores: np.ndarray) -> float:
    """``UNKNOWN_FACTOR`` x max(highest known score, highest threshold) (see module docstring)."""
    k = np.asarray(known_scores, dtype=np.float64)
    k = k[np.isfinite(k)]
    top = max([float(k.max()) if len(k) else 0.0, *[float(t) for t in thresholds]])
    return UNKNOWN_FACTOR * top if top > 0 else float("inf")


def kshot_thresholds(
    gallery: "Gallery",
    heldout: np.ndarray,
    heldout_denoms: Sequence[str],
    far: float,
    *,
    ks: Sequence[int] = tuple(range(1, MAX_SIMULATED_K + 1)),
    draws: int | None = None,
    seed: int = 0,
    extra: np.ndarray | None = None,
) -> tuple[dict[int, float], dict[int, str]]:
    """Thresholds for k-shot enrollment, simulated on held-out genuine notes (see module docstring).

    Args:
        gallery: the fitted gallery (its distance, prototype rule and pooled spread are used).
        heldout: (N, D) held-out genuine embeddings of trained denominations.
        heldout_denoms: their denomination ids.
        far: false-alarm rate.
        ks: the k values to simulate.
        draws: random draws of k notes per denomination and k (default: enough for
            :data:`KSHOT_TOTAL_DRAWS` in all, at least 30).
        seed: seed of the draws (the result is deterministic).
        extra: (N,) what the model adds to each held-out note's distance score (its counterfeit head,
            :mod:`~banknote_guard.verify.counterfeit_head`), or None.

    Returns:
        ``(thresholds, methods)``, both keyed by k; empty when no denomination has more than k notes.
    """
    from banknote_guard.verify.gallery import pairwise_distances

    far = check_far(far, "kshot_thresholds")
    x = np.asarray(heldout, dtype=np.float32)
    labels = np.asarray([str(c) for c in heldout_denoms])
    pooled_spread = gallery.pooled_spread()
    rng = np.random.default_rng(seed)
    add = np.zeros(len(x)) if extra is None else np.asarray(extra, np.float64)
    groups = [(x[labels == c], add[labels == c]) for c in sorted(set(labels.tolist()))]
    if draws is None:
        draws = max(30, math.ceil(KSHOT_TOTAL_DRAWS / max(len(groups), 1)))
    thresholds: dict[int, float] = {}
    methods: dict[int, str] = {}
    for k in ks:
        scores: list[np.ndarray] = []
        for emb, plus in groups:
            if len(emb) <= k:
                continue
            for _ in range(draws):
                order = rng.permutation(len(emb))
                shots, rest = emb[order[:k]], emb[order[k:]]
                protos, spread = gallery.class_model(shots, pooled_spread)
                if not np.isfinite(spread):
                    if not np.isfinite(pooled_spread):
                        continue
                    spread = pooled_spread * gallery.pooled_factor_for(k, len(protos))
                d = pairwise_distances(gallery.distance, rest, protos).min(axis=1)
                scores.append(d / spread + plus[order[k:]])
        if not scores:
            continue
        all_scores = np.concatenate(scores)
        threshold, how = estimate_threshold(np.zeros(0), far, pooled=all_scores)
        thresholds[int(k)] = float(threshold)
        methods[int(k)] = "k-shot-simulated" + ("" if how == "pooled" else "-parametric")
    return thresholds, methods
