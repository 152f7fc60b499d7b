"""Training a complete model: network, gallery, SVMs, thresholds, quick metrics, model file.

``train_model(dataset_root, out_path)``:

1. ``train``: discover the dataset and train the embedding network
   (:func:`banknote_guard.model.trainer.train`, checkpoint beside the model file as ``<out>.ckpt``);
2. ``gallery``: embed the training and validation notes; centroids from the training genuine notes,
   spreads from the held-out (validation) genuine notes where a denomination has at least 5 of them,
   one-vs-rest SVMs on (a capped subset of) the training genuine embeddings;
3. ``calibrate``: thresholds at the chosen false-alarm rate from the validation genuine notes; the
   unknown threshold from every known note; thresholds for later k-shot enrollment, simulated on the
   validation genuine notes (:mod:`~banknote_guard.verify.calibration`);
4. quick metrics on the validation notes (counterfeit-vs-genuine ROC AUC, catch rate at the model's
   thresholds and at the FAR, false-alarm rate, denomination accuracy); the false-alarm rate is measured
   on the notes the thresholds were calibrated on, so it is optimistic; ``banknote-guard evaluate`` on
   a separate set gives honest figures;
5. ``save``: the :class:`~banknote_guard.verify.bundle.ModelBundle`, written atomically.

Cancelling during training keeps the best weights so far: the model is still built and saved, with
``summary["cancelled"] = True``. Cancelling before the first epoch ends raises CancelledError.

Under ``torchrun`` (several processes), every process trains (DistributedDataParallel, see
:mod:`~banknote_guard.model.distributed`) and only rank 0 builds the gallery, calibrates and writes the
model; the other processes return a :class:`TrainOutcome` without a bundle. The summary records
how the model was computed: ``world_size``, ``devices`` and ``hardware`` (backend, precision, loader
workers, mining scope).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from banknote_guard import __version__
from banknote_guard.errors import ParameterError
from banknote_guard.progress import CancelToken, ProgressCallback, report
from banknote_guard.verify.bundle import ModelBundle, now_iso, round_to_storage
from banknote_guard.verify.calibration import (
    CalibrationConfig,
    ambiguity,
    calibrate,
    calibrate_margin,
    calibration_warnings,
    kshot_thresholds,
)
from banknote_guard.verify.gallery import Gallery
from banknote_guard.verify.not_a_note import fit_gate
from banknote_guard.verify.svm import OneVsRestSVM

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.data.records import ImageRecord
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.model.devices import TrainRuntime

log = logging.getLogger(__name__)

#: Fewest held-out genuine notes for a denomination's spread to be measured on them.
MIN_HELDOUT_FOR_SPREAD = 5


@dataclass
class TrainOutcome:
    """What :func:`train_model` produced.

    Attributes:
        bundle: the model (already saved to ``model_path``); None on the processes other than rank 0
            of a distributed run (rank 0 writes the model).
        model_path: where it was saved.
        history: per-epoch training figures from the trainer.
        metrics: quick validation figures (see the module docstring); None where undefined.
        cancelled: True when training was cancelled (the model holds the best weights so far).
        seconds: wall time of the whole run.
        rank: this process's rank in a distributed run (0 otherwise).
        hardware: world size, backend, devices, precision, loader workers, mining scope.
    """

    bundle: ModelBundle | None
    model_path: Path
    history: list[dict[str, float]] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    cancelled: bool = False
    seconds: float = 0.0
    rank: int = 0
    hardware: dict[str, Any] = field(default_factory=dict)


def checkpoint_path_for(out_path: str | Path) -> Path:
    """Where the training checkpoint of a model file lives (``<model>.ckpt``)."""
    out_path = Path(out_path)
    return out_path.with_name(out_path.name + ".ckpt")


def train_model(
    dataset_root: str | Path,
    out_path: str | Path,
    config: "TrainConfig | None" = None,
    *,
    calibration: CalibrationConfig | None = None,
    resume: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    runtime: "TrainRuntime | None" = None,
) -> TrainOutcome:
    """Train the network, fit the gallery, SVMs and thresholds, evaluate on held-out notes, save.

    Args:
        dataset_root: a folder in the DESIGN.md §4 layout.
        out_path: the model file to write (``.bgm``).
        config: training settings (default: :class:`~banknote_guard.model.config.TrainConfig()`).
        calibration: false-alarm rate and SVM settings (default: :class:`CalibrationConfig()`, 1 %).
        resume: continue an interrupted training from ``<out_path>.ckpt``.
        progress: receives "prepare"/"train" reports from the trainer, then "gallery", "calibrate", "save".
        cancel: stops training (the best weights so far are kept and saved).
        runtime: device, precision, loader workers and mining scope
            (:class:`~banknote_guard.model.devices.TrainRuntime`; default: a CUDA GPU when present).
            Under torchrun the processes join one DistributedDataParallel run.
    """
    from banknote_guard.model.requirements import require_torch

    require_torch("Training")
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.model.devices import TrainRuntime
    from banknote_guard.model.distributed import distributed_session
    from banknote_guard.model.trainer import train

    started = time.monotonic()
    calibration = calibration or CalibrationConfig()
    out_path = Path(out_path)
    if out_path.is_dir():
        raise ParameterError(f"The model path {str(out_path)!r} is a folder; give a file name such as model.bgm.")
    config = config or TrainConfig()
    runtime = runtime or TrainRuntime()
    runtime.check()
    dataset = discover_dataset(dataset_root)
    with distributed_session(runtime.device) as dist:
        result = train(
            dataset, config, checkpoint_path=checkpoint_path_for(out_path), resume=resume,
            progress=progress if dist.is_main else None, cancel=cancel, runtime=runtime, dist=dist,
        )
    if result.rank != 0:  # rank 0 builds and writes the model
        return TrainOutcome(
            bundle=None, model_path=out_path, history=list(result.history), cancelled=bool(result.cancelled),
            seconds=time.monotonic() - started, rank=result.rank, hardware=result.hardware,
        )
    # From here on the work is short and is not cancelled: a cancelled training still yields a model.
    bundle, metrics = build_bundle(
        result.net,
        result.model_config,
        result.train_config,
        result.train_records,
        result.val_records,
        calibration=calibration,
        progress=progress,
        train_images=result.train_images,
        val_images=result.val_images,
        device=str(dist.device),
    )
    genuine = {d: len(dataset.genuine(d)) for d in dataset.denominations}
    counterfeit = {d: len(dataset.counterfeit(d)) for d in dataset.denominations}
    bundle.summary.update(
        {
            "history": result.history,
            "best_epoch": result.best_epoch,
            "epochs_trained": len(result.history),
            "stopped_early": bool(result.stopped_early),
            "cancelled": bool(result.cancelled),
            "train_seconds": float(result.seconds),
            "images_per_second": float(result.images_per_second),
            "world_size": int(result.hardware.get("world_size", 1)),
            "devices": list(result.hardware.get("devices", [])),
            "hardware": result.hardware,
            "dataset": {
                "root": str(Path(dataset_root)),
                "images": len(dataset),
                "genuine": genuine,
                "counterfeit": counterfeit,
                "train_images": len(result.train_records),
                "val_images": len(result.val_records),
                "unreadable": len(result.failures),
            },
        }
    )
    report(progress, "save", f"Saving {out_path.name}", done=0, total=1)
    bundle.summary["seconds"] = time.monotonic() - started
    bundle.save(out_path)
    report(progress, "save", f"Saved {out_path}", done=1, total=1)
    return TrainOutcome(
        bundle=bundle,
        model_path=out_path,
        history=list(result.history),
        metrics=metrics,
        cancelled=bool(result.cancelled),
        seconds=time.monotonic() - started,
        hardware=result.hardware,
    )


def _embed_records(
    embedder: Any, config: "ModelConfig", records: Sequence["ImageRecord"], images: Any, progress: ProgressCallback | None
) -> tuple[np.ndarray, list["ImageRecord"], list[np.ndarray]]:
    """Embeddings of records (reading their images unless given), the records and their prepared
    images; unreadable ones are dropped."""
    from banknote_guard.model.embedder import prepare_paths

    records = list(records)
    if images is None or len(images) != len(records):
        prepared, _ = prepare_paths([r.path for r in records], config, progress=progress, stage="gallery")
        kept = [(r, im) for r, im in zip(records, prepared) if im is not None]
        records = [r for r, _ in kept]
        images = [im for _, im in kept]
    if not records:
        return np.zeros((0, config.embedding_dim), dtype=np.float32), [], []
    return embedder.embed(images), records, list(images)


def build_bundle(
    net: Any,
    model_config: "ModelConfig",
    train_config: "TrainConfig",
    train_records: Sequence["ImageRecord"],
    val_records: Sequence["ImageRecord"],
    *,
    calibration: CalibrationConfig | None = None,
    progress: ProgressCallback | None = None,
    train_images: Any = None,
    val_images: Any = None,
    device: str | None = None,
) -> tuple[ModelBundle, dict[str, Any]]:
    """Fit gallery, SVMs and thresholds for a trained network; returns the bundle and quick metrics.

    Args:
        net: the trained :class:`~banknote_guard.model.network.EmbeddingNet`.
        model_config, train_config: its settings.
        train_records: notes the gallery and SVMs are fitted on (their genuine ones).
        val_records: held-out notes for spreads, thresholds and metrics.
        calibration: false-alarm rate, SVM kernel and the notes the SVMs are fitted on ("train": the
            gallery's genuine notes, "val": the held-out genuine notes).
        progress: receives "gallery" and "calibrate" reports.
        train_images, val_images: already prepared images of the records (skips reading them again).
        device: where the notes are embedded (default: the process's inference device).
    """
    from banknote_guard.model.embedder import Embedder
    from banknote_guard.verify.verifier import score_embeddings

    calibration_config = calibration or CalibrationConfig()
    far, svm_kernel = calibration_config.false_alarm_rate, calibration_config.svm_kernel
    net.eval()
    round_to_storage(net)  # calibrate exactly the weights the model file will hold (float16 kernels)
    embedder = Embedder(net, model_config, device=device)
    report(progress, "gallery", "Embedding training notes", done=0, total=2)
    tr_emb, tr_rec, tr_img = _embed_records(embedder, model_config, train_records, train_images, progress)
    report(progress, "gallery", "Embedding validation notes", done=1, total=2)
    va_emb, va_rec, va_img = _embed_records(embedder, model_config, val_records, val_images, progress)
    tr_gen = np.array([r.is_genuine for r in tr_rec], dtype=bool)
    va_gen = np.array([r.is_genuine for r in va_rec], dtype=bool)
    if not tr_gen.any():
        raise ParameterError("No readable genuine training images: the gallery cannot be built.")
    gallery = Gallery(distance=model_config.distance).fit(tr_emb[tr_gen], [r.denom_id for r in tr_rec if r.is_genuine])
    va_gen_ids = [r.denom_id for r in va_rec if r.is_genuine]
    gallery.set_heldout_spreads(va_emb[va_gen], va_gen_ids, min_count=MIN_HELDOUT_FOR_SPREAD)
    svm_x = gallery.reference_embeddings_
    svm_y = [gallery.classes_[i] for i in gallery.reference_labels_]
    svm_source = "train"
    if calibration_config.svm_data == "val":
        if len(set(va_gen_ids)) >= 2 and set(va_gen_ids) == set(gallery.classes_):
            svm_x, svm_y, svm_source = va_emb[va_gen], va_gen_ids, "val"
        else:
            log.warning("The held-out notes do not cover every denomination; the SVMs are fitted on the training notes.")
    svm = OneVsRestSVM(kernel=svm_kernel).fit(
        svm_x, svm_y, centroids=gallery.centroids_, spreads=gallery.spreads_, distance=gallery.distance
    )
    report(progress, "gallery", "Gallery and SVMs fitted", done=2, total=2)

    # The counterfeit head: the direction in the embedding along which the training counterfeits lie,
    # added to the distance score (verify/counterfeit_head.py); None without enough counterfeits.
    from banknote_guard.verify.counterfeit_head import fit_head

    head = fit_head(tr_emb, tr_gen, va_emb[va_gen] if va_gen.any() else None, seed=int(train_config.seed))
    va_plus = head.bonus(va_emb[va_gen]) if head is not None and va_gen.any() else np.zeros(int(va_gen.sum()))
    report(progress, "calibrate", f"Calibrating thresholds at {far:.1%} false alarms", done=0, total=1)
    genuine_scores = gallery.own_scores(va_emb[va_gen], va_gen_ids) + va_plus if va_gen.any() else np.zeros(0)
    all_emb = np.concatenate([tr_emb, va_emb]) if len(va_emb) else tr_emb
    known = gallery.scores(all_emb)[1]
    calibration = calibrate(gallery.classes_, genuine_scores, va_gen_ids, far, known_scores=known)
    if va_gen.any():
        calibration.kshot_thresholds, calibration.kshot_methods = kshot_thresholds(
            gallery, va_emb[va_gen], va_gen_ids, far, extra=va_plus
        )
    calibration.margin_threshold, calibration.margin_method = calibrate_margin(
        ambiguity(gallery.distances(va_emb[va_gen])) if va_gen.any() else np.zeros(0), len(gallery.classes_)
    )
    report(progress, "calibrate", "Thresholds calibrated", done=1, total=1)

    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    bundle = ModelBundle(
        model_config=model_config.to_dict(),
        train_config=train_config.to_dict(),
        state_dict=state,
        gallery=gallery,
        svm=svm,
        calibration=calibration,
        counterfeit_head=head,
        summary={
            "created": now_iso(), "app_version": __version__, "false_alarm_rate": far, "svm_kernel": svm_kernel,
            "svm_data": svm_source,
        },
    )
    if calibration_config.non_notes:
        report(progress, "calibrate", "Teaching the model what is not a note", done=0, total=1)
        held_out = va_emb[va_gen] if va_gen.any() else tr_emb[tr_gen]
        fakes = np.concatenate([tr_emb[~tr_gen], va_emb[~va_gen]]) if len(va_emb) else tr_emb[~tr_gen]
        fit_gate(bundle, held_out, counterfeit_embeddings=fakes, n=calibration_config.non_notes, embedder=embedder)
    # The print: a few genuine training pictures per denomination become its keypoint prototypes, which name
    # notes on real photos where the embedding alone misnames them (verify/keypoints.py).
    from banknote_guard.verify.keypoints import build_print

    report(progress, "calibrate", "Reading the print of genuine notes", done=0, total=1)
    build_print(bundle, [r for r in tr_rec if r.is_genuine])
    if va_gen.sum() >= MIN_HELDOUT_FOR_SPREAD:
        # Local evidence (regions of the straightened note against the genuine notes' same regions),
        # fused into the counterfeit score; thresholds recalibrated on the fused held-out scores.
        from banknote_guard.verify.local_evidence import build_local_evidence

        report(progress, "calibrate", "Measuring local evidence", done=0, total=1)
        build_local_evidence(
            bundle, [im for im, g in zip(tr_img, tr_gen) if g], [r.denom_id for r in tr_rec if r.is_genuine],
            [im for im, g in zip(va_img, va_gen) if g], va_gen_ids, va_emb[va_gen],
        )
        from banknote_guard.workflows.local_regions import name_synthetic_regions

        name_synthetic_regions(bundle)  # "security thread", "foil patch", ... where the layout is known
    metrics = quick_metrics(bundle, va_emb, va_rec, score_embeddings, images=va_img)
    bundle.summary["metrics"] = metrics
    warnings = calibration_warnings(bundle.calibration)
    if not (~va_gen).any():
        warnings.append(
            "Counterfeit detection was not measured: there were no counterfeit notes among the held-out "
            "notes (ROC AUC and catch rate are n/a). Add counterfeit images, or evaluate the model on a "
            "labelled test folder with 'banknote-guard evaluate'."
        )
    bundle.summary["warnings"] = warnings
    for line in warnings:
        log.warning(line)
    return bundle, metrics


def quick_metrics(
    bundle: ModelBundle, emb: np.ndarray, records: Sequence["ImageRecord"], score_fn: Any, *, images: Any = None
) -> dict[str, Any]:
    """Validation figures of a freshly built model (None where a figure is undefined); ``images``: the
    records' straightened notes (a model with local evidence needs them)."""
    from banknote_guard.evaluation import metrics as m

    out: dict[str, Any] = {
        "val_genuine": sum(r.is_genuine for r in records),
        "val_counterfeit": sum(not r.is_genuine for r in records),
        "auc": None, "eer": None, "catch_rate": None, "catch_rate_at_far": None,
        "false_alarm_rate": None, "denomination_accuracy": None, "svm_accuracy": None,
    }
    if not len(records):
        return out
    results = score_fn(bundle, emb, [str(r.path) for r in records], None, images)
    labels = np.array([0 if r.is_genuine else 1 for r in records])
    scores = np.array([r.counterfeit_score for r in results], dtype=np.float64)
    flagged = np.array([r.verdict != "genuine" for r in results])
    gen = labels == 0
    known = np.array([r.denom_id in bundle.gallery.classes_ for r in records])

    def clean(x: float) -> float | None:
        return None if x is None or not math.isfinite(x) else float(x)

    if gen.any() and (~gen).any():
        out["auc"] = clean(m.roc_auc(labels, scores))
        out["eer"] = clean(m.equal_error_rate(labels, scores))
        out["catch_rate_at_far"] = clean(m.catch_rate_at_far(labels, scores, bundle.calibration.false_alarm_rate)[0])
    if (~gen).any():
        out["catch_rate"] = float(flagged[~gen].mean())
    if gen.any():
        out["false_alarm_rate"] = float(flagged[gen].mean())
        out["uncertain_rate_genuine"] = float(np.mean([r.verdict == "uncertain" for r, g in zip(results, gen) if g]))
        sel = gen & known
        if sel.any():
            true = [r.denom_id for r, s in zip(records, sel) if s]
            out["denomination_accuracy"] = float(
                np.mean([res.denomination == t for res, t in zip([x for x, s in zip(results, sel) if s], true)])
            )
            svm_pred = bundle.svm.predict(emb[sel])
            out["svm_accuracy"] = float(np.mean([p == t for p, t in zip(svm_pred, true)]))
    return out
