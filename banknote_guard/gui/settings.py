"""The application's persistent settings (a thin, typed wrapper around :class:`QSettings`)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from banknote_guard import api

ORGANIZATION = "banknote_guard"
APPLICATION = "Banknote Guard"
MAX_RECENT = 10


class AppSettings:
    """Typed access to everything the application remembers between runs.

    Args:
        qsettings: the store to use; by default the per-user store named by the application's
            organisation and name. Tests pass an INI file in a temporary folder.
    """

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._s = qsettings if qsettings is not None else QSettings(ORGANIZATION, APPLICATION)

    @classmethod
    def from_file(cls, path: str | Path) -> "AppSettings":
        """Settings kept in one INI file (portable installs, tests)."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    @property
    def qsettings(self) -> QSettings:
        return self._s

    def sync(self) -> None:
        """Write pending changes to disk."""
        self._s.sync()

    # --- helpers --------------------------------------------------------------------------

    def _str(self, key: str, default: str = "") -> str:
        value = self._s.value(key, default)
        return default if value is None else str(value)

    def _float(self, key: str, default: float) -> float:
        try:
            return float(self._s.value(key, default))
        except (TypeError, ValueError):
            return default

    def _bool(self, key: str, default: bool) -> bool:
        value = self._s.value(key, default)
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)

    # --- model and thresholds ---------------------------------------------------------------

    @property
    def model_path(self) -> str:
        """The model file opened at start ("" = none chosen: the demo model is used if present)."""
        return self._str("model/path")

    @model_path.setter
    def model_path(self, value: str | Path) -> None:
        self._s.setValue("model/path", str(value))

    @property
    def false_alarm_rate(self) -> float:
        """Share of genuine notes allowed to be flagged when a new model is calibrated (0.01 = 1 %)."""
        lo, hi = api.FALSE_ALARM_RANGE
        return min(max(self._float("model/false_alarm_rate", api.DEFAULT_FALSE_ALARM_RATE), lo), hi)

    @false_alarm_rate.setter
    def false_alarm_rate(self, value: float) -> None:
        self._s.setValue("model/false_alarm_rate", float(value))

    @property
    def threshold_scale(self) -> float:
        """Multiplier on every stored threshold (1.0 = as calibrated; below 1 flags more notes)."""
        lo, hi = api.THRESHOLD_SCALE_RANGE
        return min(max(self._float("model/threshold_scale", api.DEFAULT_THRESHOLD_SCALE), lo), hi)

    @threshold_scale.setter
    def threshold_scale(self, value: float) -> None:
        self._s.setValue("model/threshold_scale", float(value))

    # --- operator and devices -----------------------------------------------------------------

    @property
    def operator_name(self) -> str:
        return self._str("operator/name")

    @operator_name.setter
    def operator_name(self, value: str) -> None:
        self._s.setValue("operator/name", value)

    @property
    def camera_device(self) -> str:
        """Camera the Capture page opens: its number ("0"), a stream URL or a video file ("" = camera 0)."""
        return self._str("devices/camera")

    @camera_device.setter
    def camera_device(self, value: str) -> None:
        self._s.setValue("devices/camera", value)

    @property
    def scanner_device(self) -> str:
        """SANE device name of the scanner the Capture page scans with ("" = SANE's default scanner)."""
        return self._str("devices/scanner")

    @scanner_device.setter
    def scanner_device(self, value: str) -> None:
        self._s.setValue("devices/scanner", value)

    @property
    def scan_resolution(self) -> int:
        """Dots per inch the Capture page scans at."""
        try:
            return min(max(int(self._s.value("devices/scan_resolution", 300)), 50), 1200)
        except (TypeError, ValueError):
            return 300

    @scan_resolution.setter
    def scan_resolution(self, value: int) -> None:
        self._s.setValue("devices/scan_resolution", int(value))

    @property
    def watch_folder(self) -> str:
        """The folder the Capture page watched last."""
        return self._str("devices/watch_folder")

    @watch_folder.setter
    def watch_folder(self, value: str | Path) -> None:
        self._s.setValue("devices/watch_folder", str(value))

    @property
    def alert_sound(self) -> bool:
        """Beep when a suspect note is found."""
        return self._bool("alerts/sound", True)

    @alert_sound.setter
    def alert_sound(self, value: bool) -> None:
        self._s.setValue("alerts/sound", bool(value))

    # --- verification history ---------------------------------------------------------------

    @property
    def history_location(self) -> str:
        """Where verifications are recorded: "" = the history file in the user's data folder, a file
        path, or a cash centre's server ``postgresql://user:password@host/database``."""
        return self._str("history/location").strip()

    @history_location.setter
    def history_location(self, value: str | Path) -> None:
        self._s.setValue("history/location", str(value).strip())

    @property
    def station_name(self) -> str:
        """The desk's name recorded with every note ("" = this computer's name)."""
        return self._str("history/station").strip()

    @station_name.setter
    def station_name(self, value: str) -> None:
        self._s.setValue("history/station", value.strip())

    # --- folders and recent files ---------------------------------------------------------------

    @property
    def dataset_root(self) -> str:
        return self._str("dataset/root")

    @dataset_root.setter
    def dataset_root(self, value: str | Path) -> None:
        self._s.setValue("dataset/root", str(value))

    @property
    def last_folder(self) -> str:
        """Where the last file dialog was (the next one opens there)."""
        return self._str("ui/last_folder")

    @property
    def dialog_folder(self) -> str:
        """Where a file dialog should open: the last folder used if it still exists, else the user's
        Pictures folder, else their home folder (never the program's own folder)."""
        last = self.last_folder
        if last and Path(last).is_dir():
            return last
        pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        if pictures and Path(pictures).is_dir():
            return pictures
        return str(Path.home())

    @last_folder.setter
    def last_folder(self, value: str | Path) -> None:
        self._s.setValue("ui/last_folder", str(value))

    def recent_files(self) -> list[str]:
        """Recently opened files and folders, newest first."""
        value = self._s.value("recent/files", [])
        if value is None:
            return []
        if isinstance(value, str):
            value = [value] if value else []
        return [str(v) for v in value][:MAX_RECENT]

    def add_recent_file(self, path: str | Path) -> None:
        """Put ``path`` at the top of the recent list (without duplicates)."""
        path = str(path)
        items = [p for p in self.recent_files() if p != path]
        self._s.setValue("recent/files", [path, *items][:MAX_RECENT])

    def clear_recent_files(self) -> None:
        self._s.setValue("recent/files", [])

    # --- window -----------------------------------------------------------------------------

    def window_geometry(self) -> bytes | None:
        """The main window's last geometry (``QWidget.saveGeometry()`` bytes), or None.

        Stored as a plain QByteArray. Versions before 0.2 stored it under ``ui/geometry`` as a pickled
        Python object; that entry is removed unread (reading it would unpickle it).
        """
        if self._s.contains("ui/geometry"):
            self._s.remove("ui/geometry")
        value = self._s.value("ui/window_geometry")
        if isinstance(value, QByteArray):
            return bytes(value.data()) or None
        return None

    def set_window_geometry(self, data: bytes) -> None:
        self._s.setValue("ui/window_geometry", QByteArray(bytes(data)))
