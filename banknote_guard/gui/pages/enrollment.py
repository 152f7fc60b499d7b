"""Enrollment page: add a denomination to the model from a few genuine images, without retraining."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)
from PySide6.QtCore import Qt

from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.state import AppState, app_data_dir
from banknote_guard.gui.widgets.denomination_fields import denomination_edits
from banknote_guard.gui.widgets.thumbnail_grid import ThumbnailGrid, list_images
from banknote_guard.gui.workers import Job, JobContext, running_jobs
from banknote_guard.progress import Progress


class EnrollmentPage(Page):
    """Enrolls one denomination from a folder of genuine images into the model in use, then saves it."""

    title = "Enrollment"
    hint = (
        "Teach the model a new denomination (or refresh one) from a folder of a few genuine images \u2014 "
        "5 to 20 photos or scans of different notes are enough; include both sides, captured the way notes "
        "will be verified. No retraining is needed."
    )

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.job: Job | None = None
        self.last_report: Any = None

        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.known = QListWidget()
        self.known.setToolTip("Denominations the model in use recognises")
        known_box = QGroupBox("Denominations in the model")
        kl = QVBoxLayout(known_box)
        kl.addWidget(self.model_label)
        kl.addWidget(self.known, 1)

        self.currency, self.denomination = denomination_edits("50")
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Folder with a few genuine images of this denomination")
        self.folder.editingFinished.connect(self._folder_changed)
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self.choose_folder)
        frow = QHBoxLayout()
        frow.addWidget(self.folder, 1)
        frow.addWidget(browse)
        self.save_path = QLineEdit()
        self.save_path.setToolTip("The model file is saved here after enrolling (the bundled demo model is never overwritten).")
        sbrowse = QPushButton("\u2026")
        sbrowse.setFixedWidth(32)
        sbrowse.clicked.connect(self._browse_save)
        srow = QHBoxLayout()
        srow.addWidget(self.save_path, 1)
        srow.addWidget(sbrowse)
        form = QFormLayout()
        form.addRow("Currency:", self.currency)
        form.addRow("Denomination:", self.denomination)
        form.addRow("Genuine images:", frow)
        form.addRow("Save model to:", srow)

        self.enroll_button = QPushButton("Enroll")
        self.enroll_button.setObjectName("primary")
        self.enroll_button.setMinimumWidth(120)
        self.enroll_button.setToolTip("Add the denomination to the model and save it")
        self.enroll_button.clicked.connect(self.enroll)
        self.progress = QProgressBar()
        self.progress.hide()
        brow = QHBoxLayout()
        brow.addWidget(self.enroll_button)
        brow.addWidget(self.progress, 1)
        brow.addStretch(1)
        self.outcome = QLabel("")
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.RichText)
        self.thumbs_title = QLabel("Images in the folder:")
        self.thumbs = ThumbnailGrid()

        new_box = QGroupBox("Add a denomination")
        nl = QVBoxLayout(new_box)
        nl.addLayout(form)
        nl.addLayout(brow)
        nl.addWidget(self.outcome)
        nl.addWidget(self.thumbs_title)
        nl.addWidget(self.thumbs, 1)

        split = QSplitter()
        split.addWidget(new_box)
        split.addWidget(known_box)
        split.setSizes([760, 300])
        self.body.addWidget(split, 1)

        state.model_changed.connect(self._model_changed)
        self._model_changed(state.model)

    # --- model ----------------------------------------------------------------------------------

    def _model_changed(self, model: Any) -> None:
        self.known.clear()
        if model is None:
            self.model_label.setText("No model is loaded. Train one or open a model file (File > Open model).")
            self.enroll_button.setEnabled(False)
            return
        denoms = sorted(getattr(model, "denominations", []) or [])
        self.known.addItems(denoms)
        name = self.state.model_path.name if self.state.model_path else "model"
        self.model_label.setText(f"<b>{name}</b> recognises {len(denoms)} denominations:")
        self.enroll_button.setEnabled(self.job is None)
        self.save_path.setText(str(self.default_save_path()))

    def default_save_path(self) -> Path:
        """The model's own file, or a copy in the user's data folder when the model is the bundled demo."""
        path = self.state.model_path
        if path is None:
            return app_data_dir() / "models" / "enrolled.bgm"
        if self.state.is_demo_model():
            return app_data_dir() / "models" / f"{path.stem}-enrolled.bgm"
        return path

    def _browse_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the model as", self.save_path.text(), "Model files (*.bgm)")
        if path:
            self.save_path.setText(path)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of genuine images", self.folder.text() or self.settings.last_folder)
        if folder:
            self.settings.last_folder = folder
            self.set_folder(folder)

    def set_folder(self, folder: str | Path) -> None:
        """Use ``folder`` and guess currency/denomination from a .../<CUR>/<DEN>/genuine path."""
        self.folder.setText(str(folder))
        p = Path(folder)
        parts = p.parts
        if p.name.lower() == "genuine" and len(parts) >= 3:
            if not self.currency.text():
                self.currency.setText(parts[-3])
            if not self.denomination.text():
                self.denomination.setText(parts[-2])
        self._folder_changed()

    def _folder_changed(self) -> None:
        paths = list_images(self.folder.text().strip()) if self.folder.text().strip() else []
        self.thumbs_title.setText(f"{len(paths)} images in the folder:" if paths else "No images in the folder.")
        self.thumbs.set_paths(paths[:40])

    # --- enrolling ---------------------------------------------------------------------------------

    def enroll(self) -> None:
        """Enroll the denomination in a worker thread, then save the model."""
        model = self.state.model
        cur, den = self.currency.text().strip(), self.denomination.text().strip()
        folder = Path(self.folder.text().strip())
        if model is None:
            self.show_error("No model", "Load or train a model first.")
            return
        if not cur or not den:
            self.show_error("Missing name", "Enter the currency and the denomination.")
            return
        if not self.folder.text().strip() or not folder.is_dir():
            self.show_error("No folder", "Choose the folder of genuine images.")
            return
        if running_jobs("verify-batch", "verify-image"):
            self.show_error("Verification running", "Wait for the verification batch to finish (or cancel it), then enroll.")
            return
        save_to = Path(self.save_path.text().strip() or self.default_save_path())
        api = self.api

        def work(ctx: JobContext) -> Any:
            report = api.enroll_folder(model, cur, den, folder, progress=ctx.progress, cancel=ctx.cancel)
            if getattr(report, "enrolled", None):
                model.save(save_to)
            return report

        job = self.start_job(work, "enroll")
        job.progress.connect(self._on_progress)
        job.finished.connect(lambda r: self._on_finished(r, model, save_to))
        job.failed.connect(self._on_failed)
        job.done.connect(self._on_done)
        self.job = job
        self.enroll_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.outcome.setText(f"Enrolling {cur}/{den}\u2026")
        job.start()

    def _on_progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)

    def _on_finished(self, report: Any, model: Any, save_to: Path) -> None:
        self.last_report = report
        enrolled = list(getattr(report, "enrolled", []) or [])
        warnings = [str(w) for w in (getattr(report, "warnings", []) or [])]
        errors = [": ".join(map(str, e)) if isinstance(e, tuple) else str(e) for e in (getattr(report, "errors", []) or [])]
        lines = []
        for e in enrolled:
            denom = getattr(e, "denomination", e)
            k = getattr(e, "k", None)
            verb = "Refreshed" if getattr(e, "refreshed", False) else "Enrolled"
            line = f"<b style='color:#1e7e34'>\u2714 {verb} {denom}</b>"
            if k is not None:
                line += f" from {k} genuine image{'s' if k != 1 else ''}"
            threshold = getattr(e, "threshold", None)
            if threshold is not None:
                line += f" (threshold {threshold:.2f})"
            lines.append(line + ".")
            if getattr(e, "warning", None) and str(e.warning) not in warnings:
                warnings.insert(0, str(e.warning))
        if enrolled:
            lines.append(f"The model was saved to {save_to}.")
        else:
            lines.append("<b style='color:#c62828'>\u2716 Nothing was enrolled.</b>")
        lines += [f"\u26a0 {w}" for w in warnings]
        lines += [f"<span style='color:#c62828'>\u2716 {e}</span>" for e in errors[:10]]
        if len(errors) > 10:
            lines.append(f"\u2026 and {len(errors) - 10} more images could not be used.")
        self.outcome.setText("<br>".join(lines))
        if enrolled:
            self.state.set_model(model, save_to)

    def _on_failed(self, message: str) -> None:
        self.outcome.setText(f"<span style='color:#c62828'><b>Enrollment failed:</b> {message}</span>")
        self.show_error("Enrollment failed", message)

    def _on_done(self) -> None:
        self.job = None
        self.progress.hide()
        self.enroll_button.setEnabled(self.state.model is not None)
