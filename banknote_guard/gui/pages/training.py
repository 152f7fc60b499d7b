"""Training page: hyper-parameters with tooltips, Start / Cancel, live progress, chart, log and evaluation."""

from __future__ import annotations

import dataclasses
import html
import datetime as _dt
import logging
import typing
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.state import AppState, app_data_dir
from banknote_guard.gui.widgets.line_chart import LiveLineChart
from banknote_guard.gui.workers import Job, JobContext
from banknote_guard.api import CalibrationConfig, ModelConfig, TrainConfig
from banknote_guard.progress import Progress, format_seconds

log = logging.getLogger(__name__)

#: Backbones offered when the model package cannot be asked (name, description).
FALLBACK_BACKBONES = [
    ("small_cnn", "Small CNN, fast on a CPU (no ImageNet weights)."),
    ("efficientnet_lite0", "EfficientNet-Lite0; ImageNet weights ship with the application."),
    ("resnet18", "torchvision ResNet-18."),
    ("mobilenet_v3_small", "torchvision MobileNet-V3 small."),
]

#: Fields shown in the main form, then in "Advanced"; (owner, field name, label).
MAIN_FIELDS = [
    ("train", "loss", "Loss"),
    ("train", "margin", "Margin \u03b1\u2081"),
    ("train", "margin2", "Second margin \u03b1\u2082"),
    ("model", "backbone", "Backbone"),
    ("train", "pretrained", "Start from ImageNet weights"),
    ("train", "epochs", "Epochs"),
    ("train", "steps_per_epoch", "Steps per epoch (0 = one pass)"),
    ("train", "classes_per_batch", "Denominations per batch (P)"),
    ("train", "images_per_class", "Images per denomination (K)"),
    ("model", "image_height", "Image height (px)"),
    ("model", "image_width", "Image width (px)"),
]
ADVANCED_FIELDS = [
    ("model", "embedding_dim", "Embedding size"),
    ("model", "distance", "Distance"),
    ("train", "mining", "Mining"),
    ("train", "adaptive_margin", "Adaptive margin"),
    ("train", "learning_rate", "Learning rate"),
    ("train", "weight_decay", "Weight decay"),
    ("train", "augment", "Augment images"),
    ("train", "val_fraction", "Validation share"),
    ("train", "patience", "Early-stopping patience"),
    ("train", "seed", "Random seed"),
]
METRIC_NAMES = {
    "val_genuine": "Held-out genuine notes",
    "val_counterfeit": "Held-out counterfeit notes",
    "auc": "ROC AUC (1 = perfect)",
    "roc_auc": "ROC AUC (1 = perfect)",
    "eer": "Equal error rate",
    "catch_rate": "Counterfeits caught",
    "catch_rate_at_far": "Caught at the target false alarms",
    "false_alarm_rate": "False alarms (genuine flagged)",
    "denomination_accuracy": "Denomination accuracy",
    "accuracy": "Denomination accuracy",
    "svm_accuracy": "SVM accuracy",
}


def available_backbones(api: Any) -> list[tuple[str, str]]:
    """(name, description) of every backbone the engine offers; the usual names if it cannot say."""
    try:
        return [(str(n), str(d)) for n, d in api.available_backbones()]
    except Exception:  # noqa: BLE001 - the form still works with the usual names
        return FALLBACK_BACKBONES


def _field_map(cls: type) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def _choices(cls: type, name: str) -> list[str] | None:
    hint = typing.get_type_hints(cls).get(name)
    if typing.get_origin(hint) is typing.Literal:
        return [str(a) for a in typing.get_args(hint)]
    return None


def format_metric(key: str, value: Any) -> tuple[str, str]:
    """A readable name and value for one evaluation metric (rates and accuracies as percentages)."""
    name = METRIC_NAMES.get(key, key.replace("_", " ").capitalize())
    if value is None:
        return name, "n/a"
    if isinstance(value, bool):
        return name, "yes" if value else "no"
    if isinstance(value, (int, float)):
        v = float(value)
        if ("rate" in key or "accuracy" in key or key == "eer") and 0.0 <= v <= 1.0:
            return name, f"{v:.1%}"
        return name, f"{int(v)}" if v.is_integer() and "auc" not in key else f"{v:.3f}"
    return name, str(value)


class TrainingPage(Page):
    """Trains a model from the open dataset in a worker thread and shows how it goes."""

    title = "Training"
    hint = (
        "Train the network on the dataset chosen on the Datasets page. The defaults suit a first model; "
        "hover over a setting to see what it does. You can keep using the other pages while it trains."
    )

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.job: Job | None = None
        self.outcome: Any = None
        self.editors: dict[tuple[str, str], QWidget] = {}
        self._last_log = ""
        self._last_stage = ""

        left = self._build_settings_panel()
        right = self._build_results_panel()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([390, 840])
        self.body.addWidget(split, 1)

        self._connect_signals()
        self._update_dataset()
        self.out_edit.setText(str(self.default_out_path()))
        self._sync_margin2()

    # --- layout -------------------------------------------------------------------------------

    def _build_settings_panel(self) -> QWidget:
        """The left side: the settings (scrolling) above the Start / Cancel / Defaults buttons."""
        left_inner = QWidget()
        ll = QVBoxLayout(left_inner)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.addWidget(self._build_settings_form())
        self._build_advanced_settings()
        ll.addWidget(self.advanced_toggle)
        ll.addWidget(self.advanced)
        ll.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left_inner)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(left_inner.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(scroll, 1)
        lv.addLayout(self._build_buttons())
        return left

    def _build_settings_form(self) -> QGroupBox:
        """The "Settings" box: dataset, model file, the main fields, SVM kernel, false alarms, resume."""
        self.dataset_label = QLabel()
        self.dataset_label.setWordWrap(True)
        out_row = self._build_output_row()
        main_form = QFormLayout()
        main_form.addRow("Dataset:", self.dataset_label)
        main_form.addRow("Save model as:", out_row)
        for owner, name, label in MAIN_FIELDS:
            main_form.addRow(label + ":", self._editor(owner, name))
        self.kernel = QComboBox()
        self.kernel.addItems(list(self.api.SVM_KERNELS))
        self.kernel.setCurrentText(CalibrationConfig().svm_kernel)
        self.kernel.setToolTip("Kernel of the one-vs-rest SVMs fitted on the embeddings (rbf = Gaussian).")
        main_form.addRow("SVM kernel:", self.kernel)
        self.far = QDoubleSpinBox()
        self.far.setRange(*(100 * x for x in self.api.FALSE_ALARM_RANGE))
        self.far.setDecimals(1)
        self.far.setSuffix(" %")
        self.far.setValue(self.settings.false_alarm_rate * 100)
        self.far.setToolTip("Share of held-out genuine notes allowed to be flagged when thresholds are calibrated.")
        main_form.addRow("False alarms allowed:", self.far)
        self.resume = QCheckBox("Continue from the last checkpoint")
        self.resume.setToolTip("Resume a cancelled run of the same model file instead of starting afresh.")
        main_form.addRow("", self.resume)
        settings_box = QGroupBox("Settings")
        settings_box.setLayout(main_form)
        return settings_box

    def _build_output_row(self) -> QHBoxLayout:
        """The model file's path with its browse button."""
        self.out_edit = QLineEdit()
        self.out_edit.setToolTip("Where the trained model is saved (a .bgm file).")
        out_browse = QPushButton("\u2026")
        out_browse.setFixedWidth(32)
        out_browse.setToolTip("Choose where to save the model")
        out_browse.clicked.connect(self._browse_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        out_row.addWidget(out_browse)
        return out_row

    def _build_advanced_settings(self) -> None:
        """The hidden "Advanced" box and the check box that shows it."""
        adv_form = QFormLayout()
        for owner, name, label in ADVANCED_FIELDS:
            adv_form.addRow(label + ":", self._editor(owner, name))
        self.advanced = QGroupBox("Advanced")
        self.advanced.setLayout(adv_form)
        self.advanced.setVisible(False)
        self.advanced_toggle = QCheckBox("Show advanced settings")
        self.advanced_toggle.setToolTip("Embedding size, distance, mining, learning rate, validation share, ...")

    def _build_buttons(self) -> QHBoxLayout:
        """Start, Cancel and Defaults."""
        self.start_button = QPushButton("Start training")
        self.start_button.setObjectName("primary")
        self.start_button.setToolTip("Start training (Ctrl+Return)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop after the current step; the last checkpoint is kept (Esc)")
        self.cancel_button.setEnabled(False)
        self.defaults_button = QPushButton("Defaults")
        self.defaults_button.setToolTip("Put every setting back to its default")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.defaults_button)
        return buttons

    def _build_results_panel(self) -> QWidget:
        """The right side: progress bar, chart beside the evaluation table, log, and the outcome."""
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(6, 0, 0, 0)
        rl.addLayout(self._build_progress_area())
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self._build_chart())
        upper.addWidget(self._build_evaluation_table())
        upper.setSizes([500, 320])
        rsplit = QSplitter(Qt.Orientation.Vertical)
        rsplit.addWidget(upper)
        rsplit.addWidget(self._build_log_view())
        rsplit.setSizes([360, 200])
        rl.addWidget(rsplit, 1)
        rl.addLayout(self._build_result_row())
        return right

    def _build_progress_area(self) -> QHBoxLayout:
        """The progress bar and the ETA beside it."""
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Not started")
        self.progress.setTextVisible(True)
        self.eta = QLabel("")
        ph = QHBoxLayout()
        ph.addWidget(self.progress, 1)
        ph.addWidget(self.eta)
        return ph

    def _build_chart(self) -> LiveLineChart:
        self.chart = LiveLineChart("training loss", "validation AUC")
        return self.chart

    def _build_log_view(self) -> QPlainTextEdit:
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setPlaceholderText("Messages from the training run appear here.")
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        return self.log_view

    def _build_evaluation_table(self) -> QTableWidget:
        self.evaluation = QTableWidget(0, 2)
        self.evaluation.setHorizontalHeaderLabels(["Held-out evaluation", "Value"])
        self.evaluation.setMinimumWidth(260)
        self.evaluation.verticalHeader().hide()
        self.evaluation.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.evaluation.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.evaluation.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.evaluation.verticalHeader().setDefaultSectionSize(self.evaluation.fontMetrics().height() + 6)
        self.evaluation.setWordWrap(False)
        return self.evaluation

    def _build_result_row(self) -> QHBoxLayout:
        """The outcome's text and the (hidden) "Use this model" button of a cancelled run."""
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.use_button = QPushButton("Use this model")
        self.use_button.setToolTip("Verify notes with the model of the cancelled run")
        self.use_button.hide()
        res_row = QHBoxLayout()
        res_row.addWidget(self.result_label, 1)
        res_row.addWidget(self.use_button)
        return res_row

    def _connect_signals(self) -> None:
        self.advanced_toggle.toggled.connect(self.advanced.setVisible)
        self.start_button.clicked.connect(self.start_training)
        self.cancel_button.clicked.connect(self.cancel_training)
        self.defaults_button.clicked.connect(self.reset_defaults)
        self.use_button.clicked.connect(self.use_cancelled_model)
        self.state.dataset_changed.connect(self._update_dataset)

    # --- form ---------------------------------------------------------------------------------

    def _editor(self, owner: str, name: str) -> QWidget:
        cls = ModelConfig if owner == "model" else TrainConfig
        f = _field_map(cls)[name]
        default = f.default
        tip = f.metadata.get("help", "")
        choices = _choices(cls, name)
        w: QWidget
        if name == "backbone":
            w = QComboBox()
            for bname, desc in available_backbones(self.api):
                w.addItem(bname)
                w.setItemData(w.count() - 1, desc, Qt.ItemDataRole.ToolTipRole)
            w.setCurrentText(str(default))
        elif choices:
            w = QComboBox()
            w.addItems(choices)
            w.setCurrentText(str(default))
        elif isinstance(default, bool):
            w = QCheckBox()
            w.setChecked(default)
        elif isinstance(default, int):
            w = QSpinBox()
            w.setRange(0 if name in ("seed", "steps_per_epoch") else 1, 100000 if name == "seed" else 4096)
            w.setValue(default)
        elif isinstance(default, float):
            w = QDoubleSpinBox()
            if name in ("learning_rate", "weight_decay"):
                w.setDecimals(5)
                w.setRange(0.0, 1.0)
                w.setSingleStep(1e-4)
            else:
                w.setDecimals(2 if name != "val_fraction" else 2)
                w.setRange(0.0, 0.9 if name == "val_fraction" else 10.0)
                w.setSingleStep(0.05)
            w.setValue(default)
        else:
            w = QLineEdit(str(default))
        w.setToolTip(f"{tip}\nDefault: {default}")
        w.setObjectName(f"{owner}.{name}")
        self.editors[(owner, name)] = w
        if name == "loss":
            w.currentTextChanged.connect(self._sync_margin2)  # type: ignore[attr-defined]
        return w

    def _sync_margin2(self) -> None:
        loss = self.editors[("train", "loss")]
        self.editors[("train", "margin2")].setEnabled(loss.currentText() == "quadruplet")  # type: ignore[attr-defined]

    def reset_defaults(self) -> None:
        """Put every editor back to its dataclass default."""
        for (owner, name), w in self.editors.items():
            cls = ModelConfig if owner == "model" else TrainConfig
            self._set_value(w, _field_map(cls)[name].default)
        self.kernel.setCurrentText(CalibrationConfig().svm_kernel)
        self.far.setValue(self.settings.false_alarm_rate * 100)

    def set_value(self, owner: str, name: str, value: Any) -> None:
        """Set one editor (``owner`` is "train" or "model")."""
        self._set_value(self.editors[(owner, name)], value)

    @staticmethod
    def _set_value(w: QWidget, value: Any) -> None:
        if isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.setValue(value)
        elif isinstance(w, QLineEdit):
            w.setText(str(value))

    @staticmethod
    def _get_value(w: QWidget) -> Any:
        if isinstance(w, QComboBox):
            return w.currentText()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            return w.value()
        if isinstance(w, QLineEdit):
            return w.text()
        raise TypeError(type(w))

    def config(self) -> TrainConfig:
        """The :class:`TrainConfig` the form describes."""
        model_kwargs = {n: self._get_value(w) for (o, n), w in self.editors.items() if o == "model"}
        train_kwargs = {n: self._get_value(w) for (o, n), w in self.editors.items() if o == "train"}
        return TrainConfig(model=ModelConfig(**model_kwargs), **train_kwargs)

    def default_out_path(self, avoid: Path | None = None) -> Path:
        """A new model file name in the user's data folder, stamped with the date and time."""
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M")
        path = app_data_dir() / "models" / f"model-{stamp}.bgm"
        i = 2
        while path == avoid or path.exists():
            path = path.with_name(f"model-{stamp}-{i}.bgm")
            i += 1
        return path

    def _browse_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the model as", self.out_edit.text(), "Model files (*.bgm)")
        if path:
            self.out_edit.setText(path if path.endswith(".bgm") else path + ".bgm")

    def _update_dataset(self, *_: object) -> None:
        root = self.state.dataset_root
        if root is None:
            self.dataset_label.setText("<i>none \u2014 choose one on the Datasets page</i>")
        else:
            self.dataset_label.setText(str(root))
        self.start_button.setEnabled(root is not None and self.job is None)

    # --- running ------------------------------------------------------------------------------

    def start_training(self) -> None:
        """Start a training run in a worker thread (does nothing while one is running)."""
        if self.job is not None:
            return
        root = self.state.dataset_root
        if root is None:
            self.show_error("No dataset", "Choose a dataset folder on the Datasets page first.")
            return
        out = Path(self.out_edit.text().strip() or self.default_out_path())
        try:
            config = self.config()
        except Exception as exc:  # noqa: BLE001 - a bad value is shown, not raised
            self.show_error("Check the settings", str(exc))
            return
        try:
            calibration = CalibrationConfig(false_alarm_rate=self.far.value() / 100.0, svm_kernel=self.kernel.currentText())
        except Exception as exc:  # noqa: BLE001 - a bad value is shown, not raised
            self.show_error("Check the settings", str(exc))
            return
        resume = self.resume.isChecked()
        api = self.api
        self.outcome = None
        self.use_button.hide()
        self.chart.clear()
        self.evaluation.setRowCount(0)
        self.result_label.setText("")
        self._last_log = ""
        self._last_stage = ""
        self.log_line(f"Training on {root} \u2192 {out}")
        self.log_line(
            f"loss={config.loss} margin={config.margin} backbone={config.model.backbone} epochs={config.epochs} "
            f"batch={config.classes_per_batch}\u00d7{config.images_per_class} "
            f"image={config.model.image_width}\u00d7{config.model.image_height}"
        )

        def work(ctx: JobContext) -> Any:
            return api.train_model(
                root, out, config, calibration=calibration, resume=resume,
                progress=ctx.progress, cancel=ctx.cancel,
            )

        job = self.start_job(work, "train")
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        job.done.connect(self._on_done)
        self.job = job
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.defaults_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Starting\u2026")
        job.start()

    def cancel_training(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress.setFormat("Cancelling\u2026")
            self.log_line("Cancelling: stopping after the current step\u2026")

    def log_line(self, text: str) -> None:
        stamp = _dt.datetime.now().strftime("%H:%M:%S")
        self.log_view.appendPlainText(f"{stamp}  {text}")

    def _on_progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(min(p.done, p.total))
            self.progress.setFormat(f"{p.message or p.stage}  %p%")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(p.message or p.stage)
        self.eta.setText(f"ETA {format_seconds(p.eta_s)}" if p.eta_s is not None else "")
        m = p.metrics
        epoch = m.get("epoch")
        val_key = next((k for k in m if k.startswith("val_")), None)
        loss = m.get("train_loss", m.get("loss"))
        if epoch is not None:
            if loss is not None:
                self.chart.add_left(float(epoch), float(loss))
            if val_key is not None and not self._repeats_previous_epoch(float(epoch), float(m[val_key])):
                self.chart.right_name = f"validation {val_key[4:].upper()}"
                self.chart.add_right(float(epoch), float(m[val_key]))
        epoch_end = val_key is not None and not self._repeats_previous_epoch(float(epoch or 0), float(m[val_key]))
        if p.stage != self._last_stage or epoch_end or (p.total and p.done >= p.total):
            line = p.message or (p.stage + "  " + "  ".join(
                f"{k}={v:.4g}" for k, v in m.items() if isinstance(v, (int, float))))
            if line != self._last_log:
                self.log_line(line)
                self._last_log = line
        self._last_stage = p.stage

    def _repeats_previous_epoch(self, epoch: float, value: float) -> bool:
        """Whether a step report merely repeats the last finished epoch's validation figure."""
        prev = [y for x, y in self.chart.right if x == epoch - 1]
        return bool(prev) and abs(prev[0] - value) < 1e-12

    def _on_finished(self, outcome: Any) -> None:
        self.outcome = outcome
        history = list(getattr(outcome, "history", None) or [])
        if history:
            loss_pts, val_pts = [], []
            val_name = None
            for h in history:
                e = h.get("epoch")
                if e is None:
                    continue
                loss = h.get("train_loss", h.get("loss"))
                if loss is not None:
                    loss_pts.append((e, loss))
                vk = val_name or next((k for k in h if k.startswith("val_")), None)
                if vk and h.get(vk) is not None:
                    val_name = vk
                    val_pts.append((e, h[vk]))
            if val_name:
                self.chart.right_name = f"validation {val_name[4:].upper()}"
            self.chart.set_series(loss_pts, val_pts)
        metrics = dict(getattr(outcome, "metrics", None) or {})
        self.show_metrics(metrics)
        model_path = getattr(outcome, "model_path", None)
        bundle = getattr(outcome, "bundle", None)
        cancelled = bool(getattr(outcome, "cancelled", False))
        if cancelled:
            self.progress.setFormat("Cancelled")
            epochs = len(history)
            text = (f"Training was cancelled after {epochs} epoch{'s' if epochs != 1 else ''}; the best weights so far "
                    f"were saved to {model_path} and the checkpoint was kept.")
            self.log_line(text)
            self.result_label.setText(
                text + " Press <b>Use this model</b> to verify with it, or tick \u201cContinue from the last "
                "checkpoint\u201d and press Start to resume."
            )
            self.use_button.setVisible(bundle is not None)
        else:
            self.progress.setRange(0, 1)
            self.progress.setValue(1)
            self.progress.setFormat("Finished")
            self.log_line(f"Finished. Model saved to {model_path}")
            self.result_label.setText(
                f"<b>Finished.</b> The model was saved to {model_path} and is now in use on the Verify page."
            )
        warnings = [str(w) for w in (getattr(bundle, "summary", None) or {}).get("warnings", [])]
        if warnings:  # say loudly what was not calibrated, on the page and in the log
            for line in warnings:
                self.log_line(f"WARNING: {line}")
            items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
            self.result_label.setText(
                self.result_label.text()
                + f"<div style='color:#b71c1c'><b>Check before relying on this model:</b><ul>{items}</ul></div>"
            )
        if bundle is not None and not cancelled:
            self.state.set_model(bundle, model_path)
            if model_path is not None and Path(self.out_edit.text()) == Path(model_path):
                self.out_edit.setText(str(self.default_out_path(avoid=Path(model_path))))  # never overwrite by accident

    def use_cancelled_model(self) -> None:
        """Put the model of a cancelled run in use."""
        bundle = getattr(self.outcome, "bundle", None)
        if bundle is not None:
            self.state.set_model(bundle, getattr(self.outcome, "model_path", None))
            self.state.message.emit("The model of the cancelled run is now in use.", 5000)
        self.use_button.hide()

    def show_metrics(self, metrics: dict[str, Any]) -> None:
        """Fill the evaluation table from a metrics dict (nested dicts are skipped)."""
        rows = [format_metric(k, v) for k, v in metrics.items() if not isinstance(v, (dict, list, tuple))]
        self.evaluation.setRowCount(len(rows))
        for i, (name, value) in enumerate(rows):
            name_item = QTableWidgetItem(name)
            name_item.setToolTip(name)
            self.evaluation.setItem(i, 0, name_item)
            item = QTableWidgetItem(value)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.evaluation.setItem(i, 1, item)

    def _on_failed(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Failed")
        self.log_line(f"Failed: {message}")
        self.result_label.setText(f"<span style='color:#c62828'><b>Training failed:</b> {message}</span>")
        self.show_error("Training failed", message)

    def _on_cancelled(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Cancelled")
        self.log_line("Training cancelled; the last checkpoint was kept.")
        self.result_label.setText(
            "Training was cancelled; the last checkpoint was kept. "
            "Tick \u201cContinue from the last checkpoint\u201d and press Start to resume."
        )

    def _on_done(self) -> None:
        self.job = None
        self.cancel_button.setEnabled(False)
        self.defaults_button.setEnabled(True)
        self.eta.setText("")
        self._update_dataset()
