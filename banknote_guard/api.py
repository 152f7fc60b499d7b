"""The engine's front door: everything the command line and the GUI use, in one place.

The commands (:mod:`banknote_guard.commands`) and the GUI (:mod:`banknote_guard.gui`) import the engine
only through this module (besides the shared leaf modules ``errors``, ``progress``, ``fileio`` and
``jsonable``); ``tests/test_architecture.py`` checks it. Each name below is the engine's own object,
re-exported and imported lazily on first use, so ``import banknote_guard.api`` stays cheap (no torch,
no Qt) and a signature exists once, in its home module, whose docstring is the reference.

Every long function takes ``progress`` (a :data:`~banknote_guard.progress.ProgressCallback`) and
``cancel`` (a :class:`~banknote_guard.progress.CancelToken`) and raises only
:class:`~banknote_guard.errors.BanknoteGuardError` subclasses for problems a person can fix.

Data
    ``load_image(path)``, ``rectify(rgb)``, ``discover_dataset(root)``, ``inspect_dataset(root)``,
    ``generate_synthetic(out, options)`` with ``SynthOptions``, ``SYNTH_DIFFICULTIES``.
Training
    ``train_model(dataset_root, out_path, config, calibration=...)`` with ``TrainConfig``,
    ``ModelConfig``, ``CalibrationConfig`` (``DEFAULT_FALSE_ALARM_RATE``, ``FALSE_ALARM_RANGE``,
    ``SVM_KERNELS``, ``SVM_DATA_CHOICES``), ``checkpoint_path_for(model_path)``, ``available_backbones()``.
Models
    ``load_model(path)`` -> ``ModelBundle``; ``demo_model_path()``, ``sample_notes_dir()``.
Enrollment
    ``enroll(model, dataset_root)``, ``enroll_folder(model, currency, denomination, folder)``.
Verification
    ``Verifier(model, threshold_scale=...)``, ``verify_paths(model, paths)``, ``verify_image(model, rgb)``
    -> ``VerificationResult``; ``rejudge(result, threshold_scale)`` (``THRESHOLD_SCALE_RANGE``,
    ``DEFAULT_THRESHOLD_SCALE``, ``check_threshold_scale``); ``summarise(results)`` -> ``BatchSummary``,
    ``denomination_value(denom_id)``.
Evaluation and demo
    ``evaluate(model, dataset_root, out_dir)`` -> ``EvaluationReport``; ``run_demo(out_dir, plan=...)``,
    ``demo_plan(quick, difficulty)``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - the same names, for type checkers and editors
    from banknote_guard.data.dataset import discover_dataset, inspect_dataset
    from banknote_guard.data.imageio import is_image_file, load_image
    from banknote_guard.data.rectify import rectify_note as rectify
    from banknote_guard.evaluation.evaluate import EvaluationReport, evaluate
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.synth.capture import DIFFICULTIES as SYNTH_DIFFICULTIES
    from banknote_guard.synth.generator import SynthOptions, SynthSummary
    from banknote_guard.synth.generator import generate_dataset as generate_synthetic
    from banknote_guard.reports.csv_export import results_csv, rows_csv, safe_cell
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.verify.calibration import (
        DEFAULT_FALSE_ALARM_RATE,
        FALSE_ALARM_RANGE,
        SVM_DATA_CHOICES,
        CalibrationConfig,
    )
    from banknote_guard.verify.enroll import EnrollReport, enroll_folder
    from banknote_guard.verify.enroll import enroll_dataset as enroll
    from banknote_guard.verify.result import VerificationResult
    from banknote_guard.verify.summary import (
        BatchSummary,
        denomination_value,
        summarise,
    )
    from banknote_guard.verify.svm import KERNELS as SVM_KERNELS
    from banknote_guard.verify.verdict import (
        DEFAULT_THRESHOLD_SCALE,
        THRESHOLD_SCALE_RANGE,
        check_threshold_scale,
        rejudge,
    )
    from banknote_guard.verify.verifier import Verifier, verify_image, verify_paths
    from banknote_guard.workflows.demo import DemoPlan, DemoSummary, demo_plan, run_demo
    from banknote_guard.workflows.training import (
        TrainOutcome,
        checkpoint_path_for,
        train_model,
    )

#: Public name -> "module:attribute" of the engine object it stands for.
_EXPORTS: dict[str, str] = {
    # data
    "load_image": "banknote_guard.data.imageio:load_image",
    "is_image_file": "banknote_guard.data.imageio:is_image_file",
    "rectify": "banknote_guard.data.rectify:rectify_note",
    "discover_dataset": "banknote_guard.data.dataset:discover_dataset",
    "inspect_dataset": "banknote_guard.data.dataset:inspect_dataset",
    "generate_synthetic": "banknote_guard.synth.generator:generate_dataset",
    "SynthOptions": "banknote_guard.synth.generator:SynthOptions",
    "SynthSummary": "banknote_guard.synth.generator:SynthSummary",
    "SYNTH_DIFFICULTIES": "banknote_guard.synth.capture:DIFFICULTIES",
    # training and calibration settings
    "train_model": "banknote_guard.workflows.training:train_model",
    "TrainOutcome": "banknote_guard.workflows.training:TrainOutcome",
    "checkpoint_path_for": "banknote_guard.workflows.training:checkpoint_path_for",
    "TrainConfig": "banknote_guard.model.config:TrainConfig",
    "ModelConfig": "banknote_guard.model.config:ModelConfig",
    "CalibrationConfig": "banknote_guard.verify.calibration:CalibrationConfig",
    "DEFAULT_FALSE_ALARM_RATE": "banknote_guard.verify.calibration:DEFAULT_FALSE_ALARM_RATE",
    "FALSE_ALARM_RANGE": "banknote_guard.verify.calibration:FALSE_ALARM_RANGE",
    "SVM_DATA_CHOICES": "banknote_guard.verify.calibration:SVM_DATA_CHOICES",
    "SVM_KERNELS": "banknote_guard.verify.svm:KERNELS",
    # model files
    "ModelBundle": "banknote_guard.verify.bundle:ModelBundle",
    "demo_model_path": "banknote_guard.resources:demo_model_path",
    "sample_notes_dir": "banknote_guard.resources:sample_notes_dir",
    # enrollment
    "enroll": "banknote_guard.verify.enroll:enroll_dataset",
    "enroll_folder": "banknote_guard.verify.enroll:enroll_folder",
    "EnrollReport": "banknote_guard.verify.enroll:EnrollReport",
    # verification
    "Verifier": "banknote_guard.verify.verifier:Verifier",
    "verify_paths": "banknote_guard.verify.verifier:verify_paths",
    "verify_image": "banknote_guard.verify.verifier:verify_image",
    "VerificationResult": "banknote_guard.verify.result:VerificationResult",
    "rejudge": "banknote_guard.verify.verdict:rejudge",
    "check_threshold_scale": "banknote_guard.verify.verdict:check_threshold_scale",
    "THRESHOLD_SCALE_RANGE": "banknote_guard.verify.verdict:THRESHOLD_SCALE_RANGE",
    "DEFAULT_THRESHOLD_SCALE": "banknote_guard.verify.verdict:DEFAULT_THRESHOLD_SCALE",
    "BatchSummary": "banknote_guard.verify.summary:BatchSummary",
    "summarise": "banknote_guard.verify.summary:summarise",
    "denomination_value": "banknote_guard.verify.summary:denomination_value",
    # reports
    "results_csv": "banknote_guard.reports.csv_export:results_csv",
    "rows_csv": "banknote_guard.reports.csv_export:rows_csv",
    "safe_cell": "banknote_guard.reports.csv_export:safe_cell",
    # evaluation and the demo
    "evaluate": "banknote_guard.evaluation.evaluate:evaluate",
    "EvaluationReport": "banknote_guard.evaluation.evaluate:EvaluationReport",
    "run_demo": "banknote_guard.workflows.demo:run_demo",
    "demo_plan": "banknote_guard.workflows.demo:demo_plan",
    "DemoPlan": "banknote_guard.workflows.demo:DemoPlan",
    "DemoSummary": "banknote_guard.workflows.demo:DemoSummary",
}

__all__ = sorted([*_EXPORTS, "load_model", "available_backbones"])


def __getattr__(name: str) -> Any:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, _, attr = target.partition(":")
    value = getattr(importlib.import_module(module_name), attr)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__


def load_model(path: str | Path) -> "ModelBundle":
    """Open a model file without executing anything from it; raises ModelFileError."""
    from banknote_guard.reports.csv_export import results_csv, rows_csv, safe_cell
    from banknote_guard.verify.bundle import ModelBundle

    return ModelBundle.load(path)


def available_backbones() -> list[tuple[str, str]]:
    """(name, one-line description) of every backbone the model factory offers (training forms)."""
    from banknote_guard.model.backbones import BACKBONES

    return [(name, spec.description) for name, spec in BACKBONES.items()]
