"""k-shot enrollment: add or refresh denominations from a few genuine images, without retraining.

The network stays as it is; its embeddings of the new genuine images give the denomination's centroid
and spread (:meth:`Gallery.add_class <banknote_guard.verify.gallery.Gallery.add_class>`), the SVM bank is
refitted with the new class, and the denomination gets a threshold:

- ``k == 1`` (or k images that form single-image prototypes): no spread can be measured; the spread
  is the pooled spread of the trained denominations times ``1 + prototypes / k`` (a one-image centroid
  is itself uncertain).
- ``2 <= k < MIN_OWN_CALIBRATION``: the spread is measured on the k images (with the small-sample
  correction).
- For both, k is too small to calibrate a threshold of the denomination's own. The threshold is the one
  the model computed at training time for k-shot enrollment by simulating it on the held-out notes of
  the trained denominations (:func:`~banknote_guard.verify.calibration.kshot_thresholds`; it accounts
  for the noise of a k-image centroid and spread); models without that table use the pooled threshold
  (the ``1 - FAR`` quantile of the held-out genuine scores of all trained denominations).
- ``k >= MIN_OWN_CALIBRATION``: every third image is held out; the others build the centroid, the held-out
  ones give the spread and a threshold of the denomination's own (see :mod:`~banknote_guard.verify.calibration`).

Each case is recorded as ``calibration_method`` and, where the denomination could not be calibrated on its
own notes, explained in a warning.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from banknote_guard.errors import parameter_error
from banknote_guard.progress import CancelToken, ProgressCallback, check_cancel, report
from banknote_guard.verify.bundle import now_iso
from banknote_guard.verify.calibration import DEFAULT_MARGIN, UNKNOWN_FACTOR, estimate_threshold
from banknote_guard.verify.counterfeit_head import global_scores
from banknote_guard.verify.keypoints import enroll_print
from banknote_guard.verify.local_evidence import enroll_local
from banknote_guard.verify.svm import OneVsRestSVM

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.bundle import ModelBundle

log = logging.getLogger(__name__)

#: Fewest genuine images for a denomination to get a threshold of its own (a third are held out).
MIN_OWN_CALIBRATION = 60


@dataclass
class EnrolledDenomination:
    """What enrollment did for one denomination.

    Attributes:
        denomination: its id ("EUR/20").
        k: genuine images used.
        refreshed: True when the model knew the denomination before (its centroid was replaced).
        calibration_method: how its threshold was set ("pooled", "pooled-parametric", "parametric", ...).
        warning: why its calibration is weaker than a trained denomination's, or None.
        threshold: its counterfeit-score threshold.
        spread_method: how its spread was set ("in-sample", "held-out" or "pooled").
    """

    denomination: str
    k: int
    refreshed: bool
    calibration_method: str
    warning: str | None = None
    threshold: float | None = None
    spread_method: str = "in-sample"


@dataclass
class EnrollReport:
    """The outcome of an enrollment.

    Attributes:
        enrolled: one entry per denomination added or refreshed.
        warnings: readable warnings (too few images, denominations skipped, ...).
        errors: ``(path, message)`` for each image that could not be used.
    """

    enrolled: list[EnrolledDenomination] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def denominations(self) -> list[str]:
        return [e.denomination for e in self.enrolled]


def choose_images(paths: Sequence[Path], k: int | None) -> list[Path]:
    """At most ``k`` of ``paths``, chosen deterministically (evenly spread over the sorted list)."""
    ordered = sorted(paths)
    if k is None or k >= len(ordered):
        return ordered
    if k < 1:
        raise parameter_error("k", "enroll", "an int >= 1", k)
    idx = np.unique(np.linspace(0, len(ordered) - 1, k).round().astype(int))
    return [ordered[i] for i in idx]


def enroll_dataset(
    model: "ModelBundle",
    dataset_root: str | Path,
    *,
    denominations: Iterable[str] | None = None,
    k: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> EnrollReport:
    """Enroll the denominations of a dataset folder (their genuine images) into ``model``, in place.

    Args:
        model: the model to update (save it afterwards).
        dataset_root: a folder in the DESIGN.md §4 layout; counterfeit images are ignored.
        denominations: ids to enroll (default: every denomination of the dataset).
        k: use at most this many genuine images per denomination (chosen deterministically).
        progress: receives "enroll" reports.
        cancel: checked between denominations.
    """
    from banknote_guard.data.dataset import discover_dataset

    ds = discover_dataset(dataset_root)
    available = ds.denominations
    if denominations is None:
        wanted = available
    else:
        wanted = [str(d).strip() for d in denominations if str(d).strip()]
        missing = [d for d in wanted if d not in available]
        if missing:
            raise parameter_error(
                "denominations", "enroll", f"denominations of the dataset ({', '.join(available) or 'none'})",
                ", ".join(missing),
            )
    groups: list[tuple[str, list[Path]]] = []
    report_ = EnrollReport()
    for denom in wanted:
        paths = [r.path for r in ds.genuine(denom)]
        if not paths:
            report_.warnings.append(f"{denom}: no genuine images in the dataset; not enrolled.")
            continue
        groups.append((denom, choose_images(paths, k)))
    return _enroll_groups(model, groups, report_, progress=progress, cancel=cancel)


def enroll_folder(
    model: "ModelBundle",
    currency: str,
    denomination: str,
    folder: str | Path,
    *,
    k: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> EnrollReport:
    """Enroll one denomination from a folder of genuine images (searched recursively), in place."""
    from banknote_guard.data.imageio import iter_image_files
    from banknote_guard.data.records import denomination_id

    if not str(currency).strip() or not str(denomination).strip() or "/" in currency or "/" in denomination:
        raise parameter_error("currency/denomination", "enroll_folder", "non-empty names without '/'",
                              f"{currency}/{denomination}")
    folder = Path(folder)
    if not folder.is_dir():
        raise parameter_error("folder", "enroll_folder", "an existing folder of genuine images", str(folder))
    paths = list(iter_image_files(folder))
    denom = denomination_id(currency.strip(), denomination.strip())
    report_ = EnrollReport()
    if not paths:
        report_.warnings.append(f"{denom}: no image files in {str(folder)!r}; not enrolled.")
        return report_
    return _enroll_groups(model, [(denom, choose_images(paths, k))], report_, progress=progress, cancel=cancel)


def _enroll_groups(
    model: "ModelBundle",
    groups: list[tuple[str, list[Path]]],
    out: EnrollReport,
    *,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> EnrollReport:
    from banknote_guard.model.embedder import prepare_paths

    gallery, cal = model.gallery, model.calibration
    total = len(groups)
    for n, (denom, paths) in enumerate(groups):
        check_cancel(cancel)
        report(progress, "enroll", f"Enrolling {denom} ({len(paths)} image(s))", done=n, total=total)
        images, failures = prepare_paths(paths, model.config, cancel=cancel)
        out.errors.extend((str(p), msg) for p, msg in failures)
        ok = [im for im in images if im is not None]
        if not ok:
            out.warnings.append(f"{denom}: none of its {len(paths)} image(s) could be read; not enrolled.")
            continue
        emb = model.embedder.embed(ok)
        out.enrolled.append(_enroll_one(model, denom, emb))
        # local evidence (a model that has it): the denomination's genuine cell statistics
        enroll_local(model, denom, ok, emb,
                     held_out=(np.arange(len(ok)) % 3 == 2) if len(ok) >= MIN_OWN_CALIBRATION else None)
        out.enrolled[-1].threshold = float(model.calibration.thresholds[denom])
        # the print: the shots become the denomination's keypoint prototypes (they name it on real photos)
        enroll_print(model, denom, [p for p, im in zip(paths, images) if im is not None], cancel=cancel)
        if out.enrolled[-1].warning:
            out.warnings.append(out.enrolled[-1].warning)
    if out.enrolled:
        report(progress, "enroll", "Refitting the SVMs", done=total, total=total)
        old = model.svm
        model.svm = OneVsRestSVM(kernel=old.kernel, C=old.C, gamma=old.gamma, degree=old.degree, coef0=old.coef0).fit(
            gallery.reference_embeddings_,
            [gallery.classes_[i] for i in gallery.reference_labels_],
            centroids=gallery.centroids_,
            spreads=gallery.spreads_,
            distance=gallery.distance,
        )
        cal.unknown_threshold = max(cal.unknown_threshold, UNKNOWN_FACTOR * max(cal.thresholds.values()))
        if not math.isfinite(cal.margin_threshold) and len(gallery.classes_) >= 2:
            # A model trained on one denomination had no margin; with two or more it needs one.
            cal.margin_threshold, cal.margin_method = DEFAULT_MARGIN, "default"
        enrolled = dict(model.summary.get("enrolled", {}))
        now = now_iso()
        for e in out.enrolled:
            enrolled[e.denomination] = {
                "k": e.k, "calibration_method": e.calibration_method, "spread_method": e.spread_method,
                "refreshed": e.refreshed, "time": now,
            }
        model.summary["enrolled"] = enrolled
    report(progress, "enroll", f"Enrolled {len(out.enrolled)} denomination(s)", done=total, total=total)
    return out


def _enroll_one(model: "ModelBundle", denom: str, emb: np.ndarray) -> EnrolledDenomination:
    gallery, cal = model.gallery, model.calibration
    far = cal.false_alarm_rate
    refreshed = denom in gallery.classes_
    k = len(emb)
    pooled_spread = gallery.pooled_spread(exclude=[gallery.classes_.index(denom)] if refreshed else [])
    if k >= MIN_OWN_CALIBRATION:
        held = np.arange(k) % 3 == 2
        gallery.add_class(denom, emb[~held], pooled_spread_fallback=pooled_spread)
        gallery.set_heldout_spreads(emb[held], [denom] * int(held.sum()))
        scores = global_scores(gallery, model.counterfeit_head, emb[held], [denom] * int(held.sum()))
        threshold, method = estimate_threshold(scores, far, pooled=cal.pooled_scores)
        warning = None
        cal.heldout_counts[denom] = int(held.sum())
    else:
        gallery.add_class(denom, emb, pooled_spread_fallback=pooled_spread)
        threshold, method = cal.threshold_for_k(k)
        cal.heldout_counts[denom] = 0
        index = gallery.classes_.index(denom)
        what = (
            "its spread is the pooled spread of the trained denominations (enlarged for so few images) and "
            if gallery.spread_sources_[index] == "pooled"
            else ""
        )
        source = (
            "simulated k-shot enrollments of the trained denominations"
            if method.startswith("k-shot")
            else "the pooled scores of the trained denominations"
        )
        warning = (
            f"{denom}: k={k} genuine image(s) are too few to calibrate a threshold of its own "
            f"(needs {MIN_OWN_CALIBRATION}); {what}its threshold comes from {source} "
            f"({threshold:.3g} at {far:.1%} false alarms, method '{method}'). Enroll both sides of the note, "
            "captured the way notes will be verified (scanner or camera): a side or a capture the enrollment "
            "images do not show is likely to be called suspect."
        )
        log.info(warning)
    cal.thresholds[denom] = float(threshold)
    cal.methods[denom] = method
    index = gallery.classes_.index(denom)
    return EnrolledDenomination(
        denomination=denom, k=k, refreshed=refreshed, calibration_method=method, warning=warning,
        threshold=float(threshold), spread_method=gallery.spread_sources_[index],
    )
