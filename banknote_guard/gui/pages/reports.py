"""Reports page: pick a batch or a time span from the history (or the notes on the Verify page), preview
the report page by page exactly as it will print, and export it as PDF, HTML, CSV or JSON.

The preview is the PDF report itself, drawn page by page by the engine (``preview_report``), so what
the operator sees is what the authorities get. Gathering the notes, laying out the report and
writing the file all run in worker threads.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from PySide6.QtCore import QDateTime, Qt, QTime
from PySide6.QtGui import QKeySequence, QPixmap, QResizeEvent, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QWidget,
)

from banknote_guard.fileio import atomic_write_bytes
from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.pages.history import history_link
from banknote_guard.gui.state import AppState
from banknote_guard.gui.widgets.images import rgb_to_qimage
from banknote_guard.gui.workers import Job, JobContext

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import BatchInfo, ReportPreview

#: (label, kind) of the report kinds, in the order the form offers them.
KINDS = [("Batch report", "batch"), ("Certificates (a page per note)", "certificate"),
         ("Hand-over forms (suspect notes)", "handover")]
#: (file-dialog filter, format) of the export formats.
FORMATS = [("PDF report (*.pdf)", "pdf"), ("HTML page (*.html)", "html"), ("CSV table (*.csv)", "csv"),
           ("JSON data (*.json)", "json")]


@dataclass(frozen=True)
class Selection:
    """Which notes a report is about: a batch, a time span (UTC ISO) or the Verify page's notes."""

    source: str  # "batch", "span" or "current"
    batch: str | None = None
    since: str | None = None
    until: str | None = None

    def describe(self) -> str:
        if self.source == "batch":
            return f"batch {self.batch}"
        if self.source == "span":
            return "the time span chosen"
        return "the notes on the Verify page"


def batch_label(b: "BatchInfo") -> str:
    """One line for a batch in the list: id, station, operator, size and suspect count."""
    suspect = b.verdicts.get("suspect", 0)
    extra = f", {suspect} suspect" if suspect else ""
    return f"{b.id}  \u00b7  {b.station}  \u00b7  {b.operator}  \u00b7  {b.count} note{'s' if b.count != 1 else ''}{extra}"


class ReportsPage(Page):
    """Builds reports in worker threads; the preview shows the PDF's pages.

    Args:
        state: the window's state.
        current_results: returns the Verify page's results as the operator sees them (a report of
            notes that were not recorded, or when the history cannot be opened).
    """

    title = "Reports"
    hint = ("A batch (shift) report, a certificate for each note, or hand-over forms for suspect notes. Choose the "
            "notes, preview the report as it will print, then export it as PDF, HTML, CSV or JSON.")

    def __init__(self, state: AppState, current_results: Callable[[], Sequence[Any]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.link = history_link(state)
        self.current_results = current_results or (lambda: [])
        self.batches: list[BatchInfo] = []
        self.preview: ReportPreview | None = None
        self.preview_key: tuple[Any, ...] | None = None
        self.page_index = 0
        self.job: Job | None = None
        self._stale = True
        self._pixmap: QPixmap | None = None

        self.from_batch = QRadioButton("Batch")
        self.from_batch.setToolTip("The notes of one batch in the history (newest batches first)")
        self.batch_combo = QComboBox()
        self.batch_combo.setMinimumContentsLength(40)
        self.batch_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.from_span = QRadioButton("Time span")
        self.from_span.setToolTip("Every note in the history verified in this time span (this computer's time)")
        today = QDateTime(QDateTime.currentDateTime().date(), QTime(0, 0))
        self.since_edit = QDateTimeEdit(today)
        self.until_edit = QDateTimeEdit(today.addDays(1))
        for edit in (self.since_edit, self.until_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.from_current = QRadioButton("Notes on the Verify page")
        self.from_current.setToolTip("The notes shown on the Verify page now, as judged there")
        self.sources = QButtonGroup(self)
        for b in (self.from_batch, self.from_span, self.from_current):
            self.sources.addButton(b)
        self.from_batch.setChecked(True)
        self.kind_combo = QComboBox()
        for text, _ in KINDS:
            self.kind_combo.addItem(text)
        self.kind_combo.setToolTip("Batch report: counts, value totals, every note and the details of suspect notes. "
                                   "Certificates: one page per note. Hand-over forms: one per suspect note not "
                                   "released after review.")

        self.refresh_button = QPushButton("Reload batches")
        self.refresh_button.setToolTip("Read the list of batches from the history again")
        self.refresh_button.clicked.connect(self.refresh_batches)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName("primary")
        self.preview_button.setToolTip("Lay out the report and show it page by page")
        self.preview_button.clicked.connect(self.make_preview)
        self.export_button = QPushButton("Export\u2026")
        self.export_button.setToolTip("Save the report as PDF, HTML, CSV or JSON")
        self.export_button.clicked.connect(self.choose_export)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop laying out the report (Esc)")
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.cancel_button.hide()

        label_w = max(b.sizeHint().width() for b in (self.from_batch, self.from_span)) + 8
        rows = [
            [self.from_batch, (self.batch_combo, 1), self.refresh_button],
            [self.from_span, self.since_edit, QLabel("to"), self.until_edit, None],
            [self.from_current, None],
            [QLabel("Report"), self.kind_combo, self.preview_button, self.export_button, self.cancel_button, None],
        ]
        for row in rows:
            line = QHBoxLayout()
            line.setSpacing(8)
            for i, item in enumerate(row):
                if item is None:
                    line.addStretch(1)
                    continue
                widget, stretch = item if isinstance(item, tuple) else (item, 0)
                if i == 0 and widget is not self.from_current:
                    widget.setMinimumWidth(label_w)
                line.addWidget(widget, stretch)
            self.body.addLayout(line)

        self.info = QLabel()
        self.info.setObjectName("infoBanner")
        self.info.setWordWrap(True)
        self.info.setTextFormat(Qt.TextFormat.RichText)
        self.info.hide()
        self.body.addWidget(self.info)

        self.page_view = QLabel("Choose the notes and the kind of report, then press Preview.")
        self.page_view.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.page_view.setObjectName("reportPage")
        self.page_view.setStyleSheet("background: #9aa5b1; color: #ffffff; padding: 12px;")
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.page_view)
        self.body.addWidget(self.scroll, 1)

        self.status = QLabel()
        self.status.setObjectName("pageHint")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.prev_button = QPushButton("\u25c0 Previous page")
        self.prev_button.clicked.connect(lambda: self.show_page(self.page_index - 1))
        self.next_button = QPushButton("Next page \u25b6")
        self.next_button.clicked.connect(lambda: self.show_page(self.page_index + 1))
        self.page_info = QLabel()
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.prev_button)
        bottom.addWidget(self.page_info)
        bottom.addWidget(self.next_button)
        self.body.addLayout(bottom)
        self._update_page_buttons()

        esc = QShortcut(QKeySequence("Escape"), self)
        esc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        esc.activated.connect(self.cancel_jobs)
        self.link.changed.connect(self._history_changed)
        for signal in (self.sources.buttonToggled, self.batch_combo.currentIndexChanged,
                       self.kind_combo.currentIndexChanged, self.since_edit.dateTimeChanged,
                       self.until_edit.dateTimeChanged):
            signal.connect(self._selection_changed)

    # --- what to report ---------------------------------------------------------------------------

    def kind(self) -> str:
        return KINDS[self.kind_combo.currentIndex()][1]

    def selection(self) -> Selection:
        """The notes the form describes (times as UTC ISO 8601)."""
        if self.from_current.isChecked():
            return Selection("current")
        if self.from_span.isChecked():
            iso = Qt.DateFormat.ISODate
            return Selection("span", since=self.since_edit.dateTime().toUTC().toString(iso),
                             until=self.until_edit.dateTime().toUTC().toString(iso))
        index = self.batch_combo.currentIndex()
        return Selection("batch", batch=self.batches[index].id if 0 <= index < len(self.batches) else None)

    def select_batch(self, batch_id: str) -> bool:
        """Choose ``batch_id`` in the list (True when it is there)."""
        for i, b in enumerate(self.batches):
            if b.id == batch_id:
                self.from_batch.setChecked(True)
                self.batch_combo.setCurrentIndex(i)
                return True
        return False

    def _selection_changed(self, *_: Any) -> None:
        if self.preview is not None and self.preview_key != (self.selection(), self.kind()):
            self.status.setText("The choice changed: press Preview to see the new report.")

    # --- the batch list -----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._stale:
            self.refresh_batches()

    def _history_changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self.refresh_batches()

    def refresh_batches(self) -> None:
        """Read the batches of the history (in a worker), newest first."""
        if self.job is not None:
            return
        self._stale = False
        link, location = self.link, self.link.location()

        def work(_ctx: JobContext) -> list[Any]:
            return list(reversed(link.open(location).batches()))

        job = self._job(work, "report-batches", "Reading the batches\u2026")
        job.finished.connect(self._batches_loaded)
        job.failed.connect(self._history_failed)
        job.start()

    def _batches_loaded(self, batches: list[Any]) -> None:
        chosen = self.selection().batch
        self.batches = batches
        self.batch_combo.blockSignals(True)
        self.batch_combo.clear()
        for b in batches:
            self.batch_combo.addItem(batch_label(b))
        self.batch_combo.blockSignals(False)
        if not (chosen and self.select_batch(chosen)) and batches:
            self.batch_combo.setCurrentIndex(0)
        self.info.hide()
        self.status.setText(f"{len(batches)} batch{'es' if len(batches) != 1 else ''} in the history."
                            if batches else "The history holds no batch yet: verify notes first.")

    def _history_failed(self, message: str) -> None:
        self.batches = []
        self.batch_combo.clear()
        self.info.setText(f"<b>The history could not be opened.</b> {html.escape(message)} Reports of the notes on "
                          "the Verify page still work; choose another history on the Settings page.")
        self.info.show()
        self.from_current.setChecked(True)
        self.status.setText("")

    # --- gathering the notes (worker thread) ----------------------------------------------------------

    def _gather(self, selection: Selection, images: bool) -> Callable[[JobContext], tuple[Any, Any, Any]]:
        """A job function returning (records, reviews, context) for ``selection``."""
        api, link, location = self.api, self.link, self.link.location()
        settings, model = self.settings, self.state.model
        station = settings.station_name or api.default_station()
        operator = settings.operator_name or api.default_operator()
        if selection.source == "current":
            results = list(self.current_results())
            scale = settings.threshold_scale

            def current(ctx: JobContext) -> tuple[Any, Any, Any]:
                if not results:
                    raise api.ReportError("The Verify page shows no notes yet: verify some notes first.")
                batch = api.new_batch_id(station)
                records = api.records_from_results(results, batch=batch, station=station, operator=operator,
                                                   model=model, hash_files=True, cancel=ctx.cancel)
                fields = {"operator": operator, "station": station, "batch": batch}
                context = (api.ReportContext.from_model(model, threshold_scale=scale, **fields) if model is not None
                           else api.ReportContext(threshold_scale=scale, **fields))
                return records, [], context

            return current
        if selection.source == "batch" and not selection.batch:
            raise api.ReportError("Choose a batch (the history holds none yet), a time span, or the notes on the "
                                  "Verify page.")

        def from_history(ctx: JobContext) -> tuple[Any, Any, Any]:
            h = link.open(location)
            records = h.query(batch=selection.batch, since=selection.since, until=selection.until,
                              with_images=images)
            ids = {r.id for r in records}
            reviews = [v for v in h.reviews() if v.record_id in ids]
            context = api.ReportContext(batch=selection.batch, since=selection.since, until=selection.until)
            return records, reviews, context

        return from_history

    # --- preview ------------------------------------------------------------------------------------

    def make_preview(self) -> Job | None:
        """Lay out the report and show its first page."""
        if self.job is not None:
            return None
        selection, kind, api = self.selection(), self.kind(), self.api
        try:
            gather = self._gather(selection, images=True)
        except Exception as exc:  # noqa: BLE001 - a ReportError from the form: say it on the page
            self._show_problem(str(exc))
            return None

        def work(ctx: JobContext) -> Any:
            records, reviews, context = gather(ctx)
            return api.preview_report(kind, records, context, reviews=reviews, progress=ctx.progress, cancel=ctx.cancel)

        job = self._job(work, "report-preview", f"Laying out the report of {selection.describe()}\u2026")
        key = (selection, kind)
        job.finished.connect(lambda preview: self._preview_ready(preview, key))
        job.failed.connect(self._show_problem)
        return job.start()

    def _preview_ready(self, preview: "ReportPreview", key: tuple[Any, ...]) -> None:
        self.preview, self.preview_key = preview, key
        self.info.hide()
        self.status.setText(f"{preview.pages} page{'s' if preview.pages != 1 else ''}, "
                            f"{len(preview.pdf) / 1024:,.0f} KB as PDF.")
        self.show_page(0)

    def _show_problem(self, message: str) -> None:
        self.preview, self.preview_key, self._pixmap = None, None, None
        self.page_view.setPixmap(QPixmap())
        self.page_view.setText(message)
        self.status.setText("")
        self._update_page_buttons()

    def show_page(self, index: int) -> None:
        """Show page ``index`` (0-based) of the preview, fitted to the width of the page area."""
        if self.preview is None or not 0 <= index < self.preview.pages:
            return
        self.page_index = index
        self._pixmap = QPixmap.fromImage(rgb_to_qimage(self.preview.page(index)))
        self._fit_page()
        self.scroll.verticalScrollBar().setValue(0)
        self._update_page_buttons()

    def _fit_page(self) -> None:
        if self._pixmap is None:
            return
        width = max(200, min(self.scroll.viewport().width() - 36, self._pixmap.width()))
        self.page_view.setPixmap(self._pixmap.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit_page()

    def _update_page_buttons(self) -> None:
        pages = self.preview.pages if self.preview is not None else 0
        self.prev_button.setEnabled(pages > 0 and self.page_index > 0)
        self.next_button.setEnabled(pages > 0 and self.page_index < pages - 1)
        self.page_info.setText(f"Page {self.page_index + 1} of {pages}" if pages else "")

    # --- export -------------------------------------------------------------------------------------

    def choose_export(self) -> None:
        """Ask where to save the report, then write it."""
        folder = Path(self.settings.dialog_folder or Path.home())
        name = {"batch": "batch-report", "certificate": "certificates", "handover": "handover-forms"}[self.kind()]
        path, chosen = QFileDialog.getSaveFileName(self, "Export the report", str(folder / f"{name}.pdf"),
                                                   ";;".join(f for f, _ in FORMATS))
        if not path:
            return
        fmt = dict(FORMATS).get(chosen, "pdf")
        if Path(path).suffix.lower() not in (".pdf", ".html", ".htm", ".csv", ".json"):
            path += "." + fmt
        self.settings.last_folder = str(Path(path).parent)
        self.export(path)

    def export(self, path: str | Path, fmt: str | None = None) -> Job | None:
        """Write the report to ``path`` (format from its ending unless given), in a worker."""
        if self.job is not None:
            return None
        api, kind, selection = self.api, self.kind(), self.selection()
        try:
            fmt = fmt or api.report_format_for(path)
            gather = self._gather(selection, images=fmt in ("pdf", "html"))
        except Exception as exc:  # noqa: BLE001 - a readable ParameterError / ReportError
            self.show_error("Report not saved", str(exc))
            return None
        ready = self.preview.pdf if self.preview is not None and fmt == "pdf" and \
            self.preview_key == (selection, kind) and selection.source != "current" else None

        def work(ctx: JobContext) -> Path:
            if ready is not None:  # the previewed PDF, byte for byte
                atomic_write_bytes(path, ready)
                return Path(path)
            records, reviews, context = gather(ctx)
            return api.render_report(kind, records, context, fmt=fmt, out=path, reviews=reviews,
                                     progress=ctx.progress, cancel=ctx.cancel)

        job = self._job(work, "report-export", f"Writing {Path(path).name}\u2026")
        job.finished.connect(self._exported)
        job.failed.connect(lambda message: self.show_error("Report not saved", message))
        return job.start()

    def _exported(self, path: Path) -> None:
        self.status.setText(f"Report saved: {path}")
        self.state.message.emit(f"Report saved to {path}", 8000)

    # --- jobs ---------------------------------------------------------------------------------------

    def _job(self, work: Callable[[JobContext], Any], name: str, text: str) -> Job:
        """A job of this page (the caller connects its signals, then starts it); the form waits for it."""
        job = self.start_job(work, name)
        job.done.connect(self._job_done_here)
        job.cancelled.connect(lambda: self.status.setText("Stopped."))
        self.job = job
        for b in (self.preview_button, self.export_button, self.refresh_button):
            b.setEnabled(False)
        self.cancel_button.show()
        self.status.setText(text)
        return job

    def _job_done_here(self) -> None:
        self.job = None
        for b in (self.preview_button, self.export_button, self.refresh_button):
            b.setEnabled(True)
        self.cancel_button.hide()
