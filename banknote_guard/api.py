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
Hardware
    ``train_model(..., runtime=TrainRuntime(device, precision, loader_workers, pin_memory,
    mining_scope))`` (``DEVICE_CHOICES``, ``PRECISION_CHOICES``, ``MINING_SCOPES``; under torchrun the
    processes train one DistributedDataParallel model); ``use_device(name)`` sets the inference device
    (``DeviceUnavailableError`` when it is not there).
Central models for stations
    ``SharedModels(folder)`` (``publish``, ``versions``, ``latest``, ``withdraw``) of ``PublishedModel``;
    ``Station(folder, shared=...)`` (``check``, ``update``, ``rollback``, ``start``, ``current_model``,
    ``model_record``, ``status``); ``open_model(path)``: a model file, or a station folder's model in
    use after its start-up check; ``is_station(path)``; ``StationError``.
Models
    ``load_model(path)`` -> ``ModelBundle``; ``demo_model_path()``, ``sample_notes_dir()``, ``icon_path()``, ``icon_files()``.
    ``training_available()`` (is torch installed: a training workstation, not a station),
    ``require_torch(task)`` -> raises ``TrainingUnavailableError`` with what to install.
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
Capture
    ``CaptureSession(verifier, CameraSource(device_or_video), on_view=..., on_result=...)`` (``run``,
    ``request_capture``, ``stop``) with ``AutoCaptureSettings``, ``LiveView``, ``Capture``;
    ``list_cameras()``; ``Scanner(device, resolution=..., batch=...)``, ``list_scanners()``,
    ``scan_and_verify(verifier, scanner)``, ``verify_page(verifier, page, name)``, ``scanimage_path()``
    (None: ``SCANNER_INSTALL_HINT``); ``watch_folder(verifier, folder, on_result=..., cancel=...)``,
    ``FolderWatcher``, ``Arrival``; ``CaptureError`` (``CameraError``, ``ScannerError``,
    ``ScannerUnavailableError``, ``WatchError``); ``reason_key(reason)`` of a "retake" reason.
History
    ``open_history(location)`` -> ``History`` (``add``, ``review``, ``get``, ``find``, ``query``,
    ``reviews``, ``batches``, ``verify_chain``, ``sync``) of ``NoteRecord`` and ``Review``;
    ``HistoryRecorder(history, station=..., operator=..., model=..., source=...)`` writes a batch's
    results, ``RecordingVerifier(model, recorder)`` verifies and writes each note as it is judged.
Reports
    ``render_report(kind, records, context, fmt=..., out=..., reviews=...)`` (``REPORT_KINDS``:
    batch, certificate, handover; ``REPORT_FORMATS``: pdf, html, csv, json) with ``ReportContext``
    (``ReportContext.from_model(model, ...)``); ``report_bytes(...)`` in memory; ``report_from_results(
    results, out=..., model=...)`` for a live batch (``records_from_results``); ``preview_report(...)``
    -> ``ReportPreview`` (PDF pages as pictures); ``report_format_for(path)``; ``ReportError``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - the same names, for type checkers and editors
    from banknote_guard.data.dataset import discover_dataset, inspect_dataset
    from banknote_guard.data.imageio import is_image_file, load_image, save_image
    from banknote_guard.data.rectify import rectify_note as rectify
    from banknote_guard.evaluation.evaluate import EvaluationReport, evaluate
    from banknote_guard.model.config import ModelConfig, TrainConfig
    from banknote_guard.synth.capture import DIFFICULTIES as SYNTH_DIFFICULTIES
    from banknote_guard.synth.generator import SynthOptions, SynthSummary
    from banknote_guard.synth.generator import generate_dataset as generate_synthetic
    from banknote_guard.history.errors import (
        HistoryDamagedError,
        HistoryError,
        HistoryUnavailableError,
        RecordNotFoundError,
    )
    from banknote_guard.history.location import default_history_path, default_operator, default_station
    from banknote_guard.history.location import is_server_url as is_history_server
    from banknote_guard.history.records import DECISIONS as REVIEW_DECISIONS
    from banknote_guard.history.records import BatchInfo, ChainReport, NoteRecord, Review, SyncReport
    from banknote_guard.history.recorder import HistoryRecorder, RecordingVerifier, new_batch_id
    from banknote_guard.history.store import History, open_history
    from banknote_guard.reports.csv_export import results_csv, rows_csv, safe_cell
    from banknote_guard.reports.content import REPORT_KINDS, ReportError
    from banknote_guard.reports.context import ReportContext
    from banknote_guard.reports.preview import ReportPreview, preview_report
    from banknote_guard.reports.render import REPORT_FORMATS, records_from_results, render_report, report_bytes
    from banknote_guard.reports.render import format_for_path as report_format_for
    from banknote_guard.reports.render import report_from_results
    from banknote_guard.model.requirements import (
        TRAIN_INSTALL,
        TrainingUnavailableError,
        missing_training_package,
        require_torch,
        station_message,
    )
    from banknote_guard.model.requirements import torch_available as training_available
    from banknote_guard.resources import icon_files, icon_path
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
    from banknote_guard.model.devices import (
        DEVICE_CHOICES,
        MINING_SCOPES,
        PRECISION_CHOICES,
        DeviceUnavailableError,
        TrainRuntime,
        use_device,
    )
    from banknote_guard.stations.shared import PublishedModel, SharedModels, StationError
    from banknote_guard.stations.station import Station, is_station, open_model
    from banknote_guard.capture.autocapture import AutoCaptureSettings
    from banknote_guard.capture.camera import CameraInfo, CameraSource, list_cameras, quiet_video_logs
    from banknote_guard.capture.errors import (
        CameraError,
        CaptureError,
        ScannerError,
        ScannerUnavailableError,
        WatchError,
    )
    from banknote_guard.capture.scanner import INSTALL_HINT as SCANNER_INSTALL_HINT
    from banknote_guard.capture.scanner import (
        ScannedPage,
        Scanner,
        ScannerInfo,
        list_scanners,
        scan_and_verify,
        scanimage_path,
        verify_page,
    )
    from banknote_guard.capture.session import Capture, CaptureSession, LiveView
    from banknote_guard.capture.watch import Arrival, FolderWatcher, WatchStats, watch_folder
    from banknote_guard.verify.quality import reason_key

#: Public name -> "module:attribute" of the engine object it stands for.
_EXPORTS: dict[str, str] = {
    # data
    "load_image": "banknote_guard.data.imageio:load_image",
    "is_image_file": "banknote_guard.data.imageio:is_image_file",
    "save_image": "banknote_guard.data.imageio:save_image",
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
    # hardware: devices, mixed precision, loader workers, distributed training
    "TrainRuntime": "banknote_guard.model.devices:TrainRuntime",
    "DEVICE_CHOICES": "banknote_guard.model.devices:DEVICE_CHOICES",
    "PRECISION_CHOICES": "banknote_guard.model.devices:PRECISION_CHOICES",
    "MINING_SCOPES": "banknote_guard.model.devices:MINING_SCOPES",
    "use_device": "banknote_guard.model.devices:use_device",
    "DeviceUnavailableError": "banknote_guard.model.devices:DeviceUnavailableError",
    # central models for stations
    "SharedModels": "banknote_guard.stations.shared:SharedModels",
    "PublishedModel": "banknote_guard.stations.shared:PublishedModel",
    "StationError": "banknote_guard.stations.shared:StationError",
    "Station": "banknote_guard.stations.station:Station",
    "is_station": "banknote_guard.stations.station:is_station",
    "open_model": "banknote_guard.stations.station:open_model",
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
    "icon_path": "banknote_guard.resources:icon_path",
    "icon_files": "banknote_guard.resources:icon_files",
    "training_available": "banknote_guard.model.requirements:torch_available",
    "require_torch": "banknote_guard.model.requirements:require_torch",
    "TrainingUnavailableError": "banknote_guard.model.requirements:TrainingUnavailableError",
    "TRAIN_INSTALL": "banknote_guard.model.requirements:TRAIN_INSTALL",
    "missing_training_package": "banknote_guard.model.requirements:missing_training_package",
    "station_message": "banknote_guard.model.requirements:station_message",
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
    "render_report": "banknote_guard.reports.render:render_report",
    "report_bytes": "banknote_guard.reports.render:report_bytes",
    "report_from_results": "banknote_guard.reports.render:report_from_results",
    "records_from_results": "banknote_guard.reports.render:records_from_results",
    "report_format_for": "banknote_guard.reports.render:format_for_path",
    "REPORT_KINDS": "banknote_guard.reports.content:REPORT_KINDS",
    "why_suspect_picture": "banknote_guard.reports.images:why_suspect_picture",
    "HEATMAP_VERDICTS": "banknote_guard.verify.local_evidence:HEATMAP_VERDICTS",
    "heat_alpha": "banknote_guard.verify.local_evidence:heat_alpha",
    "REPORT_FORMATS": "banknote_guard.reports.render:REPORT_FORMATS",
    "ReportContext": "banknote_guard.reports.context:ReportContext",
    "ReportError": "banknote_guard.reports.content:ReportError",
    "preview_report": "banknote_guard.reports.preview:preview_report",
    "ReportPreview": "banknote_guard.reports.preview:ReportPreview",
    # verification history
    "open_history": "banknote_guard.history.store:open_history",
    "History": "banknote_guard.history.store:History",
    "NoteRecord": "banknote_guard.history.records:NoteRecord",
    "Review": "banknote_guard.history.records:Review",
    "BatchInfo": "banknote_guard.history.records:BatchInfo",
    "ChainReport": "banknote_guard.history.records:ChainReport",
    "SyncReport": "banknote_guard.history.records:SyncReport",
    "REVIEW_DECISIONS": "banknote_guard.history.records:DECISIONS",
    "HistoryRecorder": "banknote_guard.history.recorder:HistoryRecorder",
    "RecordingVerifier": "banknote_guard.history.recorder:RecordingVerifier",
    "new_batch_id": "banknote_guard.history.recorder:new_batch_id",
    "default_history_path": "banknote_guard.history.location:default_history_path",
    "default_station": "banknote_guard.history.location:default_station",
    "default_operator": "banknote_guard.history.location:default_operator",
    "is_history_server": "banknote_guard.history.location:is_server_url",
    "HistoryError": "banknote_guard.history.errors:HistoryError",
    "HistoryDamagedError": "banknote_guard.history.errors:HistoryDamagedError",
    "HistoryUnavailableError": "banknote_guard.history.errors:HistoryUnavailableError",
    "RecordNotFoundError": "banknote_guard.history.errors:RecordNotFoundError",
    # capture: cameras, scanners, watched folders, retake advice
    "CameraSource": "banknote_guard.capture.camera:CameraSource",
    "CameraInfo": "banknote_guard.capture.camera:CameraInfo",
    "list_cameras": "banknote_guard.capture.camera:list_cameras",
    "quiet_video_logs": "banknote_guard.capture.camera:quiet_video_logs",
    "CaptureSession": "banknote_guard.capture.session:CaptureSession",
    "Capture": "banknote_guard.capture.session:Capture",
    "LiveView": "banknote_guard.capture.session:LiveView",
    "AutoCaptureSettings": "banknote_guard.capture.autocapture:AutoCaptureSettings",
    "Scanner": "banknote_guard.capture.scanner:Scanner",
    "ScannerInfo": "banknote_guard.capture.scanner:ScannerInfo",
    "list_scanners": "banknote_guard.capture.scanner:list_scanners",
    "scanimage_path": "banknote_guard.capture.scanner:scanimage_path",
    "scan_and_verify": "banknote_guard.capture.scanner:scan_and_verify",
    "ScannedPage": "banknote_guard.capture.scanner:ScannedPage",
    "verify_page": "banknote_guard.capture.scanner:verify_page",
    "SCANNER_INSTALL_HINT": "banknote_guard.capture.scanner:INSTALL_HINT",
    "FolderWatcher": "banknote_guard.capture.watch:FolderWatcher",
    "watch_folder": "banknote_guard.capture.watch:watch_folder",
    "Arrival": "banknote_guard.capture.watch:Arrival",
    "WatchStats": "banknote_guard.capture.watch:WatchStats",
    "CaptureError": "banknote_guard.capture.errors:CaptureError",
    "CameraError": "banknote_guard.capture.errors:CameraError",
    "ScannerError": "banknote_guard.capture.errors:ScannerError",
    "ScannerUnavailableError": "banknote_guard.capture.errors:ScannerUnavailableError",
    "WatchError": "banknote_guard.capture.errors:WatchError",
    "reason_key": "banknote_guard.verify.quality:reason_key",
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
    from banknote_guard.model.specs import BACKBONE_INFO

    return [(name, info.description) for name, info in BACKBONE_INFO.items()]
