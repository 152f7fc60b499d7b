"""Settings page: model file, thresholds, operator, devices, alerts. Changes are saved at once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.state import AppState


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("pageHint")
    label.setWordWrap(True)
    return label


def _with_hint(item: QWidget | QHBoxLayout, text: str) -> QWidget:
    """``item`` with a grey explanation under it."""
    w = QWidget()
    v = QVBoxLayout(w)
    v.setContentsMargins(0, 0, 0, 4)
    v.setSpacing(2)
    if isinstance(item, QWidget):
        v.addWidget(item)
    else:
        v.addLayout(item)
    v.addWidget(_hint(text))
    return w


class SettingsPage(Page):
    """Edits :class:`~banknote_guard.gui.settings.AppSettings`; every change is stored immediately.

    Signals:
        settings_changed(): a value that affects what other pages show changed (e.g. the threshold scale).
    """

    title = "Settings"
    hint = "Changes are saved at once and kept for the next start."
    settings_changed = Signal()

    def __init__(self, state: AppState, log_file: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        s = self.settings

        self.model_path = QLineEdit(s.model_path)
        self.model_path.setPlaceholderText("none: the bundled demo model is used when there is one")
        self.model_path.setToolTip("The model file opened when the application starts.")
        self.model_path.editingFinished.connect(self._save_model_path)
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._browse_model)
        load = QPushButton("Load now")
        load.setToolTip("Open this model file now")
        load.clicked.connect(self._load_model)
        mrow = QHBoxLayout()
        mrow.addWidget(self.model_path, 1)
        mrow.addWidget(browse)
        mrow.addWidget(load)

        self.threshold_scale = QDoubleSpinBox()
        self.threshold_scale.setRange(*self.api.THRESHOLD_SCALE_RANGE)
        self.threshold_scale.setSingleStep(0.05)
        self.threshold_scale.setDecimals(2)
        self.threshold_scale.setValue(s.threshold_scale)
        self.threshold_scale.setToolTip(
            "Multiplies every threshold stored in the model. 1.00 = as calibrated; below 1 flags more notes "
            "as suspect (fewer counterfeits missed, more false alarms); above 1 flags fewer."
        )
        self.threshold_scale.valueChanged.connect(self._save_scale)
        self.far = QDoubleSpinBox()
        self.far.setRange(*(100 * x for x in self.api.FALSE_ALARM_RANGE))
        self.far.setDecimals(1)
        self.far.setSuffix(" %")
        self.far.setValue(s.false_alarm_rate * 100)
        self.far.setToolTip("False-alarm rate used to calibrate thresholds when a new model is trained.")
        self.far.valueChanged.connect(lambda v: setattr(self.settings, "false_alarm_rate", v / 100.0))
        for spin in (self.threshold_scale, self.far):
            spin.setMaximumWidth(120)
        model_box = QGroupBox("Model and thresholds")
        mf = QFormLayout(model_box)
        mf.addRow("Model file:", _with_hint(mrow, "Opened at start. Empty: the demo model that comes with the application."))
        mf.addRow("Threshold scale:", _with_hint(self.threshold_scale, "1.00 = as calibrated. Lower flags more notes as "
                                                  "suspect (fewer counterfeits missed, more false alarms); higher flags fewer."))
        mf.addRow("False alarms when training:", _with_hint(self.far, "Share of genuine notes a newly trained model may "
                                                             "flag; it sets the model's thresholds."))

        self.operator = QLineEdit(s.operator_name)
        self.operator.setPlaceholderText("your name (recorded with verifications)")
        self.operator.editingFinished.connect(lambda: setattr(self.settings, "operator_name", self.operator.text().strip()))
        self.alert_sound = QCheckBox("Beep when a suspect note is found")
        self.alert_sound.setChecked(s.alert_sound)
        self.alert_sound.toggled.connect(lambda v: setattr(self.settings, "alert_sound", v))
        op_box = QGroupBox("Operator and alerts")
        of = QFormLayout(op_box)
        of.addRow("Operator name:", self.operator)
        of.addRow("Alerts:", self.alert_sound)

        self.camera = QLineEdit(s.camera_device)
        self.camera.setPlaceholderText("e.g. 0 or the camera's name")
        self.camera.editingFinished.connect(lambda: setattr(self.settings, "camera_device", self.camera.text().strip()))
        self.scanner = QLineEdit(s.scanner_device)
        self.scanner.setPlaceholderText("the scanner's name")
        self.scanner.editingFinished.connect(lambda: setattr(self.settings, "scanner_device", self.scanner.text().strip()))
        dev_box = QGroupBox("Devices (used by capture, coming in a later version)")
        df = QFormLayout(dev_box)
        df.addRow("Camera:", self.camera)
        df.addRow("Scanner:", self.scanner)

        self.recent = QListWidget()
        self.recent.addItems(s.recent_files())
        self.recent.setMaximumHeight(120)
        clear = QPushButton("Clear list")
        clear.clicked.connect(self._clear_recent)
        rec_box = QGroupBox("Recently verified files and folders")
        rl = QVBoxLayout(rec_box)
        rl.addWidget(self.recent)
        rl.addWidget(clear)

        log_label = QLabel(f"Problems are logged to {log_file}" if log_file else "")
        log_label.setObjectName("pageHint")
        log_label.setWordWrap(True)
        log_label.setVisible(log_file is not None)

        grid = QHBoxLayout()
        col1 = QVBoxLayout()
        col1.addWidget(model_box)
        col1.addWidget(op_box)
        col1.addWidget(self._history_box())
        col1.addStretch(1)
        col2 = QVBoxLayout()
        col2.addWidget(dev_box)
        col2.addWidget(rec_box)
        col2.addStretch(1)
        grid.addLayout(col1, 3)
        grid.addLayout(col2, 2)
        self.body.addLayout(grid)
        self.body.addStretch(1)
        self.body.addWidget(log_label)

    def _history_box(self) -> QGroupBox:
        """Where verified notes are recorded, and the desk's name."""
        s = self.settings
        self.history_location = QLineEdit(s.history_location)
        self.history_location.setPlaceholderText(f"default: {self.api.default_history_path()}")
        self.history_location.setToolTip(
            "A SQLite file on this computer, or a cash centre's PostgreSQL server: "
            "postgresql://user:password@host/database. With a server, notes wait in this desk's own file "
            "while the server cannot be reached and are sent when it can."
        )
        self.history_location.editingFinished.connect(self._save_history_location)
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._browse_history)
        row = QHBoxLayout()
        row.addWidget(self.history_location, 1)
        row.addWidget(browse)
        self.station = QLineEdit(s.station_name)
        self.station.setPlaceholderText(f"default: {self.api.default_station()}")
        self.station.setToolTip("The desk's name, recorded with every note")
        self.station.editingFinished.connect(lambda: setattr(self.settings, "station_name", self.station.text().strip()))
        box = QGroupBox("Verification history")
        form = QFormLayout(box)
        form.addRow("History:", _with_hint(row, "Every verified note is recorded here. Empty: a file in your data "
                                                "folder. Keep the file on this computer's own disk, never on a "
                                                "network share; several desks share a PostgreSQL server instead."))
        form.addRow("Station name:", self.station)
        return box

    def _save_history_location(self) -> None:
        text = self.history_location.text().strip()
        if text != self.settings.history_location:
            self.settings.history_location = text
            self.settings_changed.emit()

    def _browse_history(self) -> None:
        start = self.history_location.text().strip()
        if not start or self.api.is_history_server(start):
            start = str(self.api.default_history_path())
        path, _ = QFileDialog.getSaveFileName(self, "Choose or create a history file", start,
                                              "History files (*.sqlite);;All files (*)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.history_location.setText(path)
            self._save_history_location()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """Show the current values (other pages may have changed them)."""
        self.refresh_recent()
        if self.state.model_path is not None and not self.state.is_demo_model():
            self.model_path.setText(str(self.state.model_path))
        else:
            self.model_path.setText(self.settings.model_path)
        super().showEvent(event)

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model file", self.model_path.text(), "Model files (*.bgm);;All files (*)")
        if path:
            self.model_path.setText(path)
            self._save_model_path()
            self._load_model()

    def _save_model_path(self) -> None:
        self.settings.model_path = self.model_path.text().strip()

    def _load_model(self) -> None:
        path = self.model_path.text().strip()
        if path:
            self.state.load_model(path)

    def _save_scale(self, value: float) -> None:
        self.settings.threshold_scale = value
        self.settings_changed.emit()

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self.recent.clear()
        self.settings_changed.emit()

    def refresh_recent(self) -> None:
        self.recent.clear()
        self.recent.addItems(self.settings.recent_files())
