"""Datasets page: choose a dataset folder (or build one denomination at a time), see counts and warnings."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.state import AppState, app_data_dir
from banknote_guard.gui.widgets.denomination_fields import denomination_edits
from banknote_guard.gui.widgets.tables import row_table
from banknote_guard.gui.widgets.thumbnail_grid import ThumbnailGrid, list_images
from banknote_guard.gui.workers import JobContext
from banknote_guard.progress import Progress, check_cancel, format_seconds, report

MAX_THUMBNAILS = 60


def field_of(obj: Any, *names: str, default: Any = None) -> Any:
    """The first of ``names`` that ``obj`` has (as an attribute or a dict key)."""
    for name in names:
        if isinstance(obj, dict) and name in obj:
            return obj[name]
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def _count(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, (list, tuple, set)):
        return len(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def stat_denom_id(stat: Any) -> str:
    """The ``CUR/DEN`` id of one per-denomination entry of a dataset report."""
    denom_id = field_of(stat, "denom_id", "id", "denomination_id")
    if denom_id:
        return str(denom_id)
    cur, den = field_of(stat, "currency", default=""), field_of(stat, "denomination", "name", default="")
    return f"{cur}/{den}" if cur else str(den)


def stat_sizes(stat: Any) -> str:
    """A short text of the image sizes of one denomination ("1200x600" or "800x400 - 1600x800")."""
    text = field_of(stat, "size_text", "sizes_text")
    if text:
        return str(text)
    lo = field_of(stat, "size_min", "min_size")
    hi = field_of(stat, "size_max", "max_size")
    med = field_of(stat, "size_median", "median_size")

    def fmt(s: Any) -> str:
        if isinstance(s, (tuple, list)) and len(s) == 2:
            return f"{int(s[0])}\u00d7{int(s[1])}"
        return str(s)

    if lo is not None and hi is not None:
        if tuple(lo) == tuple(hi):
            return fmt(lo)
        if med is not None and tuple(med) not in (tuple(lo), tuple(hi)):
            return f"{fmt(lo)} \u2013 {fmt(hi)} (typical {fmt(med)})"
        return f"{fmt(lo)} \u2013 {fmt(hi)}"
    if med is not None:
        return fmt(med)
    return ""


def warning_text(warning: Any, denom_id: str | None = None) -> str:
    """The message of a dataset warning, without a leading "<denomination>: " when it is shown in that row."""
    text = str(field_of(warning, "message", default=warning))
    if denom_id and text.startswith(denom_id + ": "):
        text = text[len(denom_id) + 2 :]
    return text


def copy_images(src: Path, dst: Path, cancel: Any = None) -> int:
    """Copy the image files of ``src`` into ``dst`` (created); returns how many were copied."""
    dst.mkdir(parents=True, exist_ok=True)
    n = 0
    for path in list_images(src):
        check_cancel(cancel)
        target = dst / path.name
        i = 1
        while target.exists():
            target = dst / f"{path.stem}_{i}{path.suffix}"
            i += 1
        shutil.copy2(path, target)
        n += 1
    return n


class AddDenominationDialog(QDialog):
    """Asks for a currency, a denomination, a folder of genuine images and (optionally) one of counterfeits."""

    def __init__(self, target_root: Path, start_dir: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a denomination")
        self.start_dir = start_dir
        self.currency, self.denomination = denomination_edits("20")
        self.genuine = QLineEdit()
        self.counterfeit = QLineEdit()
        self.counterfeit.setPlaceholderText("optional")
        form = QFormLayout()
        form.addRow("Currency:", self.currency)
        form.addRow("Denomination:", self.denomination)
        form.addRow("Genuine images:", self._with_browse(self.genuine))
        form.addRow("Counterfeit images:", self._with_browse(self.counterfeit))
        note = QLabel(f"The images are copied into the dataset folder <b>{target_root}</b>.")
        note.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c62828;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(note)
        lay.addWidget(self.problem)
        lay.addWidget(buttons)
        self.resize(560, 260)

    def _with_browse(self, edit: QLineEdit) -> QWidget:
        w = QWidget()
        h = QHBoxLayout(w)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(edit, 1)
        b = QPushButton("Browse\u2026")
        b.clicked.connect(lambda: self._browse(edit))
        h.addWidget(b)
        return w

    def _browse(self, edit: QLineEdit) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of images", edit.text() or self.start_dir)
        if folder:
            edit.setText(folder)

    def validate(self) -> str:
        """The first problem with the entries, or "" when they are fine."""
        cur, den = self.currency.text().strip(), self.denomination.text().strip()
        if not cur or not den:
            return "Enter the currency and the denomination."
        for text in (cur, den):
            if any(c in text for c in '/\\:*?"<>|') or text.startswith("."):
                return f"{text!r} cannot be used as a folder name."
        genuine = Path(self.genuine.text().strip())
        if not self.genuine.text().strip() or not genuine.is_dir():
            return "Choose the folder of genuine images."
        if not list_images(genuine):
            return f"No images found in {genuine}."
        cf = self.counterfeit.text().strip()
        if cf and not Path(cf).is_dir():
            return f"The counterfeit folder {cf} does not exist."
        return ""

    def _accept(self) -> None:
        problem = self.validate()
        self.problem.setText(problem)
        if not problem:
            self.accept()


class DatasetsPage(Page):
    """Shows a dataset's denominations with their counts and intake warnings, and thumbnails."""

    title = "Datasets"
    hint = (
        "Choose a dataset folder laid out as DATASET/<CURRENCY>/<DENOMINATION>/genuine/ (and optionally "
        "counterfeit/), or add folders of images one denomination at a time."
    )

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.report: Any = None
        self._scan_job = None

        self.root_edit = QLineEdit()
        self.root_edit.setReadOnly(True)
        self.root_edit.setPlaceholderText("No dataset folder chosen")
        self.choose_button = QPushButton("Choose dataset folder\u2026")
        self.choose_button.setToolTip("Open a folder in the dataset layout (Ctrl+D)")
        self.choose_button.clicked.connect(self.choose_root)
        self.add_button = QPushButton("Add denomination\u2026")
        self.add_button.setToolTip("Copy a folder of genuine (and optionally counterfeit) images in as one denomination")
        self.add_button.clicked.connect(self.add_denomination)
        self.rescan_button = QPushButton("Rescan")
        self.rescan_button.setToolTip("Read the folder again (F5)")
        self.rescan_button.clicked.connect(self.rescan)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.cancel_button.hide()
        row = QHBoxLayout()
        row.addWidget(QLabel("Dataset folder:"))
        row.addWidget(self.root_edit, 1)
        row.addWidget(self.choose_button)
        row.addWidget(self.add_button)
        row.addWidget(self.rescan_button)
        row.addWidget(self.cancel_button)
        self.body.addLayout(row)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.body.addWidget(self.progress)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.body.addWidget(self.summary)

        self.table = row_table(["Denomination", "Genuine", "Counterfeit", "Image size", "Warnings"])
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        for col in range(4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_thumbnails)

        self.warnings = QListWidget()
        self.warnings.setWordWrap(True)
        self.warnings_label = QLabel("Dataset warnings")

        self.label_combo = QComboBox()
        self.label_combo.addItems(["genuine", "counterfeit"])
        self.label_combo.currentIndexChanged.connect(self._show_thumbnails)
        self.thumbs_title = QLabel("Select a denomination to see its images.")
        self.thumbs = ThumbnailGrid()

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.table, 1)
        tl.addWidget(self.warnings_label)
        tl.addWidget(self.warnings)
        bottom = QWidget()
        bl = QVBoxLayout(bottom)
        bl.setContentsMargins(0, 0, 0, 0)
        th = QHBoxLayout()
        th.addWidget(self.thumbs_title, 1)
        th.addWidget(QLabel("Show:"))
        th.addWidget(self.label_combo)
        bl.addLayout(th)
        bl.addWidget(self.thumbs, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        self.splitter = split
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([260, 400])
        self.body.addWidget(split, 1)
        self._set_warnings([])

    # --- actions ------------------------------------------------------------------------------

    def choose_root(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a dataset folder", self.settings.dialog_folder)
        if folder:
            self.settings.last_folder = folder
            self.load_root(folder)

    def load_root(self, root: str | Path) -> None:
        """Use ``root`` as the dataset and scan it in the background."""
        self.state.set_dataset_root(root)
        self.root_edit.setText(str(root))
        self.rescan()

    def target_root(self) -> Path:
        """Where "Add denomination" copies images: the open dataset, else a new one in the user's data folder."""
        if self.state.dataset_root is not None:
            return self.state.dataset_root
        return app_data_dir() / "datasets" / "my_notes"

    def add_denomination(self) -> None:
        dialog = AddDenominationDialog(self.target_root(), self.settings.last_folder, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.import_denomination(
            dialog.currency.text().strip(),
            dialog.denomination.text().strip(),
            Path(dialog.genuine.text().strip()),
            Path(dialog.counterfeit.text().strip()) if dialog.counterfeit.text().strip() else None,
        )

    def import_denomination(self, currency: str, denomination: str, genuine: Path, counterfeit: Path | None) -> None:
        """Copy the folders into the dataset as ``currency/denomination`` (background), then rescan."""
        root = self.target_root()

        def work(ctx: JobContext) -> int:
            report(ctx.progress, "copy", f"Copying images of {currency}/{denomination}")
            n = copy_images(genuine, root / currency / denomination / "genuine", ctx.cancel)
            if counterfeit is not None:
                n += copy_images(counterfeit, root / currency / denomination / "counterfeit", ctx.cancel)
            return n

        job = self.start_job(work, "copy-images")
        copied: list[int] = []
        job.progress.connect(self._on_progress)
        job.finished.connect(copied.append)
        # rescan once the copy job is over (a page runs one job at a time)
        job.done.connect(lambda: copied and self._after_import(root, currency, denomination, copied[0]))
        job.failed.connect(lambda msg: self._scan_failed("Could not add the denomination", msg))
        job.cancelled.connect(lambda: self._scan_failed("", ""))
        self._set_running(True, "Copying images\u2026")
        job.start()

    def _after_import(self, root: Path, currency: str, denomination: str, n: int) -> None:
        self.state.message.emit(f"Added {n} images as {currency}/{denomination}", 5000)
        self._set_running(False)
        self.load_root(root)

    def rescan(self) -> None:
        """Read the dataset again (counts, sizes, warnings)."""
        root = self.state.dataset_root
        if root is None or self.is_busy():
            return
        api = self.api
        job = self.start_job(lambda ctx: api.inspect_dataset(root, progress=ctx.progress, cancel=ctx.cancel), "scan")
        job.progress.connect(self._on_progress)
        job.finished.connect(self.show_report)
        job.failed.connect(lambda msg: self._scan_failed("The dataset could not be read", msg))
        job.cancelled.connect(lambda: self._scan_failed("", ""))
        self._set_running(True, "Reading the dataset\u2026")
        job.start()

    # --- display ------------------------------------------------------------------------------

    def _set_running(self, running: bool, text: str = "") -> None:
        for b in (self.choose_button, self.add_button, self.rescan_button):
            b.setEnabled(not running)
        self.cancel_button.setVisible(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)
            self.progress.setFormat(text)
            self.summary.setText(text)

    def _on_progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
            self.progress.setFormat(f"{p.message or 'Reading'}  %v/%m  (ETA {format_seconds(p.eta_s)})")
        else:
            self.progress.setRange(0, 0)
            self.progress.setFormat(p.message or "Working\u2026")

    def _scan_failed(self, title: str, message: str) -> None:
        self._set_running(False)
        if message:
            self.summary.setText(f"<span style='color:#c62828'>{message}</span>")
            self.show_error(title, message)
        else:
            self.summary.setText("Cancelled.")

    def show_report(self, report_obj: Any) -> None:
        """Fill the table from a dataset report."""
        self._set_running(False)
        self.report = report_obj
        stats = list(field_of(report_obj, "denominations", default=[]) or [])
        self.table.setRowCount(len(stats))
        total_g = total_c = 0
        n_warn = 0
        shown_in_rows: list[Any] = []
        for row, stat in enumerate(stats):
            g = _count(field_of(stat, "genuine", "n_genuine", "genuine_count"))
            c = _count(field_of(stat, "counterfeit", "n_counterfeit", "counterfeit_count"))
            total_g += g
            total_c += c
            denom_id = stat_denom_id(stat)
            own = list(field_of(stat, "warnings", default=[]) or [])
            shown_in_rows.extend(own)
            warnings = [warning_text(w, denom_id) for w in own]
            unreadable = _count(field_of(stat, "unreadable", default=0))
            if unreadable:
                warnings.append(f"{unreadable} unreadable image{'s' if unreadable != 1 else ''}")
            n_warn += len(warnings)
            cells = [denom_id, str(g), str(c), stat_sizes(stat), "\n".join(warnings) or "\u2014"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (1, 2):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 4 and warnings:
                    item.setForeground(QColor("#8a4b00"))
                    item.setText("\u26a0 " + "\n\u26a0 ".join(warnings))
                self.table.setItem(row, col, item)
        self.table.resizeRowsToContents()
        general = [warning_text(w) for w in (field_of(report_obj, "warnings", default=[]) or [])
                   if not any(w is x or w == x for x in shown_in_rows)]
        errors = [str(e) for e in (field_of(report_obj, "errors", default=[]) or [])]
        self._set_warnings(errors + general)
        n_warn += len(general) + len(errors)
        self.summary.setText(
            f"<b>{len(stats)}</b> denominations, <b>{total_g}</b> genuine and <b>{total_c}</b> counterfeit images"
            + (f", <b style='color:#8a4b00'>{n_warn} warning{'s' if n_warn != 1 else ''}</b>." if n_warn else ", no warnings.")
        )
        if stats:
            self.table.selectRow(0)
        self._fit_table()

    def _fit_table(self) -> None:
        """Give the table the height of its rows (a few rows do not need half the page)."""
        t = self.table
        rows_h = sum(t.rowHeight(r) for r in range(min(t.rowCount(), 12))) or t.verticalHeader().defaultSectionSize() * 3
        want = t.horizontalHeader().height() + rows_h + 2 * t.frameWidth() + 4
        if self.warnings.isVisibleTo(self):
            want += self.warnings.height() + self.warnings_label.sizeHint().height() + 12
        total = sum(self.splitter.sizes()) or self.splitter.height()
        if total > 0:
            top = min(max(want, 120), int(total * 0.6))
            self.splitter.setSizes([top, total - top])

    def _set_warnings(self, lines: list[str]) -> None:
        self.warnings.clear()
        for line in lines:
            self.warnings.addItem("\u26a0 " + line)
        row_h = self.warnings.fontMetrics().height() + 4
        self.warnings.setFixedHeight(min(6, max(1, len(lines))) * row_h + 8)
        visible = bool(lines)
        self.warnings.setVisible(visible)
        self.warnings_label.setVisible(visible)

    def selected_denomination(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.text() if item else None

    def _show_thumbnails(self) -> None:
        denom = self.selected_denomination()
        root = self.state.dataset_root
        if not denom or root is None:
            self.thumbs.set_paths([])
            return
        label = self.label_combo.currentText()
        folder = root / denom / label
        paths = list_images(folder, MAX_THUMBNAILS)
        total = len(list_images(folder))
        more = f" (first {len(paths)} of {total})" if total > len(paths) else ""
        self.thumbs_title.setText(f"<b>{denom}</b> \u2014 {label} images{more}: {folder}" if paths
                                  else f"<b>{denom}</b> has no {label} images.")
        self.thumbs.set_paths(paths)
