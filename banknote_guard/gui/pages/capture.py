"""Capture page: verify notes as they come, from a webcam (auto-capture), a document scanner or a watched
folder.

The engine does the work (:mod:`banknote_guard.capture` through the api); this page only runs it in
a worker thread and shows what comes back. The live view is fed through a one-picture slot: the
worker puts the newest frame in it and signals only when the page has taken the previous one, so a
busy window skips frames instead of queuing them and the picture never lags behind the counter.
Verdicts are never skipped: each arrives as its own signal, goes into the table, the result card,
the batch tally and the history.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidgetItem,
    QTabWidget,
    QWidget,
)

from banknote_guard.errors import BanknoteGuardError
from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.pages.history import history_link
from banknote_guard.gui.state import AppState
from banknote_guard.gui.style import verdict_style
from banknote_guard.gui.widgets.card_split import beside_card
from banknote_guard.gui.widgets.live_view import LiveView
from banknote_guard.gui.widgets.result_card import ResultCard
from banknote_guard.gui.widgets.tables import row_table
from banknote_guard.gui.workers import Job, JobContext

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import VerificationResult

COLUMNS = ["#", "Picture", "Verdict", "Denomination", "Why / score"]
VIDEO_FILTER = "Videos (*.avi *.mp4 *.mkv *.mov *.webm *.mjpg);;All files (*)"


class _Latest:
    """The newest live view waiting for the window, and nothing else (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._view: Any = None
        self._waiting = False

    def offer(self, view: Any) -> bool:
        """Put ``view`` in the slot (replacing an older one); True when the window must be told."""
        with self._lock:
            self._view = view
            tell = not self._waiting
            self._waiting = True
            return tell

    def take(self) -> Any:
        with self._lock:
            view, self._view, self._waiting = self._view, None, False
            return view


def _why(r: "VerificationResult") -> str:
    if not r.ok:
        return r.error or ""
    if r.reasons:
        return r.reasons[0]
    if r.counterfeit_score is not None and r.threshold is not None:
        return f"score {r.counterfeit_score:.2f} / threshold {r.threshold:.2f}"
    return ""


class CapturePage(Page):
    """Camera, scanner and watched-folder capture with a live view, the latest result and the batch tally.

    Signals:
        view_ready(): a live frame waits in the slot (emitted from the capture thread).
        verdict_ready(object, object): a verdict and its picture arrived (emitted from a worker).
        suspect_found(int): a suspect note was captured (count so far in this batch).
    """

    title = "Capture"
    hint = (
        "Verify notes as they come: put them one after another under the webcam (each is captured when it lies "
        "still and sharp; Space captures at once), scan them (several notes on the glass are checked one by one), "
        "or watch a folder that scanner software saves into."
    )
    view_ready = Signal()
    verdict_ready = Signal(object, object)
    suspect_found = Signal(int)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.results: list[VerificationResult] = []
        self.job: Job | None = None
        self.session: Any = None
        self.mode = ""
        self._slot = _Latest()
        self._cameras_listed = False
        self._scanners_listed = False
        self._frames_shown = 0

        self.tabs = QTabWidget()
        self.tabs.addTab(self._camera_controls(), "\u25c9  Camera")
        self.tabs.addTab(self._scanner_controls(), "\u25a4  Scanner")
        self.tabs.addTab(self._folder_controls(), "\u25a3  Watched folder")
        self.tabs.currentChanged.connect(self._tab_changed)
        self.tabs.setMaximumHeight(self.tabs.sizeHint().height())
        self.body.addWidget(self.tabs)

        self.info, self.alert = (self._banner(name) for name in ("infoBanner", "alertBanner"))

        self.live = LiveView()
        self.live.clear("Choose a camera and press Start, or open a video file.")
        self.table = t = row_table(COLUMNS)
        t.setWordWrap(False)
        t.setTextElideMode(Qt.TextElideMode.ElideRight)
        t.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space belongs to the capture
        header = t.horizontalHeader()
        fm = t.fontMetrics()
        for col, sample in enumerate(["000", "scanner pnm:0 page 1 note 2", "\u2714 GENUINE__", "Denomination"]):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(col, fm.horizontalAdvance(sample) + 24)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_selected)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.live)
        left.addWidget(self.table)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        left.setSizes([380, 150])
        self.card = ResultCard()
        self.card.clear("The latest capture's verdict appears here.")
        self.body.addWidget(
            beside_card(left, self.card, card_min_width=380, stretch=(3, 2), sizes=(640, 400)), 1
        )

        self.tally = QLabel()
        f = self.tally.font()
        f.setBold(True)
        self.tally.setFont(f)
        self.tally.setWordWrap(True)
        self.new_batch_button = self._button("New batch", "Empty the table and the tally (Ctrl+L)", self.clear)
        bottom = QHBoxLayout()
        bottom.addWidget(self.tally, 1)
        bottom.addWidget(self.new_batch_button)
        self.body.addLayout(bottom)
        self._refresh_tally()

        self.view_ready.connect(self._show_view)
        self.verdict_ready.connect(self.add_result)
        for key, slot in (("Space", self.capture_now), ("Escape", self.stop), ("Ctrl+L", self.clear)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        state.model_changed.connect(self._model_changed)
        self._model_changed(state.model)

    def _banner(self, name: str) -> QLabel:
        """A hidden one-line banner (``infoBanner``: a problem or a hint; ``alertBanner``: a suspect note)."""
        label = QLabel()
        label.setObjectName(name)
        label.setWordWrap(True)
        label.hide()
        self.body.addWidget(label)
        return label

    # --- the three control rows -----------------------------------------------------------------------

    def _row(self) -> tuple[QWidget, QHBoxLayout]:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(6, 6, 6, 6)
        return w, row

    def _button(self, text: str, tip: str, slot: Callable[[], Any], primary: bool = False) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(lambda _=False: slot())
        if len(text) == 1:  # an icon-like button
            b.setFixedWidth(b.fontMetrics().horizontalAdvance("MM") + 16)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space belongs to the capture, not to a focused button
        if primary:
            b.setObjectName("primary")
        return b

    def _camera_controls(self) -> QWidget:
        w, row = self._row()
        self.camera_box = QComboBox()
        self.camera_box.setMinimumWidth(220)
        self.camera_box.setToolTip("The camera to watch (Settings keeps the last one)")
        self._fill_cameras([])
        self.refresh_cameras_button = self._button("\u21bb", "Look for cameras again", self.refresh_cameras)
        self.video_button = self._button("Video file\u2026", "Play a recorded video as if it were the camera",
                                         self.open_video)
        self.auto_box = QCheckBox("Auto-capture")
        self.auto_box.setChecked(True)
        self.auto_box.setToolTip("Take the picture when a note lies still, whole and sharp in view; "
                                 "otherwise only Space captures")
        self.auto_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.start_button = self._button("\u25b6  Start", "Start the camera", self.start_camera, primary=True)
        self.capture_button = self._button("Capture (Space)", "Take the picture now", self.capture_now)
        self.stop_button = self._button("\u25a0  Stop", "Stop (Esc)", self.stop)
        for x in (QLabel("Camera:"), self.camera_box, self.refresh_cameras_button, self.video_button, self.auto_box):
            row.addWidget(x)
        row.addStretch(1)
        for x in (self.start_button, self.capture_button, self.stop_button):
            row.addWidget(x)
        return w

    def _scanner_controls(self) -> QWidget:
        w, row = self._row()
        self.scanner_box = QComboBox()
        self.scanner_box.setMinimumWidth(220)
        self.scanner_box.setEditable(True)
        self.scanner_box.setToolTip("SANE device name; empty: the default scanner")
        if self.settings.scanner_device:
            self.scanner_box.addItem(self.settings.scanner_device)
        self.refresh_scanners_button = self._button("\u21bb", "Look for scanners again", self.refresh_scanners)
        self.resolution_box = QSpinBox()
        self.resolution_box.setRange(75, 1200)
        self.resolution_box.setSingleStep(75)
        self.resolution_box.setSuffix(" dpi")
        self.resolution_box.setValue(self.settings.scan_resolution)
        self.colour_box = QComboBox()
        self.colour_box.addItems(["Colour", "Grey"])
        self.feeder_box = QCheckBox("Document feeder")
        self.feeder_box.setToolTip("Scan every sheet in the feeder, not one page")
        self.feeder_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scan_button = self._button("\u25b6  Scan", "Scan and verify every note on the glass", self.scan,
                                        primary=True)
        self.scan_stop_button = self._button("\u25a0  Stop", "Stop the scan (Esc)", self.stop)
        for x in (QLabel("Scanner:"), self.scanner_box, self.refresh_scanners_button, QLabel("Resolution:"),
                  self.resolution_box, self.colour_box, self.feeder_box):
            row.addWidget(x)
        row.addStretch(1)
        row.addWidget(self.scan_button)
        row.addWidget(self.scan_stop_button)
        return w

    def _folder_controls(self) -> QWidget:
        w, row = self._row()
        self.folder_edit = QLineEdit(self.settings.watch_folder)
        self.folder_edit.setPlaceholderText("the folder scanner software saves into")
        self.folder_button = self._button("Choose\u2026", "Choose the folder to watch", self.choose_folder)
        self.watch_button = self._button("\u25b6  Watch", "Verify each picture that arrives in the folder",
                                         self.start_watch, primary=True)
        self.watch_stop_button = self._button("\u25a0  Stop", "Stop watching (Esc)", self.stop)
        row.addWidget(QLabel("Folder:"))
        row.addWidget(self.folder_edit, 1)
        for x in (self.folder_button, self.watch_button, self.watch_stop_button):
            row.addWidget(x)
        return w

    # --- state --------------------------------------------------------------------------------------

    def _model_changed(self, model: Any) -> None:
        if model is None:
            self._say("<b>No model is loaded.</b> Open or train one first (File \u203a Open model\u2026).")
        elif not self.is_running():
            self.info.hide()
        self._update_buttons()

    def _say(self, text: str) -> None:
        self.info.setText(text)
        self.info.show()

    def is_running(self) -> bool:
        return self.job is not None

    def _update_buttons(self) -> None:
        ready = self.state.model is not None and not self.is_running()
        for b in (self.start_button, self.video_button, self.scan_button, self.watch_button):
            b.setEnabled(ready)
        self.capture_button.setEnabled(self.mode == "camera")
        self.stop_button.setEnabled(self.mode == "camera")
        self.scan_stop_button.setEnabled(self.mode == "scanner")
        self.watch_stop_button.setEnabled(self.mode == "folder")
        self.auto_box.setEnabled(not self.is_running())

    def _tab_changed(self, index: int) -> None:
        if index == 0 and not self._cameras_listed:
            self.refresh_cameras()
        elif index == 1 and not self._scanners_listed:
            self.refresh_scanners()

    def _ready(self) -> bool:
        if self.state.model is None:
            self.show_error("No model", "Load or train a model before capturing notes.")
            return False
        if self.is_running():
            self.state.message.emit("Capture is already running; stop it first (Esc).", 4000)
            return False
        return True

    def _verifier(self) -> Any:
        return self.api.Verifier(self.state.model, threshold_scale=self.settings.threshold_scale)

    def _launch(self, mode: str, work: Callable[[JobContext], Any], hint: str) -> Job:
        self.mode = mode
        self.info.hide()
        self.alert.hide()
        job = self.start_job(work, f"capture-{mode}")
        job.partial.connect(self._on_partial)
        job.failed.connect(self._on_failed)
        job.done.connect(self._on_done)
        self.job = job
        self.live.clear(hint)
        self._update_buttons()
        return job.start()

    def _on_failed(self, message: str) -> None:
        """A source fault (camera unplugged, scanner busy, folder gone): one line; the verdicts stay."""
        self._say(f"<b>Capture stopped:</b> {message}")
        self.state.message.emit(message, 8000)
        self.live.show_frame(None, [], hint="Stopped: see the message above.")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        """List the cameras the first time the page is shown (in a worker)."""
        super().showEvent(event)
        if not self._cameras_listed and self.tabs.currentIndex() == 0:
            self.refresh_cameras()

    def _on_done(self) -> None:
        self.job = None
        self.session = None
        mode, self.mode = self.mode, ""
        self._update_buttons()
        if mode == "camera" and self.live.image is not None:
            self.live.show_frame(None, [], hint="Stopped. Press Start for the next batch.")

    def stop(self) -> None:
        """Stop the running camera, scan or watch; verdicts of pictures already taken still arrive."""
        if self.session is not None:
            self.session.stop()
        self.cancel_jobs()

    # --- camera ----------------------------------------------------------------------------------------

    def _fill_cameras(self, cameras: list[Any]) -> None:
        chosen = self.settings.camera_device or "0"
        self.camera_box.clear()
        for cam in cameras:
            self.camera_box.addItem(f"{cam.index}: {cam.name}", str(cam.index))
        if self.camera_box.findData(chosen) < 0:
            label = f"Camera {chosen}" if chosen.isdigit() else Path(chosen).name or chosen
            self.camera_box.addItem(label, chosen)
        self.camera_box.setCurrentIndex(self.camera_box.findData(chosen))

    def refresh_cameras(self) -> None:
        """List the cameras that work (in a worker: opening devices can take a moment)."""
        self._cameras_listed = True
        api = self.api
        job = self.start_job(lambda ctx: api.list_cameras(), "list-cameras")
        job.finished.connect(self._fill_cameras)
        job.failed.connect(lambda msg: self._say(f"Could not list the cameras: {msg}"))
        job.start()

    def open_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Play a video as the camera", self.settings.last_folder,
                                              VIDEO_FILTER)
        if path:
            self.settings.last_folder = str(Path(path).parent)
            self.start_camera(path)

    def start_camera(self, device: str | int | None = None) -> Job | None:
        """Start the live view and auto-capture on a camera number, stream URL or video file."""
        if not self._ready():
            return None
        if device is None:
            device = self.camera_box.currentData() or "0"
        self.settings.camera_device = str(device)
        if self.camera_box.findData(str(device)) < 0:
            label = f"Camera {device}" if str(device).isdigit() else Path(str(device)).name or str(device)
            self.camera_box.addItem(label, str(device))
        self.camera_box.setCurrentIndex(self.camera_box.findData(str(device)))
        api = self.api
        try:
            source = api.CameraSource(device, realtime=True)
        except BanknoteGuardError as exc:  # a device text that is not a camera, a URL or a file
            self._say(str(exc))
            return None
        recording = history_link(self.state).recording("camera", self.state.model)
        slot = self._slot
        self._frames_shown = 0

        def on_view(view: Any) -> None:
            if slot.offer(view):
                self.view_ready.emit()

        def on_result(capture: Any) -> None:
            recording.record([capture.result], rgb=capture.frame.image)
            self.verdict_ready.emit(capture.result, None)

        self.session = api.CaptureSession(self._verifier(), source, auto=self.auto_box.isChecked(),
                                          on_view=on_view, on_result=on_result)
        session = self.session
        api.quiet_video_logs()
        return self._launch("camera", lambda ctx: session.run(ctx.cancel), f"Opening {source.name}\u2026")

    def capture_now(self) -> None:
        """Space: take the next frame as a capture."""
        if self.session is not None:
            self.session.request_capture()
            self.state.message.emit("Captured.", 1500)

    def _show_view(self) -> None:
        view = self._slot.take()
        if view is None:
            return
        self._frames_shown += 1
        outlines = [] if view.note is None else [view.note.corners]
        status = f"{view.frame.source}  \u00b7  {view.fps:.0f} fps"
        if view.dropped:
            status += f"  \u00b7  {view.dropped} frame{'s' if view.dropped != 1 else ''} skipped"
        self.live.show_frame(view.frame.image, outlines, state=view.decision.state, hint=view.decision.hint,
                             status=status, flash=view.captured)

    # --- scanner ----------------------------------------------------------------------------------------

    def refresh_scanners(self) -> None:
        """List the scanners SANE finds; without SANE, say what to install."""
        self._scanners_listed = True
        api = self.api
        if api.scanimage_path() is None:
            self._say(api.SCANNER_INSTALL_HINT)
            self.scan_button.setToolTip(api.SCANNER_INSTALL_HINT)
            return
        job = self.start_job(lambda ctx: api.list_scanners(), "list-scanners")
        job.finished.connect(self._fill_scanners)
        job.failed.connect(lambda msg: self._say(f"Could not list the scanners: {msg}"))
        job.start()

    def _fill_scanners(self, scanners: list[Any]) -> None:
        current = self.scanner_box.currentText() or self.settings.scanner_device
        self.scanner_box.clear()
        for s in scanners:
            self.scanner_box.addItem(s.name)
            self.scanner_box.setItemData(self.scanner_box.count() - 1, s.description, Qt.ItemDataRole.ToolTipRole)
        if current and self.scanner_box.findText(current) < 0:
            self.scanner_box.addItem(current)
        if current:
            self.scanner_box.setCurrentText(current)
        if not scanners:
            self._say("No scanner found: check that it is connected and switched on, and that its SANE driver "
                      "is installed.")

    def scan(self) -> Job | None:
        """Scan (one page, or the feeder's sheets) and verify each note on it."""
        if not self._ready():
            return None
        api = self.api
        if api.scanimage_path() is None:
            self._say(api.SCANNER_INSTALL_HINT)
            return None
        device = self.scanner_box.currentText().strip()
        self.settings.scanner_device = device
        self.settings.scan_resolution = self.resolution_box.value()
        scanner = api.Scanner(device or None, resolution=self.resolution_box.value(),
                              mode="color" if self.colour_box.currentIndex() == 0 else "gray",
                              batch=self.feeder_box.isChecked())
        verifier = self._verifier()
        recording = history_link(self.state).recording("scanner", self.state.model)

        def work(ctx: JobContext) -> int:
            pages = 0
            for page in api.scan_and_verify(verifier, scanner, cancel=ctx.cancel):
                recording.record(page.results, rgb=page.image)
                ctx.partial(("page", page))
                pages += 1
            return pages

        return self._launch("scanner", work, f"Scanning with the {scanner.name}\u2026")

    # --- watched folder ----------------------------------------------------------------------------------

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the folder to watch",
                                                  self.folder_edit.text() or self.settings.last_folder)
        if folder:
            self.folder_edit.setText(folder)

    def start_watch(self, folder: str | Path | None = None, **options: Any) -> Job | None:
        """Verify each picture that arrives in the folder (``options``: watch_folder's timing options)."""
        if not self._ready():
            return None
        folder = str(folder or self.folder_edit.text().strip())
        if not folder:
            self._say("Choose the folder to watch first.")
            return None
        self.folder_edit.setText(folder)
        self.settings.watch_folder = folder
        api = self.api
        verifier = self._verifier()
        recording = history_link(self.state).recording("watched-folder", self.state.model)

        def on_result(arrival: Any, result: Any) -> None:
            recording.record([result])
            self.verdict_ready.emit(result, None)

        def work(ctx: JobContext) -> Any:
            return api.watch_folder(verifier, folder, on_result=on_result, cancel=ctx.cancel, **options)

        return self._launch("folder", work, f"Watching {folder}: drop pictures into it.")

    # --- results ----------------------------------------------------------------------------------------

    def _on_partial(self, item: Any) -> None:
        kind, payload = item
        if kind == "page":
            self.live.show_frame(payload.image, payload.notes, state="page",
                                 hint=f"Page {payload.index + 1}: {len(payload.results)} note(s)")
            for r in payload.results:
                self.add_result(r)

    def add_result(self, result: "VerificationResult", _picture: Any = None) -> None:
        """A verdict arrived: a row in the table, the card, the tally (and an alert for a suspect note)."""
        self.results.append(result)
        row = self.table.rowCount()
        self.table.insertRow(row)
        style = verdict_style(result.verdict, result.status)
        why = _why(result)
        cells = [str(row + 1), Path(result.path).name or result.path, style.label, result.denomination or "\u2014", why]
        if result.verdict == "retake":
            cells[3] = "\u2014"
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(result.error or "\n".join([style.sentence, *result.reasons]) if col >= 2 else result.path)
            if col == 2:
                item.setBackground(QColor(style.background))
                item.setForeground(QColor(style.foreground))
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(row, col, item)
        self.table.selectRow(row)
        self.table.scrollToBottom()
        if self.mode == "folder" and result.rectified is not None:
            self.live.show_frame(result.rectified, [], hint=f"Watching \u00b7 {len(self.results)} verified",
                                 status=Path(result.path).name)
        self._refresh_tally()
        if result.ok and result.verdict == "suspect":
            n = sum(1 for r in self.results if r.ok and r.verdict == "suspect")
            self.alert.setText(f"\u26a0 SUSPECT NOTE: {Path(result.path).name or result.path} may be a counterfeit. "
                               f"Set it aside and check it by hand ({n} in this batch).")
            self.alert.show()
            if self.settings.alert_sound:
                QApplication.beep()
            self.suspect_found.emit(n)

    def _show_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.results):
            self.card.show_result(self.results[row])

    def _refresh_tally(self) -> None:
        summary = self.api.summarise(self.results)
        self.tally.setText(("This batch \u2014 " + summary.text()) if self.results else
                           "No notes captured yet in this batch.")

    def clear(self) -> None:
        """Start a new batch: empty the table, the card and the tally."""
        self.results.clear()
        self.table.setRowCount(0)
        self.card.clear("The latest capture's verdict appears here.")
        self.alert.hide()
        self._refresh_tally()
