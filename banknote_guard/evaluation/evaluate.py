"""Evaluate a model on a labelled dataset: how well it catches counterfeits and names denominations.

:func:`evaluate` verifies every image of a dataset in the DESIGN.md §4 layout with the model, exactly
as ``banknote-guard verify`` would, and compares the verdicts with the folder labels:

* counterfeit detection from the continuous ``counterfeit_score``: ROC AUC, equal-error rate, the
  share of counterfeits caught when 1% and 0.1% of genuine notes may raise a false alarm;
* the model's own operating point: false alarms per 10,000 genuine notes (a genuine note whose verdict
  is not "genuine") and the share of counterfeits flagged at the model's stored thresholds;
* denomination accuracy on genuine notes (a note called "unknown" counts as wrong) and a confusion
  matrix (with an "unknown" column);
* the same figures per denomination, per counterfeit method (when ``manifest.csv`` names them) and
  per named group of denominations (e.g. "trained" and "enrolled").

With ``out_dir`` it writes ``evaluation.json`` (figures plus one row per image with its truth) and
PNG plots: ``roc.png``, ``embeddings.png`` (PCA map of embeddings with centroids), ``scores.png``,
``confusion.png``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np

from banknote_guard.data.records import denomination_sort_key
from banknote_guard.errors import BanknoteGuardError, DatasetLayoutError
from banknote_guard.evaluation import metrics as M
from banknote_guard.fileio import atomic_write_text
from banknote_guard.jsonable import to_jsonable
from banknote_guard.progress import CancelToken, ProgressCallback, check_cancel, report
from banknote_guard.verify.result import VerificationResult

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.data.records import ImageRecord
    from banknote_guard.verify.bundle import ModelBundle

__all__ = ["EvaluationReport", "evaluate", "evaluate_results", "FARS"]

#: False-alarm rates at which the catch rate is reported, with their key suffixes.
FARS: tuple[tuple[float, str], ...] = ((0.01, "1pct"), (0.001, "0.1pct"))
#: Most notes drawn on the embedding map (a deterministic, stratified subset).
MAX_MAP_POINTS = 600
#: Label used for a note the model could not match to any denomination.
UNKNOWN = "unknown"


# --- the report ------------------------------------------------------------------------------------


@dataclass
class EvaluationReport:
    """Figures from evaluating one model on one labelled dataset.

    Attributes:
        dataset_root: the dataset evaluated.
        model_info: the model's self-description (``ModelBundle.describe()``), JSON-able.
        metrics: overall figures (see :func:`detection_metrics`), plus ``denomination_accuracy``,
            ``n_images``, ``n_errors``, ``seconds`` and ``notes_per_second``.
        per_denomination: denomination id -> the same figures for its notes.
        per_method: counterfeit method -> figures of that method's counterfeits against all genuine
            notes (empty when the dataset has no manifest naming methods).
        per_group: group name -> figures over the group's denominations (see ``groups`` of
            :func:`evaluate`).
        confusion: ``{"labels": rows, "columns": rows + ["unknown"], "matrix": [[int]]}`` over genuine
            notes (rows: true denomination, columns: predicted).
        results: one verification result per image, in the order of ``records``.
        records: the dataset record (truth) of each result.
        plots: plot name -> PNG path (empty without ``out_dir``).
        files: other written files (``"evaluation"`` -> evaluation.json).
        warnings: readable notes on the evaluation (unknown denominations, failed images, ...).
    """

    dataset_root: Path
    model_info: dict[str, Any]
    metrics: dict[str, Any]
    per_denomination: dict[str, dict[str, Any]]
    per_method: dict[str, dict[str, Any]]
    per_group: dict[str, dict[str, Any]] = field(default_factory=dict)
    confusion: dict[str, Any] = field(default_factory=dict)
    results: list[VerificationResult] = field(default_factory=list)
    records: list["ImageRecord"] = field(default_factory=list)
    plots: dict[str, Path] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_json(self, *, include_results: bool = True) -> dict[str, Any]:
        """A JSON-able dict (NaN becomes null). With ``include_results`` one row per image with its truth."""
        data: dict[str, Any] = {
            "dataset": str(self.dataset_root),
            "model": self.model_info,
            "metrics": self.metrics,
            "per_denomination": self.per_denomination,
            "per_method": self.per_method,
            "per_group": self.per_group,
            "confusion": self.confusion,
            "plots": {k: str(v) for k, v in self.plots.items()},
            "warnings": list(self.warnings),
        }
        if include_results:
            rows = []
            for rec, res in zip(self.records, self.results):
                row = res.to_json()
                row["true_denomination"] = rec.denom_id
                row["true_label"] = rec.label
                row["method"] = rec.method
                rows.append(row)
            data["results"] = rows
        return to_jsonable(data)

    def format_text(self) -> str:
        """A readable summary: overall figures, then tables per group, denomination and method."""
        m = self.metrics
        lines = [
            f"Evaluation of {self.model_info.get('path') or 'the model'} on {self.dataset_root}",
            f"  images: {m.get('n_images', 0)} ({m.get('n_genuine', 0)} genuine, {m.get('n_counterfeit', 0)} "
            f"counterfeit), {m.get('n_errors', 0)} could not be read; "
            f"{_fmt(m.get('notes_per_second'), '.1f')} notes/s",
            f"  ROC AUC (counterfeit vs genuine) .......... {_fmt(m.get('roc_auc'), '.4f')}",
            f"  equal-error rate .......................... {_pct(m.get('eer'))}",
            f"  counterfeits caught at 1% false alarms .... {_pct(m.get('catch_rate_at_1pct_far'))}",
            f"  counterfeits caught at 0.1% false alarms .. {_pct(m.get('catch_rate_at_0.1pct_far'))}",
            "  at the model's thresholds: "
            f"{_fmt(m.get('false_alarms_per_10k'), '.0f')} false alarms per 10,000 genuine notes, "
            f"{_pct(m.get('catch_rate_at_model_thresholds'))} of counterfeits flagged",
            f"  denomination accuracy (genuine notes) ..... {_pct(m.get('denomination_accuracy'))}",
        ]
        if self.per_group:
            lines += ["", "By group of denominations:", _table(self.per_group, "group")]
        if self.per_denomination:
            lines += ["", "By denomination:", _table(self.per_denomination, "denomination")]
        if self.per_method:
            lines += ["", "By counterfeit method (against all genuine notes):"]
            lines.append(_table(self.per_method, "method", methods=True))
        if self.warnings:
            lines += ["", "Notes:"] + [f"  - {w}" for w in self.warnings]
        if self.plots or self.files:
            lines += ["", "Files:"] + [f"  {k}: {v}" for k, v in {**self.files, **self.plots}.items()]
        return "\n".join(lines)


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return format(value, spec)


def _pct(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{100 * value:.{digits}f}%"


def _table(blocks: Mapping[str, Mapping[str, Any]], key_name: str, *, methods: bool = False) -> str:
    cols = [
        ("genuine", "n_genuine", lambda v: _fmt(v, "d")),
        ("fakes", "n_counterfeit", lambda v: _fmt(v, "d")),
        ("AUC", "roc_auc", lambda v: _fmt(v, ".4f")),
        ("EER", "eer", _pct),
        ("catch@1%", "catch_rate_at_1pct_far", lambda v: _pct(v, 1)),
        ("catch@0.1%", "catch_rate_at_0.1pct_far", lambda v: _pct(v, 1)),
        ("FA/10k", "false_alarms_per_10k", lambda v: _fmt(v, ".0f")),
        ("flagged", "catch_rate_at_model_thresholds", lambda v: _pct(v, 1)),
        ("denom acc", "denomination_accuracy", lambda v: _pct(v, 1)),
    ]
    if methods:  # counterfeits of one method against all genuine notes: no per-method false alarms
        cols = [c for c in cols if c[1] not in ("n_genuine", "false_alarms_per_10k", "denomination_accuracy")]
    width = max([len(key_name)] + [len(k) for k in blocks]) + 2
    header = f"  {key_name:<{width}}" + "".join(f"{c[0]:>11}" for c in cols)
    rows = [header]
    for name, block in blocks.items():
        rows.append(f"  {name:<{width}}" + "".join(f"{fn(block.get(k)):>11}" for _, k, fn in cols))
    return "\n".join(rows)


# --- figures ---------------------------------------------------------------------------------------


def detection_metrics(
    labels: np.ndarray, scores: np.ndarray, flagged: np.ndarray
) -> dict[str, float | int]:
    """Counterfeit-detection figures of one set of notes.

    Args:
        labels: 1 = counterfeit, 0 = genuine.
        scores: counterfeit scores (higher = more suspicious).
        flagged: whether the model's verdict flagged each note (not "genuine").

    Returns:
        ``n_genuine``, ``n_counterfeit``, ``roc_auc``, ``eer``, ``catch_rate_at_1pct_far`` and
        ``threshold_at_1pct_far`` (likewise ``0.1pct``), ``false_alarms_per_10k`` (genuine notes
        flagged at the model's thresholds, per 10,000) and ``catch_rate_at_model_thresholds``.
        Undefined figures are NaN.
    """
    labels = np.asarray(labels, dtype=int)
    scores = np.asarray(scores, dtype=np.float64)
    flagged = np.asarray(flagged, dtype=bool)
    genuine = labels == 0
    out: dict[str, float | int] = {
        "n_genuine": int(genuine.sum()),
        "n_counterfeit": int((~genuine).sum()),
        "roc_auc": M.roc_auc(labels, scores),
        "eer": M.equal_error_rate(labels, scores),
    }
    for far, suffix in FARS:
        catch, thr = M.catch_rate_at_far(labels, scores, far)
        out[f"catch_rate_at_{suffix}_far"] = catch
        out[f"threshold_at_{suffix}_far"] = thr
    out["false_alarms_per_10k"] = M.false_alarms_per_10k(scores[genuine], flagged[genuine])
    out["catch_rate_at_model_thresholds"] = float(flagged[~genuine].mean()) if (~genuine).any() else math.nan
    return out


def _denomination_accuracy(records: Sequence["ImageRecord"], predicted: Sequence[str], known: set[str]) -> float:
    pairs = [(r.denom_id, p) for r, p in zip(records, predicted) if r.is_genuine and r.denom_id in known]
    return M.accuracy([t for t, _ in pairs], [p for _, p in pairs])


def evaluate_results(
    records: Sequence["ImageRecord"],
    results: Sequence[VerificationResult],
    *,
    known_denominations: Iterable[str] | None = None,
    groups: Mapping[str, Iterable[str]] | None = None,
) -> tuple[dict[str, Any], dict[str, dict], dict[str, dict], dict[str, dict], dict[str, Any], list[str]]:
    """Compute every figure from verification results and their truth (no model needed).

    Args:
        records: the truth of each note.
        results: the verification result of each note, in the same order.
        known_denominations: denominations the model knows (default: those in ``records``); genuine
            notes of other denominations are left out of the denomination accuracy.
        groups: group name -> denomination ids, for :attr:`EvaluationReport.per_group`.

    Returns:
        ``(metrics, per_denomination, per_method, per_group, confusion, warnings)``.
    """
    if len(records) != len(results):
        raise ValueError("records and results differ in length")
    warnings: list[str] = []
    ok = [i for i, r in enumerate(results) if r.ok]
    n_errors = len(results) - len(ok)
    if n_errors:
        first = next(r for r in results if not r.ok)
        warnings.append(f"{n_errors} image(s) could not be verified and are left out, e.g. {first.path}: {first.error}")
    recs = [records[i] for i in ok]
    res = [results[i] for i in ok]
    finite = [r.counterfeit_score for r in res if r.counterfeit_score is not None and math.isfinite(r.counterfeit_score)]
    # A note matched to no denomination has no finite score: it ranks above every scored note.
    top = (max(finite) if finite else 0.0) + 1.0
    scores = np.array(
        [r.counterfeit_score if r.counterfeit_score is not None and math.isfinite(r.counterfeit_score) else top
         for r in res],
        dtype=np.float64,
    )
    labels = np.array([0 if r.is_genuine else 1 for r in recs], dtype=int)
    flagged = np.array([r.verdict != "genuine" for r in res], dtype=bool)
    predicted = [r.denomination if r.denomination is not None and r.verdict != "unknown" else UNKNOWN for r in res]
    denom_arr = np.array([r.denom_id for r in recs], dtype=object)
    known = set(known_denominations) if known_denominations is not None else set(denom_arr.tolist())
    missing = sorted(set(denom_arr.tolist()) - known)
    if missing:
        warnings.append(
            "the model does not know these denominations of the dataset (enroll them first): " + ", ".join(missing)
        )

    def block(sel: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = detection_metrics(labels[sel], scores[sel], flagged[sel])
        sub_recs = [r for r, s in zip(recs, sel) if s]
        sub_pred = [p for p, s in zip(predicted, sel) if s]
        out["denomination_accuracy"] = _denomination_accuracy(sub_recs, sub_pred, known)
        return out

    everything = np.ones(len(recs), dtype=bool)
    overall = block(everything)
    overall["n_images"] = len(results)
    overall["n_errors"] = n_errors
    overall["uncertain_rate_genuine"] = (
        float(np.mean([r.verdict == "uncertain" for r, lab in zip(res, labels) if lab == 0]))
        if (labels == 0).any() else math.nan
    )
    overall["unknown_rate_genuine"] = (
        float(np.mean([p == UNKNOWN for p, lab in zip(predicted, labels) if lab == 0])) if (labels == 0).any() else math.nan
    )

    per_denomination = {d: block(denom_arr == d) for d in sorted(set(denom_arr.tolist()), key=denomination_sort_key)}

    per_method: dict[str, dict[str, Any]] = {}
    methods = np.array([r.method if not r.is_genuine else None for r in recs], dtype=object)
    named = sorted({m for m in methods.tolist() if m})
    if named:
        thresholds = {suffix: overall[f"threshold_at_{suffix}_far"] for _, suffix in FARS}
        for method in named + (["(unnamed)"] if any(m is None for m, lab in zip(methods, labels) if lab) else []):
            is_method = np.array([(m or "(unnamed)") == method and lab == 1 for m, lab in zip(methods, labels)])
            sel = (labels == 0) | is_method
            b = detection_metrics(labels[sel], scores[sel], flagged[sel])
            # Catch rates at the *overall* operating points: what an operator sees for this method.
            for _, suffix in FARS:
                thr = thresholds[suffix]
                b[f"catch_rate_at_{suffix}_far_overall"] = (
                    float(np.mean(scores[is_method] > thr)) if is_method.any() and math.isfinite(thr) else math.nan
                )
            per_method[method] = b

    per_group: dict[str, dict[str, Any]] = {}
    for name, members in (groups or {}).items():
        member_set = set(members)
        sel = np.array([d in member_set for d in denom_arr.tolist()], dtype=bool)
        if sel.any():
            b = block(sel)
            b["denominations"] = sorted(member_set & set(denom_arr.tolist()), key=denomination_sort_key)
            per_group[name] = b

    rows = sorted(known | set(denom_arr[labels == 0].tolist()), key=denomination_sort_key)
    columns = rows + [UNKNOWN]
    genuine_idx = [i for i in range(len(recs)) if labels[i] == 0]
    matrix = M.confusion_matrix(
        [recs[i].denom_id for i in genuine_idx], [predicted[i] for i in genuine_idx], columns
    )[: len(rows)]
    confusion = {"labels": rows, "columns": columns, "matrix": matrix.tolist()}
    return overall, per_denomination, per_method, per_group, confusion, warnings


# --- embeddings for the map --------------------------------------------------------------------------


def _map_subset(records: Sequence["ImageRecord"], limit: int = MAX_MAP_POINTS) -> list[int]:
    """Indices of at most ``limit`` records, spread evenly over (denomination, label) strata."""
    strata: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(records):
        strata.setdefault((r.denom_id, r.label), []).append(i)
    if sum(len(v) for v in strata.values()) <= limit:
        return sorted(i for v in strata.values() for i in v)
    per = max(1, limit // max(len(strata), 1))
    chosen: list[int] = []
    for v in strata.values():
        if len(v) <= per:
            chosen += v
        else:
            chosen += [v[int(j)] for j in np.unique(np.linspace(0, len(v) - 1, per).round().astype(int))]
    return sorted(chosen)


def _recording_verifier(model: "ModelBundle") -> Any:
    """A :class:`~banknote_guard.verify.verifier.Verifier` that also keeps every note's embedding.

    It verifies exactly as ``verify_paths`` does (same batches, same verdict rule); the embeddings it
    scores are kept in its ``embeddings`` dict (name -> vector), so the embedding map needs no second
    pass over the images. Results carry no rectified image (memory stays small on large sets).
    """
    from banknote_guard.verify.verifier import Verifier

    class _Recorder(Verifier):
        def __init__(self, bundle: "ModelBundle") -> None:
            super().__init__(bundle)
            self.embeddings: dict[str, np.ndarray] = {}

        def score(self, embeddings, names, note_found=None, rectified=None, **kwargs):  # type: ignore[no-untyped-def]
            for name, e in zip(names, np.asarray(embeddings)):
                self.embeddings[str(name)] = np.array(e, dtype=np.float32)
            # The rectified images are scored (local evidence) but not kept: an evaluation of thousands
            # of notes needs no pixels.
            results = super().score(embeddings, names, note_found, rectified, **kwargs)
            for r in results:
                r.rectified = None
            return results

    return _Recorder(model)


def embed_paths(
    model: "ModelBundle",
    paths: Sequence[str | Path],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[np.ndarray, list[int]]:
    """Embeddings of image files with the model's network, exactly as verification computes them.

    Images that cannot be used are skipped.

    Returns:
        ``(embeddings (n_ok, D), indices into paths of the files that succeeded)``.
    """
    emb, failures = model.embedder.embed_paths([Path(p) for p in paths], progress=progress, cancel=cancel)
    failed = {str(Path(p)) for p, _ in failures}
    good = [i for i, p in enumerate(paths) if str(Path(p)) not in failed]
    if len(good) != len(emb):  # failures named differently: keep the sizes consistent
        good = list(range(len(emb)))
    return np.asarray(emb, dtype=np.float32), good


def default_groups(model: "ModelBundle") -> dict[str, list[str]]:
    """``{"trained": [...], "enrolled": [...]}`` from the model's record of enrolled denominations.

    Empty when nothing was enrolled after training.
    """
    enrolled = sorted(model.summary.get("enrolled", {}) or {})
    known = list(model.denominations)
    if not enrolled:
        return {}
    return {"trained": [d for d in known if d not in enrolled], "enrolled": [d for d in known if d in enrolled]}


def _centroids(model: "ModelBundle") -> dict[str, np.ndarray]:
    """Denomination id -> (k, D) centres of its genuine notes: its prototypes where the gallery keeps
    several (e.g. front and back), else its centroid."""
    gallery = model.gallery
    if not gallery.is_fitted:
        return {}
    protos = np.asarray(gallery.prototypes_)
    labels = np.asarray(gallery.prototype_labels_)
    out = {}
    for i, c in enumerate(gallery.classes_):
        mine = protos[labels == i]
        out[c] = mine if mine.ndim == 2 and len(mine) else np.asarray(gallery.centroids_[i])[None, :]
    return out


# --- the entry point -----------------------------------------------------------------------------------


def _model_info(model: "ModelBundle") -> dict[str, Any]:
    return dict(model.describe())


def evaluate(
    model: "ModelBundle",
    dataset_root: str | Path,
    out_dir: str | Path | None = None,
    *,
    groups: Mapping[str, Iterable[str]] | None = None,
    embedding_map: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> EvaluationReport:
    """Verify every image of a labelled dataset and measure the model against the truth.

    Args:
        model: a loaded model (:func:`banknote_guard.api.load_model`).
        dataset_root: a dataset in the DESIGN.md §4 layout; ``manifest.csv`` (if present) names each
            counterfeit's method.
        out_dir: where to write ``evaluation.json`` and the PNG plots; nothing is written when None.
        groups: group name -> denomination ids (e.g. ``{"trained": [...], "enrolled": [...]}``) for
            figures per group and one ROC curve per group. Default: "trained" and "enrolled" when the
            model records denominations enrolled after training (:func:`default_groups`).
        embedding_map: draw ``embeddings.png`` (a stratified subset of at most 600 notes, with the
            embeddings recorded while verifying).
        progress: progress callback (stages "verify", "embed", "plots").
        cancel: cancel token, checked between images and between stages.

    Returns:
        The :class:`EvaluationReport`.

    Raises:
        DatasetLayoutError: the dataset folder breaks the layout or holds no images.
    """
    from banknote_guard.data.dataset import discover_dataset

    started = time.monotonic()
    if groups is None:
        groups = default_groups(model)
    root = Path(dataset_root)
    dataset = discover_dataset(root)
    records = list(dataset.records)
    if not records:
        raise DatasetLayoutError(root, "The dataset holds no images")
    check_cancel(cancel)
    paths = [str(r.path) for r in records]
    verify_started = time.monotonic()
    verifier = _recording_verifier(model)
    results = list(verifier.verify_paths(paths, progress=progress, cancel=cancel))
    verify_seconds = time.monotonic() - verify_started
    results = _align(paths, results)
    embeddings = {_path_key(k): v for k, v in verifier.embeddings.items()}
    known = list(model.denominations)
    overall, per_denom, per_method, per_group, confusion, warnings = evaluate_results(
        records, results, known_denominations=known or None, groups=groups
    )
    overall["verify_seconds"] = verify_seconds
    overall["notes_per_second"] = len(records) / verify_seconds if verify_seconds > 0 else math.nan
    report_ = EvaluationReport(
        dataset_root=root,
        model_info=_model_info(model),
        metrics=overall,
        per_denomination=per_denom,
        per_method=per_method,
        per_group=per_group,
        confusion=confusion,
        results=results,
        records=records,
        warnings=warnings,
    )
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        check_cancel(cancel)
        report_.plots = write_plots(
            report_, out, model=model if embedding_map else None, groups=groups, embeddings=embeddings,
            progress=progress, cancel=cancel,
        )
    overall["seconds"] = time.monotonic() - started
    if out_dir is not None:
        path = Path(out_dir) / "evaluation.json"
        report_.files["evaluation"] = path
        atomic_write_text(path, json.dumps(report_.to_json(), indent=2))
    report(progress, "evaluate", "evaluation done", 1, 1)
    return report_


def _path_key(path: str | Path) -> str:
    return str(Path(path).resolve())


def _align(paths: Sequence[str], results: Sequence[VerificationResult]) -> list[VerificationResult]:
    """Results in the order of ``paths`` (matched by path; a missing one becomes an error result)."""
    by_path: dict[str, VerificationResult] = {}
    for r in results:
        by_path.setdefault(_path_key(r.path), r)
    aligned = []
    for p in paths:
        r = by_path.get(_path_key(p))
        aligned.append(r if r is not None else VerificationResult.failed(p, "the verifier returned no result"))
    return aligned


def write_plots(
    evaluation: EvaluationReport,
    out_dir: str | Path,
    *,
    model: "ModelBundle | None" = None,
    groups: Mapping[str, Iterable[str]] | None = None,
    embeddings: Mapping[str, np.ndarray] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Path]:
    """Write roc.png, roc_methods.png, scores.png, confusion.png and (given ``model``) embeddings.png.

    Args:
        evaluation: the figures and per-image results.
        out_dir: folder for the PNG files.
        model: the model (its centroids go on the embedding map); None skips the map.
        groups: group name -> denomination ids; one ROC curve per group. Groups named "enrolled..."
            or "held..." are marked on the map as never trained on.
        embeddings: resolved path -> embedding, recorded while verifying; notes missing here are
            embedded once more.
        progress: progress callback (stage "plots").
        cancel: cancel token.

    A plot that fails is skipped with a warning added to ``evaluation.warnings``; the others are still
    written.
    """
    from banknote_guard.evaluation import plots

    out = Path(out_dir)
    written: dict[str, Path] = {}
    ok = [(rec, res) for rec, res in zip(evaluation.records, evaluation.results) if res.ok]
    finite = [r.counterfeit_score for _, r in ok if r.counterfeit_score is not None and math.isfinite(r.counterfeit_score)]
    top = (max(finite) if finite else 0.0) + 1.0
    labels = np.array([0 if rec.is_genuine else 1 for rec, _ in ok], dtype=int)
    scores = np.array(
        [r.counterfeit_score if r.counterfeit_score is not None and math.isfinite(r.counterfeit_score) else top
         for _, r in ok],
        dtype=np.float64,
    )
    denoms = [rec.denom_id for rec, _ in ok]
    total = 4
    report(progress, "plots", "drawing ROC curves", 0, total)
    m = evaluation.metrics
    try:
        curves: dict[str, tuple[np.ndarray, np.ndarray]] = {"all notes": (labels, scores)}
        for name, members in (groups or {}).items():
            member_set = set(members)
            sel = np.array([d in member_set for d in denoms], dtype=bool)
            if sel.any():
                curves[f"{name} denominations"] = (labels[sel], scores[sel])
        points = {}
        fa = m.get("false_alarms_per_10k")
        catch = m.get("catch_rate_at_model_thresholds")
        if fa is not None and catch is not None and math.isfinite(fa) and math.isfinite(catch):
            points["model thresholds"] = (fa / 10000.0, catch)
        written["roc"] = plots.plot_roc(curves, out / "roc.png", operating_points=points)
        if evaluation.per_method:
            method_curves = {}
            for method in evaluation.per_method:
                is_method = np.array([(not rec.is_genuine) and (rec.method or "(unnamed)") == method for rec, _ in ok])
                sel = (labels == 0) | is_method
                method_curves[method] = (labels[sel], scores[sel])
            written["roc_methods"] = plots.plot_roc(
                method_curves, out / "roc_methods.png", title="Counterfeit detection by counterfeit method"
            )
    except (BanknoteGuardError, ValueError, OSError) as exc:
        evaluation.warnings.append(f"ROC plot not drawn: {exc}")
    check_cancel(cancel)
    report(progress, "plots", "drawing score histogram", 1, total)
    try:
        thresholds = {}
        for _, suffix in FARS:
            thr = m.get(f"threshold_at_{suffix}_far")
            if thr is not None and math.isfinite(thr):
                thresholds[f"threshold at {suffix.replace('pct', '%')} false alarms"] = thr
        written["scores"] = plots.plot_scores(
            scores[labels == 0], scores[labels == 1], out / "scores.png", thresholds=thresholds
        )
        conf = evaluation.confusion
        if conf.get("labels"):
            written["confusion"] = plots.plot_confusion(
                np.array(conf["matrix"]), conf["labels"], out / "confusion.png",
                title="Denomination of genuine notes",
            )
    except (BanknoteGuardError, ValueError, OSError) as exc:
        evaluation.warnings.append(f"score or confusion plot not drawn: {exc}")
    check_cancel(cancel)
    if model is not None and ok:
        report(progress, "plots", "embedding notes for the map", 2, total)
        try:
            subset = _map_subset([rec for rec, _ in ok])
            known = embeddings or {}
            have = [i for i in subset if _path_key(ok[i][0].path) in known]
            missing = [i for i in subset if _path_key(ok[i][0].path) not in known]
            vectors = [known[_path_key(ok[i][0].path)] for i in have]
            chosen = list(have)
            if missing:
                emb_more, good = embed_paths(model, [str(ok[i][0].path) for i in missing], cancel=cancel)
                vectors += list(emb_more)
                chosen += [missing[j] for j in good]
            emb = np.array(vectors, dtype=np.float32)
            highlight = [name for name in (groups or {}) if name.lower().startswith(("enrol", "held"))]
            enrolled = sorted({d for name in highlight for d in (groups or {})[name]})
            written["embeddings"] = plots.plot_embeddings(
                emb,
                [ok[i][0].denom_id for i in chosen],
                [not ok[i][0].is_genuine for i in chosen],
                out / "embeddings.png",
                centroids=_centroids(model),
                highlight=enrolled,
                title=f"Embeddings of {len(chosen)} notes (PCA to 2-D) and the centres of genuine notes",
            )
        except (BanknoteGuardError, ValueError, OSError, ImportError, AttributeError) as exc:
            evaluation.warnings.append(f"embedding map not drawn: {exc}")
    report(progress, "plots", "plots written", total, total)
    return written
