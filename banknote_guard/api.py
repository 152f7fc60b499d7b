"""The engine's front door: what the CLI and the GUI call.

Every long function takes ``progress`` (a :data:`~banknote_guard.progress.ProgressCallback`) and
``cancel`` (a :class:`~banknote_guard.progress.CancelToken`) and raises only
:class:`~banknote_guard.errors.BanknoteGuardError` subclasses for problems a person can fix.
This module imports no Qt. Each function forwards to the module that implements it (imported lazily,
so that ``import banknote_guard.api`` stays cheap); the home module's docstring is the reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from banknote_guard.progress import CancelToken, ProgressCallback

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    import numpy as np

    from banknote_guard.data.dataset import DatasetReport
    from banknote_guard.data.records import Dataset
    from banknote_guard.data.rectify import RectifiedNote
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.synth.generator import SynthOptions, SynthSummary
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.verify.demo import DemoSummary
    from banknote_guard.verify.enroll import EnrollReport
    from banknote_guard.verify.evaluate import EvaluationReport
    from banknote_guard.verify.pipeline import TrainOutcome
    from banknote_guard.verify.result import VerificationResult

PathLike = str | Path

# --- data -------------------------------------------------------------------------------------


def load_image(path: PathLike) -> "np.ndarray":
    """Read an image file as (H, W, 3) uint8 RGB; raises ImageLoadError with the reason."""
    from banknote_guard.data.imageio import load_image as _f

    return _f(path)


def rectify(rgb: "np.ndarray") -> "RectifiedNote":
    """Find the note in a photo or scan and warp it upright (falls back to the whole image)."""
    from banknote_guard.data.rectify import rectify_note as _f

    return _f(rgb)


def discover_dataset(root: PathLike) -> "Dataset":
    """List a dataset's images; raises DatasetLayoutError for a folder that breaks the layout."""
    from banknote_guard.data.dataset import discover_dataset as _f

    return _f(root)


def inspect_dataset(
    root: PathLike, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> "DatasetReport":
    """Counts, image sizes and warnings per denomination (reads every image once)."""
    from banknote_guard.data.dataset import inspect_dataset as _f

    return _f(root, progress=progress, cancel=cancel)


# --- synthetic data -----------------------------------------------------------------------------


def generate_synthetic(
    out: PathLike,
    options: "SynthOptions | None" = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> "SynthSummary":
    """Write a synthetic dataset (fictional currencies) in the DESIGN.md §4 layout plus manifest.csv."""
    from banknote_guard.synth.generator import generate_dataset as _f

    return _f(out, options, progress=progress, cancel=cancel)


# --- training, model files ------------------------------------------------------------------------


def train_model(
    dataset_root: PathLike,
    out_path: PathLike,
    config: "TrainConfig | None" = None,
    *,
    false_alarm_rate: float = 0.01,
    svm_kernel: str = "rbf",
    resume: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> "TrainOutcome":
    """Train the network, fit the gallery, SVMs and thresholds, evaluate on held-out notes, save."""
    from banknote_guard.verify.pipeline import train_model as _f

    return _f(
        dataset_root,
        out_path,
        config,
        false_alarm_rate=false_alarm_rate,
        svm_kernel=svm_kernel,
        resume=resume,
        progress=progress,
        cancel=cancel,
    )


def load_model(path: PathLike) -> "ModelBundle":
    """Open a model file without executing anything from it; raises ModelFileError."""
    from banknote_guard.verify.bundle import ModelBundle

    return ModelBundle.load(path)


def demo_model_path() -> Path:
    """The bundled demo model (assets/demo_model.bgm)."""
    from banknote_guard.resources import demo_model_path as _f

    return _f()


def sample_notes_dir() -> Path:
    """The bundled sample note images (assets/sample_notes/)."""
    from banknote_guard.resources import sample_notes_dir as _f

    return _f()


def available_backbones() -> list[tuple[str, str]]:
    """(name, one-line description) of every backbone the model factory offers (training forms)."""
    from banknote_guard.model.backbones import BACKBONES

    return [(name, spec.description) for name, spec in BACKBONES.items()]


# --- enrollment, verification, evaluation ----------------------------------------------------------


def enroll(
    model: "ModelBundle",
    dataset_root: PathLike,
    *,
    denominations: Iterable[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> "EnrollReport":
    """Add or refresh denominations from genuine images, without retraining. Updates ``model`` in place."""
    from banknote_guard.verify.enroll import enroll_dataset as _f

    return _f(model, dataset_root, denominations=denominations, progress=progress, cancel=cancel)


def enroll_folder(
    model: "ModelBundle",
    currency: str,
    denomination: str,
    folder: PathLike,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> "EnrollReport":
    """Enroll one denomination from a folder of a few genuine images."""
    from banknote_guard.verify.enroll import enroll_folder as _f

    return _f(model, currency, denomination, folder, progress=progress, cancel=cancel)


def verify_paths(
    model: "ModelBundle",
    paths: Iterable[PathLike],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> "list[VerificationResult]":
    """Verify files, folders (recursive) and globs; a bad image gives an error result, the rest go on."""
    from banknote_guard.verify.verifier import verify_paths as _f

    return _f(model, paths, progress=progress, cancel=cancel)


def verify_image(model: "ModelBundle", rgb: "np.ndarray", name: str = "image") -> "VerificationResult":
    """Verify one image already in memory (clipboard, camera frame)."""
    from banknote_guard.verify.verifier import verify_image as _f

    return _f(model, rgb, name)


def evaluate(
    model: "ModelBundle",
    dataset_root: PathLike,
    out_dir: PathLike | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> "EvaluationReport":
    """ROC AUC, EER, catch rates, confusion matrix...; writes JSON and PNG plots when ``out_dir`` is set."""
    from banknote_guard.verify.evaluate import evaluate as _f

    return _f(model, dataset_root, out_dir, progress=progress, cancel=cancel)


def run_demo(
    out_dir: PathLike,
    *,
    quick: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> "DemoSummary":
    """The whole pipeline on generated data: synth, train, enroll unseen denominations, verify, evaluate."""
    from banknote_guard.verify.demo import run_demo as _f

    return _f(out_dir, quick=quick, progress=progress, cancel=cancel)
