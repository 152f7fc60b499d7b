"""Verify page: open files or folders, drop them, or paste an image; see a verdict card per note."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidgetItem,
    QWidget,
)

from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.pages.history import history_link
from banknote_guard.gui.state import AppState
from banknote_guard.gui.style import verdict_style
from banknote_guard.gui.widgets.card_split import beside_card
from banknote_guard.gui.widgets.images import qimage_to_rgb
from banknote_guard.gui.widgets.result_card import ResultCard
from banknote_guard.gui.widgets.tables import row_table
from banknote_guard.gui.widgets.thumbnail_grid import IMAGE_SUFFIXES
from banknote_guard.gui.workers import Job, JobContext, running_jobs
from banknote_guard.progress import EtaEstimator, Progress, check_cancel, format_seconds

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import VerificationResult

#: Notes verified per call to the engine; results reach the table after each chunk.
CHUNK_SIZE = 8
COLUMNS = ["File", "Verdict", "Denomination", "Score / threshold", "Time"]
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)) + ");;All files (*)"


def expand_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, folders replaced by the image files inside them (recursively, sorted)."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
    return out


def short_error(message: str | None, path: str) -> str:
    """An error message without the file's full path (the row already names the file)."""
    if not message:
        return "error"
    for quoted in (repr(path), f'"{path}"', path):
        message = message.replace(" " + quoted, "")
    return message


class VerifyPage(Page):
    """Verifies notes in a worker thread; results stream into a table, the selected row into a card.

    Signals:
        suspect_found(int): a batch found suspect notes (count so far); the window may alert.
    """

    title = "Verify notes"
    hint = (
        "Open image files or a folder (Ctrl+O / Ctrl+Shift+O), drag them onto this page, or paste a picture "
        "from the clipboard (Ctrl+V). Each note gets a verdict: \u2714 GENUINE, \u2716 SUSPECT, ? UNCERTAIN, ? UNKNOWN or \u21bb RETAKE."
    )
    suspect_found = Signal(int)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.setAcceptDrops(True)
        self.results: list[VerificationResult] = []
        self.job: Job | None = None
        self._alerted = False
        self._batch_started = 0.0

        self.open_button = QPushButton("Open files\u2026")
        self.open_button.setToolTip("Verify image files (Ctrl+O)")
        self.open_button.clicked.connect(self.open_files)
        self.folder_button = QPushButton("Open folder\u2026")
        self.folder_button.setToolTip("Verify every image in a folder and its sub-folders (Ctrl+Shift+O)")
        self.folder_button.clicked.connect(self.open_folder)
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip("Verify the image on the clipboard (Ctrl+V)")
        self.paste_button.clicked.connect(self.paste)
        self.samples_button = QPushButton("Sample notes")
        self.samples_button.setToolTip("Verify the sample images that come with the application")
        self.samples_button.clicked.connect(self.verify_samples)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Empty the table (Ctrl+L)")
        self.clear_button.clicked.connect(self.clear)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the batch (Esc)")
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.cancel_button.hide()
        row = QHBoxLayout()
        for b in (self.open_button, self.folder_button, self.paste_button, self.samples_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.clear_button)
        row.addWidget(self.cancel_button)
        self.body.addLayout(row)

        self.info = QLabel()
        self.info.setObjectName("infoBanner")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.body.addWidget(self.info)
        self.alert = QLabel()
        self.alert.setObjectName("alertBanner")
        self.alert.setWordWrap(True)
        self.alert.hide()
        self.body.addWidget(self.alert)
        self.progress = QProgressBar()
        self.progress.hide()
        self.body.addWidget(self.progress)

        self.table = row_table(COLUMNS)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        fm = self.table.fontMetrics()
        bold = QFont(self.table.font())
        bold.setBold(True)
        bfm = QFontMetrics(bold)
        samples = {1: "\u2714 GENUINE", 2: "Denomination", 3: "Score / threshold", 4: "0000 ms"}
        for col, sample in samples.items():
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, max(bfm.horizontalAdvance(sample), fm.horizontalAdvance(sample)) + 22)
        self.table.setWordWrap(False)
        # File names differ at their ends ("..._front_genuine.jpg"): cut long text in the middle.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.itemSelectionChanged.connect(self._show_selected)

        self.drop_hint = QLabel(
            "<p style='font-size:14pt'><b>Drop note images or folders here</b></p>"
            "<p>or use <b>Open files</b>, <b>Open folder</b> or <b>Paste</b> above.</p>"
        )
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_hint.setObjectName("dropArea")
        self.drop_hint.setStyleSheet("border: 2px dashed #9aa5b1; border-radius: 6px; background: #f6f8fa; color: #4a4f55;")
        self.table_stack = QStackedWidget()
        self.table_stack.addWidget(self.drop_hint)
        self.table_stack.addWidget(self.table)

        self.card = ResultCard()
        self.body.addWidget(beside_card(self.table_stack, self.card, card_min_width=380), 1)

        self.summary_label = QLabel(self.api.summarise([]).text())
        self.summary_label.setWordWrap(True)
        f = QFont(self.summary_label.font())
        f.setBold(True)
        self.summary_label.setFont(f)
        self.denom_label = QLabel("")
        self.denom_label.setWordWrap(True)
        self.body.addWidget(self.summary_label)
        self.body.addWidget(self.denom_label)

        state.model_changed.connect(self._model_changed)
        self._model_changed(state.model)

    # --- model ----------------------------------------------------------------------------------

    def _model_changed(self, model: Any) -> None:
        has = model is not None
        for b in (self.open_button, self.folder_button, self.paste_button):
            b.setEnabled(has)
        self.samples_button.setVisible(self._samples_dir() is not None)
        self.samples_button.setEnabled(has)
        if has:
            self.info.hide()
        else:
            self.info.setText(
                "<b>No model is loaded.</b> To get one: train a model on the <b>Training</b> page "
                "(after choosing a dataset on the <b>Datasets</b> page), or open a model file with "
                "<b>File \u203a Open model\u2026</b> (Ctrl+M)."
            )
            self.info.show()

    def _samples_dir(self) -> Path | None:
        try:
            d = Path(self.api.sample_notes_dir())
        except Exception:  # noqa: BLE001
            return None
        return d if d.is_dir() and any(d.iterdir()) else None

    # --- inputs -----------------------------------------------------------------------------------

    def open_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Choose note images", self.settings.dialog_folder, IMAGE_FILTER)
        if files:
            self.settings.last_folder = str(Path(files[0]).parent)
            self.verify(files)

    def open_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of note images", self.settings.dialog_folder)
        if folder:
            self.settings.last_folder = folder
            self.verify([folder])

    def verify_samples(self) -> None:
        d = self._samples_dir()
        if d is not None:
            self.verify([d], remember=False)

    def paste(self) -> None:
        """Verify the clipboard: an image, or file paths / URLs of images."""
        mime = QApplication.clipboard().mimeData()
        if mime is None:
            return
        if mime.hasUrls() and any(u.isLocalFile() for u in mime.urls()):
            self.verify([u.toLocalFile() for u in mime.urls() if u.isLocalFile()])
            return
        image = QApplication.clipboard().image()
        if image.isNull():
            self.state.message.emit("The clipboard holds no image.", 4000)
            return
        self.verify_array(qimage_to_rgb(image), "clipboard")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt API
        mime = event.mimeData()
        if (mime.hasUrls() and any(u.isLocalFile() for u in mime.urls())) or mime.hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt API
        mime = event.mimeData()
        if mime.hasUrls():
            paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
            if paths:
                self.verify(paths)
                event.acceptProposedAction()
                return
        if mime.hasImage():
            self.verify_array(qimage_to_rgb(mime.imageData()), "dropped image")
            event.acceptProposedAction()

    # --- running ----------------------------------------------------------------------------------

    def _ready(self) -> bool:
        if self.state.model is None:
            self.show_error("No model", "Load or train a model before verifying notes.")
            return False
        if self.job is not None:
            self.state.message.emit("A batch is still running; wait for it or press Cancel.", 4000)
            return False
        if running_jobs("enroll"):
            self.state.message.emit("Enrollment is changing the model; verify again in a moment.", 4000)
            return False
        return True

    def verify(self, paths: Iterable[str | Path], remember: bool = True) -> Job | None:
        """Verify files and folders in a worker; results stream into the table in chunks."""
        if not self._ready():
            return None
        paths = [str(p) for p in paths]
        if remember:
            for p in paths[:5]:
                self.settings.add_recent_file(p)
        model = self.state.model
        api = self.api
        recording = history_link(self.state).recording("file", model)  # every note goes into the history
        scale = self.settings.threshold_scale

        def work(ctx: JobContext) -> int:
            files = expand_inputs(paths)
            eta = EtaEstimator(len(files))
            ctx.progress(Progress("verify", "Verifying notes", 0, len(files)))
            for start in range(0, len(files), CHUNK_SIZE):
                check_cancel(ctx.cancel)
                chunk = files[start : start + CHUNK_SIZE]
                results = api.verify_paths(model, chunk, cancel=ctx.cancel)
                recording.record([api.rejudge(r, scale) for r in results])  # as the operator sees them
                ctx.partial(results)
                done = start + len(chunk)
                ctx.progress(Progress("verify", "Verifying notes", done, len(files), eta.eta(done)))
            return len(files)

        return self._run(work, "verify-batch")

    def verify_array(self, rgb: Any, name: str) -> Job | None:
        """Verify one image held in memory (clipboard, dropped picture)."""
        if not self._ready():
            return None
        model = self.state.model
        api = self.api
        recording = history_link(self.state).recording("clipboard", model)
        scale = self.settings.threshold_scale

        def work(ctx: JobContext) -> int:
            result = api.verify_image(model, rgb, name)
            recording.record([api.rejudge(result, scale)], rgb=rgb)
            ctx.partial([result])
            return 1

        return self._run(work, "verify-image")

    def _run(self, work: Any, name: str) -> Job:
        job = self.start_job(work, name)
        job.partial.connect(self.add_results)
        job.progress.connect(self._on_progress)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(lambda: self.state.message.emit("Batch cancelled.", 4000))
        job.done.connect(self._on_done)
        self.job = job
        self._alerted = False
        self._batch_started = time.monotonic()
        self.cancel_button.show()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Verifying\u2026")
        self.progress.show()
        return job.start()

    def _on_progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
            self.progress.setFormat(f"%v of %m notes  (ETA {format_seconds(p.eta_s)})")

    def _on_failed(self, message: str) -> None:
        self.show_error("Verification stopped", message)

    def _on_done(self) -> None:
        self.job = None
        self.cancel_button.hide()
        self.progress.hide()
        n = self.table.rowCount()
        if n and self.table.currentRow() < 0:
            self.table.selectRow(0)

    # --- results ----------------------------------------------------------------------------------

    def displayed(self, result: VerificationResult) -> VerificationResult:
        """The result as judged with the threshold scale of the settings (the engine's rule)."""
        return self.api.rejudge(result, self.settings.threshold_scale)

    def add_results(self, results: list[VerificationResult]) -> None:
        """Append results to the table (the worker calls this once per chunk)."""
        first_new = self.table.rowCount()
        for raw in results:
            self.results.append(raw)
            self._add_row(self.displayed(raw))
        self.table_stack.setCurrentWidget(self.table)
        self._refresh_summary()
        if first_new == 0 and self.table.rowCount():
            self.table.selectRow(0)

    def _add_row(self, r: VerificationResult) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        style = verdict_style(r.verdict, r.status)
        name = Path(r.path).name or r.path
        if r.ok:
            score = (f"{r.counterfeit_score:.2f} / {r.threshold:.2f}"
                     if r.counterfeit_score is not None and r.threshold is not None else "\u2014")
            cells = [name, style.label, r.denomination or "\u2014", score,
                     f"{r.seconds * 1000:.0f} ms" if r.seconds is not None else ""]
        else:
            cells = [name, style.label, short_error(r.error, r.path), "", ""]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            why = r.error or "\n".join([style.sentence, *r.reasons])
            item.setToolTip(r.path if col == 0 else (why if col in (1, 2) else text))
            if col == 1:
                item.setBackground(QColor(style.background))
                item.setForeground(QColor(style.foreground))
                f = item.font()
                f.setBold(True)
                item.setFont(f)
            if col in (3, 4):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)
        if not r.ok:
            self.table.setSpan(row, 2, 1, 3)

    def _refresh_summary(self) -> None:
        summary = self.api.summarise([self.displayed(raw) for raw in self.results])
        self.summary = summary
        self.summary_label.setText(summary.text())
        parts = []
        for denom in sorted(summary.per_denomination):
            c = summary.per_denomination[denom]
            bits = ", ".join(f"{c[k]} {k}" for k in ("genuine", "suspect") if c.get(k))
            parts.append(f"{denom}: {bits}")
        self.denom_label.setText("Per denomination \u2014 " + ";  ".join(parts) if parts else "")
        n_suspect = summary.verdicts.get("suspect", 0)
        if n_suspect:
            self.alert.setText(
                f"\u26a0 SUSPECT NOTE{'S' if n_suspect > 1 else ''}: {n_suspect} possible counterfeit"
                f"{'s' if n_suspect > 1 else ''} in this batch. Set {'them' if n_suspect > 1 else 'it'} aside "
                "and check by hand (rows marked \u2716 SUSPECT)."
            )
            self.alert.show()
            if not self._alerted:
                self._alerted = True
                if self.settings.alert_sound:
                    QApplication.beep()
                self.suspect_found.emit(n_suspect)
        else:
            self.alert.hide()

    def refresh(self) -> None:
        """Redraw every row (after the threshold scale changed)."""
        sel = self.table.currentRow()
        self.table.setRowCount(0)
        for raw in self.results:
            self._add_row(self.displayed(raw))
        self._refresh_summary()
        if 0 <= sel < self.table.rowCount():
            self.table.selectRow(sel)

    def clear(self) -> None:
        """Empty the table, the card and the alert."""
        self.results.clear()
        self.table.setRowCount(0)
        self.table_stack.setCurrentWidget(self.drop_hint)
        self.card.clear()
        self._alerted = False
        self._refresh_summary()

    def _show_selected(self) -> None:
        row = self.table.currentRow()
        rows = self.table.selectionModel().selectedRows()
        if rows:
            row = rows[0].row()
        if 0 <= row < len(self.results):
            self.card.show_result(self.displayed(self.results[row]))
