"""History page: find verified notes (date, verdict, denomination, operator, batch), open a note's card
with its stored pictures, and record the decision on a suspect note.

This module also holds :class:`HistoryLink`, the window's one connection to the history (the location
chosen on the Settings page). Every page that verifies notes records them through it::

    recording = history_link(state).recording("camera", state.model)   # on the UI thread, per batch
    recording.record(results, rgb=frame)                                  # in the worker, as results arrive

A history that cannot be opened or written never stops verification: the window says so once per
problem, and the notes are still shown.
"""

from __future__ import annotations

import html
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import QDate, QObject, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from banknote_guard.errors import BanknoteGuardError
from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.state import AppState
from banknote_guard.gui.style import bold as bold_font
from banknote_guard.gui.style import verdict_style
from banknote_guard.gui.widgets.bar_chart import BarChart
from banknote_guard.gui.widgets.card_split import beside_card
from banknote_guard.gui.widgets.tables import row_table

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import History, NoteRecord, Review

log = logging.getLogger(__name__)

#: The most recent notes the table shows for one search.
MAX_ROWS = 500
COLUMNS = ["Time", "Verdict", "Denomination", "Score / threshold", "Decision", "Operator", "Batch", "File"]
VERDICT_FILTERS = [("All verdicts", None), ("\u2716 Suspect", "suspect"), ("? Uncertain", "uncertain"),
                   ("? Unknown", "unknown"), ("\u21bb Retake", "retake"), ("\u2714 Genuine", "genuine"),
                   ("\u26a0 Error", "error"), ("Not genuine (all)", ("suspect", "uncertain", "unknown", "retake"))]
DECISION_WORDS = {"confirmed": "\u2716 Confirmed counterfeit", "released": "\u2714 Released as genuine"}
REVIEW_SHORT = {"confirmed": "\u2716 confirmed", "released": "\u2714 released"}
ALL = "(all)"


def local_time(utc_text: str | None, seconds: bool = True) -> str:
    """A stored UTC time in this computer's time zone."""
    import datetime as _dt

    if not utc_text:
        return ""
    try:
        when = _dt.datetime.fromisoformat(utc_text).astimezone()
    except ValueError:
        return utc_text
    return when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def needs_review(record: "NoteRecord") -> bool:
    """Whether a record is a note an operator decides on (any verdict but genuine)."""
    return record.status == "ok" and record.verdict is not None and record.verdict != "genuine"


# --- the window's connection to the history ----------------------------------------------------------


class BatchRecording:
    """Records one batch; :meth:`record` may be called from a worker thread."""

    def __init__(self, link: "HistoryLink", location: str | None, *, station: str, operator: str, model: Any,
                 source: str) -> None:
        self.link = link
        self.location = location
        self.station, self.operator, self.model, self.source = station, operator, model, source
        self.recorder: Any = None
        self.disabled = False
        self._reported = 0
        self._lock = threading.Lock()

    @property
    def batch(self) -> str | None:
        return None if self.recorder is None else self.recorder.batch

    def record(self, results: Sequence[Any], *, rgb: Any = None) -> int:
        """Write ``results`` (each note its own transaction); returns how many were written."""
        with self._lock:
            if self.disabled or not results:
                return 0
            try:
                history = self.link.open(self.location)
                if self.recorder is None:
                    self.recorder = self.link.api.HistoryRecorder(
                        history, station=self.station, operator=self.operator, model=self.model,
                        source=self.source)
            except BanknoteGuardError as exc:
                self.disabled = True
                self.link.report_problem(f"{exc} The notes are verified and shown, but not recorded.")
                return 0
            before = self.recorder.recorded
            for r in results:
                self.recorder.record(r, rgb=rgb)
            if len(self.recorder.failures) > self._reported:
                self._reported = len(self.recorder.failures)
                self.link.report_problem(self.recorder.failure_text() or "")
            written = self.recorder.recorded - before
        if written:
            self.link.changed.emit()
        return written


class HistoryLink(QObject):
    """The window's history: opened when first needed (in a worker), reopened when the location changes.

    Signals:
        changed(): notes or reviews were added (the History page refreshes when shown).
    """

    changed = Signal()

    def __init__(self, state: AppState) -> None:
        super().__init__(state)
        self.state = state
        self.api = state.api
        self._lock = threading.RLock()
        self._open: dict[str, History] = {}  # location ("" = the default file) -> the history opened there
        self._reported: set[str] = set()

    def location(self) -> str | None:
        """The location from the settings (UI thread); None = the default file."""
        return self.state.settings.history_location or None

    def recording(self, source: str, model: Any) -> BatchRecording:
        """A new batch for ``source`` ("file", "clipboard", "camera", ...) judged by ``model`` (UI thread)."""
        s = self.state.settings
        return BatchRecording(self, self.location(), station=s.station_name or self.api.default_station(),
                              operator=s.operator_name or self.api.default_operator(), model=model, source=source)

    def open(self, location: str | None) -> "History":
        """The history at ``location``, opened once and kept (any thread); raises HistoryError.

        A batch that started before the location was changed goes on writing where it started. A
        damaged file has been moved aside by the engine: that is reported and a new file started."""
        with self._lock:
            key = location or ""
            if key not in self._open:
                try:
                    self._open[key] = self.api.open_history(location)
                except self.api.HistoryDamagedError as exc:
                    self.report_problem(str(exc))
                    self._open[key] = self.api.open_history(location)
            return self._open[key]

    def report_problem(self, message: str) -> None:
        """Show a problem with the history once (any thread)."""
        with self._lock:
            if not message or message in self._reported:
                return
            self._reported.add(message)
        log.warning("history: %s", message)
        self.state.error.emit("Verification history", message)

    def close(self) -> None:
        """Close every history opened (a desk of a server first sends what waits in its outbox)."""
        with self._lock:
            for history in self._open.values():
                try:
                    history.close()
                except Exception:  # noqa: BLE001 - closing is housekeeping
                    log.exception("closing the history failed")
            self._open.clear()


_LINKS: "weakref.WeakKeyDictionary[AppState, HistoryLink]" = weakref.WeakKeyDictionary()


def history_link(state: AppState) -> HistoryLink:
    """The one :class:`HistoryLink` of a window's state."""
    link = _LINKS.get(state)
    if link is None:
        link = _LINKS[state] = HistoryLink(state)
    return link


# --- the page --------------------------------------------------------------------------------------


def _pixmap(data: bytes | None) -> QPixmap | None:
    if not data:
        return None
    pix = QPixmap()
    return pix if pix.loadFromData(data) else None


def _breakable(text: str, run: int = 24) -> str:
    """``text`` with invisible break chances after path separators and inside long unbroken runs, so a
    long file name wraps inside the card instead of widening it."""
    out, since = [], 0
    for ch in text:
        out.append(ch)
        since = 0 if ch.isspace() else since + 1
        if ch in "/\\_-." or since >= run:
            out.append("\u200b")
            since = 0
    return "".join(out)


def _table(rows: Sequence[tuple[str, str]], small: bool = False) -> str:
    """Label/value rows as rich text (values escaped: file names and comments come from outside)."""
    size = " font-size:9pt;" if small else ""
    return "<table cellspacing='0' cellpadding='1'>" + "".join(
        f"<tr><td style='color:#4a4f55; padding-right:8px; white-space:nowrap;{size}'>{html.escape(k)}</td>"
        f"<td style='{size}'>{html.escape(str(v))}</td></tr>" for k, v in rows) + "</table>"


class RecordCard(QFrame):
    """Everything recorded about one note, its stored pictures, its reviews and the review form."""

    review_requested = Signal(str, str, str, str, str, str)  # record id, decision, reviewer, hand-over, serial, comment
    IMAGE_W, IMAGE_H = 172, 90

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.record: NoteRecord | None = None
        self.badge = QLabel()
        self.badge.setObjectName("verdictBadge")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sentence = QLabel()
        self.sentence.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.badge)
        head.addWidget(self.sentence, 1)

        self.picture = self._image_label("Picture as verified")
        self.note = self._image_label("Straightened note")
        self.note.caption.setWordWrap(True)  # type: ignore[attr-defined]  (the heat map's caption is long)
        images = QHBoxLayout()
        for label in (self.picture, self.note):
            box = QVBoxLayout()
            box.addWidget(label)
            box.addWidget(label.caption)  # type: ignore[attr-defined]
            images.addLayout(box)
        images.addStretch(1)

        self.details = self._rich_label()
        self.technical = self._rich_label()
        self.distances = BarChart("Distance to each denomination (smaller = closer)", "{:.3f}", max_items=5)
        self.reviews_label = QLabel()
        self.reviews_label.setWordWrap(True)
        self.reviews_label.setTextFormat(Qt.TextFormat.RichText)

        self.form = QGroupBox("Decision on this note")
        self.confirm = QRadioButton(DECISION_WORDS["confirmed"])
        self.confirm.setToolTip("A counterfeit: withheld and handed over to the authorities")
        self.release = QRadioButton(DECISION_WORDS["released"])
        self.release.setToolTip("Checked by hand and found genuine: given back or accepted")
        self.decisions = QButtonGroup(self)
        self.decisions.addButton(self.confirm)
        self.decisions.addButton(self.release)
        self.reviewer = QLineEdit()
        self.reviewer.setPlaceholderText("who decides")
        self.handover = QLineEdit()
        self.handover.setPlaceholderText("e.g. police or central bank reference")
        self.serial = QLineEdit()
        self.serial.setPlaceholderText("as printed on the note")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("circumstances (who brought it, when, ...)")
        self.save_review = QPushButton("Record decision")
        self.save_review.setObjectName("primary")
        self.save_review.clicked.connect(self._request_review)
        radios = QHBoxLayout()
        radios.addWidget(self.confirm)
        radios.addWidget(self.release)
        radios.addStretch(1)
        ff = QFormLayout(self.form)
        ff.addRow(radios)
        ff.addRow("Reviewer:", self.reviewer)
        ff.addRow("Hand-over ref.:", self.handover)
        ff.addRow("Serial number:", self.serial)
        ff.addRow("Comment:", self.comment)
        ff.addRow(self.save_review)

        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addLayout(images)
        lay.addWidget(self.details)
        lay.addWidget(self.reviews_label)
        lay.addWidget(self.form)
        lay.addWidget(self.distances)
        lay.addWidget(self.technical)
        lay.addStretch(1)
        self.clear()

    @staticmethod
    def _rich_label() -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _image_label(self, caption: str) -> QLabel:
        label = QLabel()
        label.setFixedSize(self.IMAGE_W, self.IMAGE_H)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("background: #eef1f4; border: 1px solid #d0d5db;")
        cap = QLabel(caption)
        cap.setObjectName("pageHint")
        label.caption = cap  # type: ignore[attr-defined]
        return label

    def clear(self, message: str = "Select a note to see what was recorded about it.") -> None:
        self.record = None
        self.badge.hide()
        self.sentence.setText(message)
        for label in (self.picture, self.note):
            label.clear()
            label.hide()
            label.caption.hide()  # type: ignore[attr-defined]
        self.details.clear()
        self.technical.clear()
        self.distances.hide()
        self.reviews_label.clear()
        self.form.hide()

    def show_record(self, record: "NoteRecord", reviews: Sequence["Review"], reviewer: str) -> None:
        """Fill the card; the review form shows for notes that are not genuine."""
        self.record = record
        style = verdict_style(record.verdict, record.status)
        self.badge.setText(style.label)
        self.badge.setStyleSheet(f"background: {style.background}; color: {style.foreground};")
        self.badge.show()
        self.sentence.setText(record.error if record.status != "ok" and record.error else style.sentence)
        from banknote_guard.api import why_suspect_picture

        why = why_suspect_picture(record)  # the note with the heat map of why suspect, where one was kept
        self.note.caption.setText(  # type: ignore[attr-defined]
            "Straightened note" if why is None else
            "Straightened note: red where it differs from genuine notes; boxes: most different first")
        for label, data in ((self.picture, record.image), (self.note, why or record.note_image)):
            label.show()
            label.caption.show()  # type: ignore[attr-defined]
            pix = _pixmap(data)
            if pix is None:
                label.setText("not stored")
            else:
                label.setPixmap(pix.scaled(self.IMAGE_W, self.IMAGE_H, Qt.AspectRatioMode.KeepAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation))
        e = html.escape
        rows = [
            ("Denomination", record.denomination or "none recognised"),
            ("Score", f"{record.counterfeit_score:.2f} (threshold {record.threshold:.2f})"
             if record.counterfeit_score is not None and record.threshold is not None else "\u2014"),
            ("Verified", f"{local_time(record.created)} by {record.operator} at {record.station}"),
            ("Batch", record.batch),
        ]
        if record.reasons:
            rows.insert(2, ("Why", "; ".join(record.reasons)))
        self.details.setText(_table(rows))
        digest = record.image_sha256 or ""
        self.technical.setText(_table([
            ("Source", f"{record.source}: {_breakable(record.path)}"),
            ("Picture SHA-256", " ".join(digest[i : i + 8] for i in range(0, len(digest), 8)) or "\u2014"),
            ("Model", record.model_id or "\u2014"), ("Record", record.id)], small=True))
        self.distances.set_items([(k, v) for k, v in record.distances.items() if v is not None],
                                 highlight=record.denomination, sort="asc")
        self.distances.setVisible(bool(record.distances))
        if reviews:
            items = []
            for rv in reviews:
                extra = "".join(f"; {label} <b>{e(val)}</b>" for label, val in (("hand-over", rv.handover_ref),
                                                                                 ("serial", rv.serial_number)) if val)
                comment = f"<br><i>{e(rv.comment)}</i>" if rv.comment else ""
                items.append(f"<b>{e(DECISION_WORDS.get(rv.decision, rv.decision))}</b> by {e(rv.reviewer)}, "
                             f"{e(local_time(rv.created, seconds=False))}{extra}{comment}")
            self.reviews_label.setText("<b>Decisions</b><br>" + "<br>".join(items))
        else:
            self.reviews_label.setText("<b>Decisions</b><br>none yet" if needs_review(record) else "")
        self.form.setVisible(needs_review(record))
        self.form.setTitle("Change the decision (the earlier one is kept)" if reviews else "Decision on this note")
        self.decisions.setExclusive(False)
        self.confirm.setChecked(False)
        self.release.setChecked(False)
        self.decisions.setExclusive(True)
        for field in (self.handover, self.serial, self.comment):
            field.clear()
        if not self.reviewer.text().strip():
            self.reviewer.setText(reviewer)

    def _request_review(self) -> None:
        if self.record is None:
            return
        decision = "confirmed" if self.confirm.isChecked() else "released" if self.release.isChecked() else ""
        self.review_requested.emit(self.record.id, decision, self.reviewer.text().strip(),
                                   self.handover.text().strip(), self.serial.text().strip(),
                                   self.comment.text().strip())


class HistoryPage(Page):
    """Searches the history in worker threads and shows one note's card at a time."""

    title = "History"
    hint = ("Every verified note, newest first. Filter, click a note to see its stored pictures, and record "
            "the decision on a suspect note; decisions are added, the verdict itself is never changed.")

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.link = history_link(state)
        self.records: list[NoteRecord] = []
        self.latest: dict[str, Review] = {}
        self._stale = True
        self._loading = False
        self._selected_id: str | None = None
        self._searched_location: str | None = "\0"  # the location of the last search

        self.use_dates = QCheckBox("From")
        self.use_dates.setToolTip("Only notes verified between these dates (both included)")
        self.date_from = QDateEdit(QDate.currentDate().addDays(-7))
        self.date_to = QDateEdit(QDate.currentDate())
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.setEnabled(False)
        self.use_dates.toggled.connect(self.date_from.setEnabled)
        self.use_dates.toggled.connect(self.date_to.setEnabled)
        self.verdict = QComboBox()
        for text, _ in VERDICT_FILTERS:
            self.verdict.addItem(text)
        self.denomination = self._combo("Only this denomination")
        self.operator = self._combo("Only notes verified by this operator")
        self.batch = self._combo("Only this batch")
        self.batch.setMinimumContentsLength(22)
        self.search_button = QPushButton("Search")
        self.search_button.setObjectName("primary")
        self.search_button.clicked.connect(self.refresh)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Clear every filter")
        self.reset_button.clicked.connect(self.reset_filters)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.addWidget(self.use_dates, 0, 0)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel(" to "))
        dates.addWidget(self.date_to)
        grid.addLayout(dates, 0, 1)
        grid.addWidget(QLabel("Verdict"), 0, 2)
        grid.addWidget(self.verdict, 0, 3)
        grid.addWidget(QLabel("Denomination"), 0, 4)
        grid.addWidget(self.denomination, 0, 5)
        grid.addWidget(QLabel("Operator"), 1, 0)
        grid.addWidget(self.operator, 1, 1)
        grid.addWidget(QLabel("Batch"), 1, 2)
        grid.addWidget(self.batch, 1, 3, 1, 3)
        grid.addWidget(self.search_button, 0, 6)
        grid.addWidget(self.reset_button, 1, 6)
        grid.setColumnStretch(7, 1)
        self.body.addLayout(grid)

        self.info = QLabel()
        self.info.setObjectName("infoBanner")
        self.info.setWordWrap(True)
        self.info.hide()
        self.body.addWidget(self.info)

        self.table = row_table(COLUMNS)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        fm = self.table.fontMetrics()
        bold = QFontMetrics(bold_font(self.table.font()))
        widths = {0: "2026-06-01 14:30", 1: "? UNCERTAIN", 2: "Denomination", 3: "Score / threshold",
                  4: "\u2714 released", 5: "Operator name", 6: "20260601-143005-till-1"}
        for col, sample in widths.items():
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, max(fm.horizontalAdvance(sample), bold.horizontalAdvance(sample)) + 18)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.card = RecordCard()
        self.card.review_requested.connect(self.save_review)
        self.body.addWidget(beside_card(self.table, self.card, card_min_width=410, stretch=(3, 2)), 1)

        self.status = QLabel()
        self.status.setObjectName("pageHint")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.chain_button = QPushButton("Check audit trail")
        self.chain_button.setToolTip("Check that no recorded note or decision was changed or removed")
        self.chain_button.clicked.connect(self.check_chain)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.chain_button)
        self.body.addLayout(bottom)

        self.link.changed.connect(self._history_changed)

    def _combo(self, tip: str) -> QComboBox:
        c = QComboBox()
        c.setEditable(True)
        c.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        c.addItem(ALL)
        c.setToolTip(tip)
        c.setMinimumContentsLength(12)
        c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        return c

    # --- filters --------------------------------------------------------------------------------

    def filters(self) -> dict[str, Any]:
        """The query filters the form describes (UTC ISO times; dates are this computer's days)."""
        out: dict[str, Any] = {"verdict": VERDICT_FILTERS[self.verdict.currentIndex()][1]}
        for key, combo in (("denomination", self.denomination), ("operator", self.operator), ("batch", self.batch)):
            text = combo.currentText().strip()
            out[key] = text if text and text != ALL else None
        if self.use_dates.isChecked():
            start, end = sorted((self.date_from.date(), self.date_to.date()), key=lambda d: d.toJulianDay())
            since = start.startOfDay()
            until = end.addDays(1).startOfDay()
            out["since"] = since.toUTC().toString(Qt.DateFormat.ISODate)
            out["until"] = until.toUTC().toString(Qt.DateFormat.ISODate)
        else:
            out["since"] = out["until"] = None
        return out

    def reset_filters(self) -> None:
        self.use_dates.setChecked(False)
        self.verdict.setCurrentIndex(0)
        for combo in (self.denomination, self.operator, self.batch):
            combo.setCurrentIndex(0)
            combo.setEditText(ALL)
        self.refresh()

    def show_batch(self, batch: str) -> None:
        """Show the notes of one batch (other pages link here)."""
        self.reset_filters_quietly()
        self.batch.setEditText(batch)
        self.refresh()

    def reset_filters_quietly(self) -> None:
        self.use_dates.setChecked(False)
        self.verdict.setCurrentIndex(0)
        for combo in (self.denomination, self.operator, self.batch):
            combo.setEditText(ALL)

    # --- loading ----------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._stale or self.link.location() != self._searched_location:
            self.refresh()

    def _history_changed(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def refresh(self) -> None:
        """Search the history with the current filters (in a worker)."""
        if self._loading:
            self._stale = True
            return
        self._stale = False
        self._loading = True
        filters = self.filters()
        location = self._searched_location = self.link.location()
        link = self.link

        def work(_ctx: Any) -> dict[str, Any]:
            h = link.open(location)
            records = h.query(**filters, limit=MAX_ROWS, with_images=False, newest_first=True)
            return {"records": records, "reviews": h.reviews(), "status": h.status(),
                    "denominations": h.values("denomination"), "operators": h.values("operator"),
                    "batches": [b.id for b in reversed(h.batches())]}

        job = self.start_job(work, "history-search")
        job.finished.connect(self._loaded)
        job.failed.connect(self._load_failed)
        job.done.connect(self._load_done)
        self.status.setText("Searching\u2026")
        job.start()

    def _load_done(self) -> None:
        self._loading = False
        if self._stale and self.isVisible():
            self.refresh()

    def _load_failed(self, message: str) -> None:
        self.records = []
        self.table.setRowCount(0)
        self.card.clear("The history could not be read.")
        self.info.setText(f"<b>The history could not be opened.</b> {html.escape(message)} "
                          "Choose another place on the Settings page, or check the server.")
        self.info.show()
        self.status.setText("")

    def _loaded(self, data: dict[str, Any]) -> None:
        self.info.hide()
        self.records = list(data["records"])
        self.latest = {}
        for rv in data["reviews"]:
            self.latest[rv.record_id] = rv
        for combo, values in ((self.denomination, data["denominations"]), (self.operator, data["operators"]),
                              (self.batch, data["batches"])):
            self._fill_combo(combo, values)
        self._fill_table()
        n = len(self.records)
        more = f" (the latest {MAX_ROWS}; narrow the filters to see older ones)" if n >= MAX_ROWS else ""
        self.status.setText(f"{n} note{'s' if n != 1 else ''} shown{more}.  History: {data['status']}")
        if "NOT REACHED" in str(data["status"]):
            self.info.setText(f"<b>The history server cannot be reached.</b> {html.escape(str(data['status']))}")
            self.info.show()

    @staticmethod
    def _fill_combo(combo: QComboBox, values: Sequence[str]) -> None:
        text = combo.currentText()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(ALL)
        combo.addItems([str(v) for v in values])
        combo.setEditText(text or ALL)
        combo.blockSignals(False)

    def _fill_table(self) -> None:
        self.table.setRowCount(0)
        keep = None
        for row, r in enumerate(self.records):
            self.table.insertRow(row)
            style = verdict_style(r.verdict, r.status)
            rv = self.latest.get(r.id)
            review = REVIEW_SHORT.get(rv.decision, rv.decision) if rv else ("to review" if needs_review(r) else "")
            score = (f"{r.counterfeit_score:.2f} / {r.threshold:.2f}"
                     if r.counterfeit_score is not None and r.threshold is not None else "\u2014")
            cells = [local_time(r.created, seconds=False), style.label, r.denomination or "\u2014", score, review,
                     r.operator, r.batch, r.path]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text if col != 1 else style.sentence)
                if col == 1:
                    item.setBackground(QColor(style.background))
                    item.setForeground(QColor(style.foreground))
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                if col == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if col == 4 and review == "to review":
                    item.setForeground(QColor("#c05600"))
                self.table.setItem(row, col, item)
            if r.id == self._selected_id:
                keep = row
        if keep is not None:
            self.table.selectRow(keep)
        elif self.records:
            self.table.selectRow(0)
        else:
            self.card.clear("No verified notes match these filters." if any(
                v for v in self.filters().values()) else "No notes have been verified yet. Notes verified on the "
                "Verify page (or with the banknote-guard verify command) appear here.")

    # --- one note ---------------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or not 0 <= rows[0].row() < len(self.records):
            return
        record_id = self.records[rows[0].row()].id
        self.open_record(record_id)

    def open_record(self, record_id: str) -> None:
        """Load one note with its pictures and reviews (in a worker) and show its card."""
        self._selected_id = record_id
        location = self.link.location()
        link = self.link

        def work(_ctx: Any) -> tuple[Any, list[Any]]:
            h = link.open(location)
            return h.get(record_id), h.reviews(record_id)

        job = self.start_job(work, "history-record")
        job.finished.connect(lambda data: self._show_record(*data))
        job.failed.connect(lambda msg: self.card.clear(f"This note could not be read: {msg}"))
        job.start()

    def _show_record(self, record: "NoteRecord", reviews: list["Review"]) -> None:
        if record.id != self._selected_id:
            return  # the operator has moved on
        reviewer = self.settings.operator_name or self.api.default_operator()
        self.card.show_record(record, reviews, reviewer)

    def save_review(self, record_id: str, decision: str, reviewer: str, handover: str, serial: str,
                    comment: str) -> None:
        """Record an operator's decision on a note (in a worker), then refresh."""
        if decision not in ("confirmed", "released"):
            self.show_error("Decision missing", "Choose \u201cConfirmed counterfeit\u201d or \u201cReleased as "
                            "genuine\u201d first.")
            return
        if not reviewer:
            self.show_error("Reviewer missing", "Enter the name of the person who decides.")
            return
        review = self.api.Review(record_id=record_id, decision=decision, reviewer=reviewer,
                                 handover_ref=handover or None, serial_number=serial or None, comment=comment or None)
        location = self.link.location()
        link = self.link

        def work(_ctx: Any) -> None:
            link.open(location).review(review)

        job = self.start_job(work, "history-review")
        job.finished.connect(lambda _: self._review_saved(record_id, decision))
        job.failed.connect(lambda msg: self.show_error("The decision was not recorded", msg))
        self.card.save_review.setEnabled(False)
        job.done.connect(lambda: self.card.save_review.setEnabled(True))
        job.start()

    def _review_saved(self, record_id: str, decision: str) -> None:
        self.state.message.emit(f"Decision recorded: {DECISION_WORDS[decision]}.", 5000)
        self._selected_id = record_id
        self.link.changed.emit()
        if not self.isVisible():
            self.open_record(record_id)

    # --- audit trail ------------------------------------------------------------------------------

    def check_chain(self) -> None:
        """Check the audit trail in a worker and say what was found."""
        location = self.link.location()
        link = self.link
        job = self.start_job(lambda _ctx: link.open(location).verify_chain(), "history-chain")
        job.finished.connect(self._chain_checked)
        job.failed.connect(lambda msg: self.show_error("The audit trail could not be checked", msg))
        self.chain_button.setEnabled(False)
        job.done.connect(lambda: self.chain_button.setEnabled(True))
        self.status.setText("Checking the audit trail\u2026")
        job.start()

    def _chain_checked(self, report: Any) -> None:
        self.last_chain_report = report
        self.status.setText(report.text())
        if report.ok:
            self.state.message.emit(f"Audit trail intact: {report.checked} entries checked.", 8000)
        else:
            box = QMessageBox(QMessageBox.Icon.Critical, "Audit trail broken", report.text(),
                              QMessageBox.StandardButton.Ok, self)
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.open()
            self._chain_box = box
