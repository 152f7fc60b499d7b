"""What every page shares: the engine front door, the settings and the model in use."""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType
from typing import Any

from PySide6.QtCore import QObject, QStandardPaths, Signal

from banknote_guard.gui.settings import AppSettings
from banknote_guard.gui.workers import Job

log = logging.getLogger(__name__)


def app_data_dir() -> Path:
    """The per-user folder for the log file, copied datasets and models (created on demand)."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    path = Path(loc) if loc else Path.home() / ".banknote_guard"
    path.mkdir(parents=True, exist_ok=True)
    return path


def describe_model(model: Any) -> dict[str, Any]:
    """``model.describe()`` as a dict, or {} when the model cannot describe itself."""
    try:
        info = model.describe()
        return dict(info) if isinstance(info, dict) else {}
    except Exception:  # noqa: BLE001 - a description is a nicety, never a reason to fail
        log.debug("describe() failed", exc_info=True)
        return {}


def model_summary(model: Any, path: str | Path | None) -> str:
    """One line for the status bar: name, creation date and number of denominations."""
    if model is None:
        return "No model loaded"
    info = describe_model(model)
    name = info.get("name") or (Path(path).stem if path else "model")
    created = str(info.get("created") or info.get("created_at") or info.get("date") or "")
    created = created.replace("T", " ")[:16]
    denoms = list(getattr(model, "denominations", []) or [])
    parts = [f"Model: {name}"]
    if created:
        parts.append(f"created {created}")
    parts.append(f"{len(denoms)} denomination{'s' if len(denoms) != 1 else ''}")
    if info.get("id"):  # the first hex digits of the model file's SHA-256: its identity in reports
        parts.append(f"id {info['id']}" + ("" if info.get("integrity") == "checked" else " (unchecked)"))
    return " \u00b7 ".join(parts)


class AppState(QObject):
    """Shared state of the window.

    Args:
        api: the engine front door (:mod:`banknote_guard.api` or a stand-in with the same functions).
        settings: the persistent settings.

    Signals:
        model_changed(object): a model was loaded, trained, enrolled into, or unloaded (None).
        dataset_changed(str): the dataset root changed.
        message(str, int): a short status-bar message and how long to show it (ms, 0 = until replaced).
        error(str, str): a readable error (title, message) for the window to show.
    """

    model_changed = Signal(object)
    dataset_changed = Signal(str)
    message = Signal(str, int)
    error = Signal(str, str)

    def __init__(self, api: ModuleType | Any, settings: AppSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.settings = settings
        self.model: Any = None
        self.model_path: Path | None = None
        self.dataset_root: Path | None = None
        self._model_job: Job | None = None

    # --- model ----------------------------------------------------------------------------

    def default_model_path(self) -> Path | None:
        """The model from the settings, else the bundled demo model, else None."""
        chosen = self.settings.model_path
        if chosen and Path(chosen).is_file():
            return Path(chosen)
        try:
            demo = Path(self.api.demo_model_path())
        except Exception:  # noqa: BLE001
            return None
        return demo if demo.is_file() else None

    def is_demo_model(self) -> bool:
        try:
            return self.model_path is not None and Path(self.api.demo_model_path()).resolve() == self.model_path.resolve()
        except Exception:  # noqa: BLE001
            return False

    def load_model(self, path: str | Path, remember: bool = True) -> Job:
        """Open a model file in the background; emits ``model_changed`` or ``error`` when done."""
        path = Path(path)
        api = self.api
        job = Job(lambda ctx: api.load_model(path), name="load-model", parent=self)

        def done(model: Any) -> None:
            self.set_model(model, path, remember=remember)
            self.message.emit(f"Opened model {path.name}", 5000)

        job.finished.connect(done)
        job.failed.connect(lambda msg: self.error.emit("Could not open the model", msg))
        self._model_job = job
        return job.start()

    def set_model(self, model: Any, path: str | Path | None, remember: bool = True) -> None:
        """Use ``model`` from now on (``path`` is where it lives on disk)."""
        self.model = model
        self.model_path = Path(path) if path else None
        if remember and path and not self.is_demo_model():
            self.settings.model_path = str(path)
        self.model_changed.emit(model)

    # --- dataset ---------------------------------------------------------------------------

    def set_dataset_root(self, root: str | Path) -> None:
        self.dataset_root = Path(root)
        self.settings.dataset_root = str(root)
        self.dataset_changed.emit(str(root))
