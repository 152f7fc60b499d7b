"""The whole pipeline on generated data, headless: ``banknote-guard demo``.

Steps (progress stages in brackets):

1. [synth] Generate a synthetic dataset of fictional currencies into ``OUT/data``.
2. Split it by files, without copying (hard links where the file system allows): per currency one
   denomination is *held out* (the network never sees it); of the others a share of the genuine notes
   and of the counterfeits (spread over all methods) is kept back as the *test* split.
   ``OUT/views/train`` holds the training notes, ``OUT/views/enroll`` five genuine notes of each
   held-out denomination, ``OUT/views/test`` the test notes of all denominations (the held-out ones
   minus their five enrollment notes). Each view has its own ``manifest.csv``.
3. [train] Train a model on ``views/train``.
4. [enroll] Enroll the held-out denominations from their five genuine notes each (no retraining) and
   save the model to ``OUT/model.bgm``.
5. [verify] Verify every test note.
6. [evaluate] Measure (AUC, EER, catch rates, false alarms, denomination accuracy, overall and for the
   "trained" and "enrolled" denominations separately) and write ``results.json`` (the ``verify
   --json`` format), ``evaluation.json``, ``roc.png``, ``embeddings.png`` and ``summary.txt``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from banknote_guard.errors import ParameterError
from banknote_guard.fileio import atomic_write_text
from banknote_guard.jsonable import to_jsonable
from banknote_guard.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    check_cancel,
    report,
)

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.data.records import Dataset, ImageRecord
    from banknote_guard.evaluation.evaluate import EvaluationReport
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.synth.generator import SynthOptions
    from banknote_guard.verify.bundle import ModelBundle

__all__ = [
    "DemoPlan",
    "DemoSummary",
    "PipelineRun",
    "choose_held_out",
    "demo_plan",
    "enroll_and_evaluate",
    "run_demo",
    "split_dataset",
    "train_enroll_evaluate",
    "write_view",
]

#: Genuine images used to enroll each held-out denomination.
ENROLL_SHOTS = 5
MANIFEST = "manifest.csv"
#: File that marks a folder as a view written by :func:`write_view` (so it may be replaced).
VIEW_MARKER = ".banknote_guard_view"


@dataclass
class DemoPlan:
    """What the demo generates and how it trains.

    Attributes:
        synth: options of the synthetic generator.
        train: training configuration.
        held_out_per_currency: denominations per currency never shown to the network (enrolled later).
        test_fraction: share of each trained denomination's genuine notes and counterfeits kept for testing.
        enroll_shots: genuine images used to enroll each held-out denomination.
    """

    synth: "SynthOptions"
    train: "TrainConfig"
    held_out_per_currency: int = 1
    test_fraction: float = 0.3
    enroll_shots: int = ENROLL_SHOTS


def demo_plan(quick: bool = False, difficulty: str | None = None) -> DemoPlan:
    """The demo's settings: ``quick`` is a tiny run for tests (well under a minute on 2 cores).

    The default takes about 12 minutes on two CPU cores, most of it training: 3 currencies x 4
    denominations (one held out per currency), the generator's "hard" setting, the product's default
    network and training schedule (``TrainConfig()``).
    """
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.synth.generator import SynthOptions

    if quick:
        synth = SynthOptions(
            currencies=2,
            denominations_per_currency=3,
            genuine_per_denomination=14,
            counterfeit_per_denomination=6,
            difficulty=difficulty or "normal",
            seed=7,
            note_width=320,
            jobs=1,
            contact_sheet=False,
        )
        train = TrainConfig(
            model=ModelConfig(backbone="small_cnn", embedding_dim=32, image_height=48, image_width=96),
            pretrained=False,
            steps_per_epoch=0,
            epochs=2,
            classes_per_batch=4,
            images_per_class=4,
            patience=2,
            seed=0,
        )
        return DemoPlan(synth=synth, train=train, held_out_per_currency=1, test_fraction=0.3)
    synth = SynthOptions(
        currencies=3,
        denominations_per_currency=4,
        genuine_per_denomination=40,
        counterfeit_per_denomination=21,
        difficulty=difficulty or "hard",
        seed=7,
        note_width=480,
        contact_sheet=False,
    )
    train = TrainConfig(seed=0)
    return DemoPlan(synth=synth, train=train, held_out_per_currency=1, test_fraction=0.3)


# --- splitting a dataset into views ------------------------------------------------------------------


def _stable_key(record: "ImageRecord") -> str:
    return record.path.name


def _spread_over_sides(members: list["ImageRecord"], n: int) -> list["ImageRecord"]:
    """``n`` of ``members`` taken in turn from each side of the note (as an operator enrolls: both sides).

    Files sorted by name put every back before every front; the first ``n`` would all show one side,
    and a denomination enrolled from its backs alone calls each of its fronts suspect.
    """
    by_side: dict[str, list["ImageRecord"]] = {}
    for r in members:
        by_side.setdefault(r.side or "", []).append(r)
    queues = [list(v) for _, v in sorted(by_side.items())]
    out: list["ImageRecord"] = []
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                out.append(q.pop(0))
    return out


def split_dataset(
    dataset: "Dataset",
    *,
    held_out: Sequence[str],
    test_fraction: float,
    enroll_shots: int = ENROLL_SHOTS,
) -> dict[str, list["ImageRecord"]]:
    """Split a dataset's records into "train", "enroll" and "test" lists (deterministic).

    Args:
        dataset: the full dataset.
        held_out: denomination ids the network must never see.
        test_fraction: share of the genuine notes and of the counterfeits of each trained
            denomination kept for "test" (at least one of two or more), spread evenly over methods.
        enroll_shots: genuine images of each held-out denomination put in "enroll".

    Returns:
        ``{"train": [...], "enroll": [...], "test": [...]}``; held-out denominations contribute
        ``enroll_shots`` genuine images to "enroll" (alternating between the note's sides when the
        manifest says them) and everything else to "test".
    """
    held = set(held_out)
    groups: dict[tuple[str, str], list[ImageRecord]] = {}
    for r in dataset.records:
        groups.setdefault((r.denom_id, r.label), []).append(r)
    out: dict[str, list[ImageRecord]] = {"train": [], "enroll": [], "test": []}
    for (denom, label), members in sorted(groups.items()):
        if denom in held:
            members = sorted(members, key=_stable_key)
            if label == "genuine":
                shots = _spread_over_sides(members, enroll_shots)
                out["enroll"] += shots
                out["test"] += [r for r in members if r not in shots]
            else:
                out["test"] += members
            continue
        # Sorted by method first, then every k-th image goes to test: the test split spans every
        # method (and side) of the group in proportion.
        members = sorted(members, key=lambda r: (r.method or "", r.side or "", _stable_key(r)))
        n_test = 0 if len(members) < 2 else max(1, int(round(len(members) * test_fraction)))
        step = len(members) / n_test if n_test else 0
        test_idx = {int(i * step + step / 2) for i in range(n_test)}
        for i, r in enumerate(members):
            (out["test"] if i in test_idx else out["train"]).append(r)
    return out


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        dst.unlink()
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_view(dataset: "Dataset", records: Sequence["ImageRecord"], view_root: str | Path) -> Path:
    """Write a dataset view holding only ``records`` (hard links, or copies where links fail).

    An earlier view at ``view_root`` is replaced; any other existing folder is refused. The files keep their
    path relative to the dataset root, and the rows of the dataset's ``manifest.csv`` that name them are
    copied into the view's own manifest.

    Returns:
        ``view_root``.
    """
    root = Path(dataset.root)
    view = Path(view_root)
    if view.exists():
        if not (view / VIEW_MARKER).is_file():
            raise ParameterError(
                f"The folder {str(view)!r} already exists and is not a dataset view written earlier; "
                "choose another output folder."
            )
        shutil.rmtree(view)
    view.mkdir(parents=True)
    (view / VIEW_MARKER).write_text(f"A view of {root} (files are links to it).\n", encoding="utf-8")
    rel_paths = set()
    for r in records:
        rel = Path(r.path).resolve().relative_to(root.resolve())
        _link_or_copy(Path(r.path), view / rel)
        rel_paths.add(rel.as_posix())
    manifest = root / MANIFEST
    if manifest.is_file():
        with open(manifest, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            rows = [row for row in reader if any(_as_rel(v) in rel_paths for v in row)]
        with open(view / MANIFEST, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            if header:
                writer.writerow(header)
            writer.writerows(rows)
    return view


def _as_rel(value: str) -> str:
    return value.replace("\\", "/").lstrip("./") if value else value


def choose_held_out(denominations: Sequence[str], per_currency: int) -> list[str]:
    """The ``per_currency`` highest denominations of each currency, keeping at least one per currency for training."""

    def value(d: str) -> tuple[float, str]:
        den = d.split("/", 1)[1]
        try:
            return float(den), den
        except ValueError:
            return math.inf, den

    by_currency: dict[str, list[str]] = {}
    for d in denominations:
        by_currency.setdefault(d.split("/", 1)[0], []).append(d)
    held: list[str] = []
    for cur in sorted(by_currency):
        ds = sorted(by_currency[cur], key=value)
        n = min(per_currency, len(ds) - 1)  # always keep at least one trained denomination per currency
        if n > 0:
            held += ds[len(ds) - n :]
    return held


# --- the demo -------------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    """What the demo did and measured.

    Attributes:
        out_dir: the folder holding everything the demo wrote.
        model_path: the trained (and enrolled) model.
        metrics: overall figures of the test split (see :class:`~banknote_guard.evaluation.evaluate.EvaluationReport`)
            plus ``"trained"`` and ``"enrolled"`` (the same figures for those denominations) and
            ``"per_method"``.
        files: name -> written file (model, results, evaluation, roc, embeddings, summary, ...).
        seconds: wall time of the whole demo.
        stage_seconds: wall time of each stage.
        trained_denominations: denominations the network was trained on.
        enrolled_denominations: denominations enrolled from a few images after training.
    """

    out_dir: Path
    model_path: Path
    metrics: dict[str, Any]
    files: dict[str, Path]
    seconds: float
    stage_seconds: dict[str, float] = field(default_factory=dict)
    trained_denominations: list[str] = field(default_factory=list)
    enrolled_denominations: list[str] = field(default_factory=list)
    evaluation_text: str = ""

    def format_text(self) -> str:
        """A readable summary of the run and its figures."""
        stages = ", ".join(f"{k} {v:.0f} s" for k, v in self.stage_seconds.items())
        lines = [
            f"Demo finished in {self.seconds:.0f} s ({stages}).",
            f"Trained on {len(self.trained_denominations)} denominations: {', '.join(self.trained_denominations)}",
            f"Enrolled from {ENROLL_SHOTS} images each, never seen in training: "
            f"{', '.join(self.enrolled_denominations) or 'none'}",
            "",
            self.evaluation_text,
            "",
            f"Model: {self.model_path}",
            f"Everything is in {self.out_dir}",
        ]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """JSON-able form."""
        return to_jsonable(
            {
                "out_dir": str(self.out_dir),
                "model_path": str(self.model_path),
                "seconds": self.seconds,
                "stage_seconds": self.stage_seconds,
                "trained_denominations": self.trained_denominations,
                "enrolled_denominations": self.enrolled_denominations,
                "metrics": self.metrics,
                "files": {k: str(v) for k, v in self.files.items()},
            }
        )


class _Stage:
    """Forwards inner progress under one demo stage name, remembering the original stage in the message."""

    def __init__(self, progress: ProgressCallback | None, stage: str) -> None:
        self.progress = progress
        self.stage = stage

    def __call__(self, p: Progress) -> None:
        if self.progress is None:
            return
        stage = self.stage
        if self.stage == "evaluate" and p.stage not in ("plots", "evaluate"):
            stage = "verify"  # evaluation first verifies every test note
        self.progress(Progress(stage, p.message, p.done, p.total, p.eta_s, dict(p.metrics)))


@dataclass
class PipelineRun:
    """What :func:`train_enroll_evaluate` produced."""

    model_path: Path
    evaluation: "EvaluationReport"
    metrics: dict[str, Any]
    files: dict[str, Path]
    stage_seconds: dict[str, float]


def train_enroll_evaluate(
    train_view: Path,
    enroll_view: Path | None,
    test_view: Path,
    out: Path,
    config: "TrainConfig",
    *,
    trained: Sequence[str],
    held_out: Sequence[str],
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> PipelineRun:
    """Train on ``train_view``, enroll ``held_out`` from ``enroll_view``, evaluate on ``test_view``.

    Writes ``out/model.bgm``, ``out/results.json`` (the ``verify --json`` format), ``out/evaluation.json``
    and the plots. Progress stages: "train", "enroll", "verify", "evaluate".

    Returns:
        The :class:`PipelineRun`; its ``metrics`` are the overall figures plus "trained", "enrolled"
        (figures of those denominations), "per_method" and "training".
    """
    from banknote_guard.workflows.training import train_model

    out.mkdir(parents=True, exist_ok=True)
    stage_seconds: dict[str, float] = {}

    t0 = time.monotonic()
    model_path = out / "model.bgm"
    outcome = train_model(train_view, model_path, config, progress=_Stage(progress, "train"), cancel=cancel)
    stage_seconds["train"] = time.monotonic() - t0
    check_cancel(cancel)

    run = enroll_and_evaluate(outcome.bundle, model_path, enroll_view, test_view, out, trained=trained,
                              held_out=held_out, progress=progress, cancel=cancel)
    run.stage_seconds = {**stage_seconds, **run.stage_seconds}
    training = {k: v for k, v in outcome.metrics.items() if isinstance(v, (int, float))}
    training["epochs"] = len(outcome.history)
    training["seconds"] = float(outcome.seconds)
    run.metrics["training"] = training
    return run


def enroll_and_evaluate(
    bundle: "ModelBundle",
    model_path: Path,
    enroll_view: Path | None,
    test_view: Path,
    out: Path,
    *,
    trained: Sequence[str],
    held_out: Sequence[str],
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> PipelineRun:
    """Enroll ``held_out`` from ``enroll_view`` into a trained model, save it to ``model_path`` and
    evaluate it on ``test_view`` (``out/results.json``, ``out/evaluation.json``, plots): the part of
    :func:`train_enroll_evaluate` after training, also used to evaluate a model rebuilt from a trained
    network. Its ``metrics`` are the overall figures plus "trained", "enrolled" and "per_method"."""
    from banknote_guard.evaluation.evaluate import evaluate
    from banknote_guard.verify.enroll import enroll_dataset

    stage_seconds: dict[str, float] = {}
    files: dict[str, Path] = {}
    t0 = time.monotonic()
    n_held = max(len(held_out), 1)
    report(progress, "enroll", f"enrolling {len(held_out)} unseen denominations", 0, n_held)
    if held_out and enroll_view is not None:
        enroll_dataset(
            bundle, enroll_view, denominations=list(held_out), progress=_Stage(progress, "enroll"), cancel=cancel
        )
    bundle.save(model_path)
    files["model"] = model_path
    stage_seconds["enroll"] = time.monotonic() - t0
    report(progress, "enroll", "enrolled", n_held, n_held)
    check_cancel(cancel)

    t0 = time.monotonic()
    groups = {"trained": list(trained), "enrolled": list(held_out)} if held_out else {"trained": list(trained)}
    evaluation = evaluate(bundle, test_view, out, groups=groups, progress=_Stage(progress, "evaluate"), cancel=cancel)
    stage_seconds["verify+evaluate"] = time.monotonic() - t0
    results_path = out / "results.json"
    atomic_write_text(
        results_path,
        json.dumps({"model": to_jsonable(bundle.describe()), "results": [r.to_json() for r in evaluation.results]}, indent=2),
    )
    files["results"] = results_path
    files.update(evaluation.files)
    files.update(evaluation.plots)

    metrics: dict[str, Any] = dict(evaluation.metrics)
    for name, block in evaluation.per_group.items():
        metrics[name] = block
    metrics["per_method"] = evaluation.per_method
    return PipelineRun(model_path, evaluation, metrics, files, stage_seconds)


def run_demo(
    out_dir: str | Path,
    *,
    quick: bool = False,
    plan: DemoPlan | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> DemoSummary:
    """Generate data, train, enroll unseen denominations from 5 images, verify a test split, evaluate.

    Args:
        out_dir: folder for everything the demo writes (created; earlier demo files are replaced).
        quick: a tiny run (for tests and a first look), well under a minute.
        plan: settings overriding ``quick`` (see :func:`demo_plan`).
        progress: callback; stages "synth", "train", "enroll", "verify", "evaluate".
        cancel: cancel token, honoured inside every stage.

    Returns:
        The :class:`DemoSummary`.
    """
    from banknote_guard.model.requirements import require_torch

    require_torch("The full demo (it trains a model)")
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.synth.generator import generate_dataset

    started = time.monotonic()
    plan = plan or demo_plan(quick)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage_seconds: dict[str, float] = {}
    files: dict[str, Path] = {}

    # 1. synthetic data
    t0 = time.monotonic()
    report(progress, "synth", "generating synthetic notes", 0, None)
    data_root = out / "data"  # the generator replaces an earlier synthetic set and refuses anything else
    generate_dataset(data_root, plan.synth, progress=_Stage(progress, "synth"), cancel=cancel)
    dataset = discover_dataset(data_root)
    held_out = choose_held_out(dataset.denominations, plan.held_out_per_currency)
    trained = [d for d in dataset.denominations if d not in held_out]
    parts = split_dataset(dataset, held_out=held_out, test_fraction=plan.test_fraction, enroll_shots=plan.enroll_shots)
    views = {name: write_view(dataset, recs, out / "views" / name) for name, recs in parts.items() if recs}
    files["data"] = data_root
    stage_seconds["synth"] = time.monotonic() - t0
    report(progress, "synth", f"{len(dataset)} images; held out {', '.join(held_out) or 'none'}", 1, 1)
    check_cancel(cancel)

    # 2-5. train, enroll, verify, evaluate
    run = train_enroll_evaluate(
        views["train"], views.get("enroll"), views["test"], out, plan.train,
        trained=trained, held_out=held_out, progress=progress, cancel=cancel,
    )
    stage_seconds.update(run.stage_seconds)
    files.update(run.files)
    model_path = run.model_path
    metrics = run.metrics
    summary = DemoSummary(
        out_dir=out,
        model_path=model_path,
        metrics=metrics,
        files=files,
        seconds=time.monotonic() - started,
        stage_seconds=stage_seconds,
        trained_denominations=trained,
        enrolled_denominations=held_out,
        evaluation_text=run.evaluation.format_text(),
    )
    summary_path = out / "summary.txt"
    summary.files["summary"] = summary_path
    atomic_write_text(summary_path, summary.format_text() + "\n")
    atomic_write_text(out / "demo.json", json.dumps(summary.to_json(), indent=2))
    summary.files["demo"] = out / "demo.json"
    report(progress, "evaluate", f"demo finished in {summary.seconds:.0f} s", 1, 1)
    return summary
