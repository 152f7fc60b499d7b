"""The main window: a navigation list on the left, one page at a time on the right, a status bar."""

from __future__ import annotations

import logging
import platform
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSize, Qt, qVersion
from PySide6.QtGui import QAction, QCloseEvent, QFont, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from banknote_guard import __version__
from banknote_guard.gui.pages.base import Page
from banknote_guard.gui.pages.capture import CapturePage
from banknote_guard.gui.pages.datasets import DatasetsPage
from banknote_guard.gui.pages.enrollment import EnrollmentPage
from banknote_guard.gui.pages.history import HistoryPage
from banknote_guard.gui.pages.placeholder import PLACEHOLDERS, ComingLaterPage
from banknote_guard.gui.pages.reports import ReportsPage
from banknote_guard.gui.pages.settings_page import SettingsPage
from banknote_guard.gui.pages.training import TrainingPage
from banknote_guard.gui.pages.verify import VerifyPage
from banknote_guard.gui.settings import APPLICATION, AppSettings
from banknote_guard.gui.state import AppState, describe_model, model_summary
from banknote_guard.gui.style import STYLE_SHEET
from banknote_guard.gui.workers import running_jobs

log = logging.getLogger(__name__)

#: Page keys in navigation order; the ``--page`` option of ``banknote-guard gui`` takes these names.
#: The window's size on first start (then the last size is restored), shrunk to fit smaller screens.
DEFAULT_SIZE = (1280, 800)
PAGE_KEYS = ["datasets", "training", "enrollment", "verify", "settings", "capture", "history", "reports"]


def _versions() -> list[tuple[str, str]]:
    rows = [("banknote_guard", __version__), ("Python", platform.python_version()),
            ("PySide6", pyside_version), ("Qt", qVersion())]
    for name in ("onnxruntime", "torch", "torchvision", "numpy", "cv2", "sklearn"):
        mod = sys.modules.get(name)
        if mod is None:
            try:
                mod = __import__(name)
            except Exception:  # noqa: BLE001 - a missing library is just not listed
                continue
        rows.append(({"cv2": "OpenCV", "sklearn": "scikit-learn"}.get(name, name), str(getattr(mod, "__version__", "?"))))
    return rows


class MainWindow(QMainWindow):
    """The application window.

    Args:
        api: the engine front door; by default :mod:`banknote_guard.api` (tests pass a stand-in).
        settings: persistent settings; by default the per-user store.
        log_file: shown in the About box and on the Settings page.
        load_default_model: open the model from the settings (or the demo model) at start.
    """

    def __init__(
        self,
        api: ModuleType | Any | None = None,
        settings: AppSettings | None = None,
        log_file: Path | None = None,
        load_default_model: bool = True,
    ) -> None:
        super().__init__()
        if api is None:
            from banknote_guard import api as _api

            api = _api
        self.log_file = log_file
        self.state = AppState(api, settings or AppSettings(), self)
        self.last_error: tuple[str, str] | None = None
        self._message_boxes: list[QMessageBox] = []
        self.setWindowTitle(APPLICATION)
        self.setStyleSheet(STYLE_SHEET)  # the window looks the same whoever created the QApplication
        self._fit_to_screen()

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(200)
        self.nav.setIconSize(QSize(18, 18))
        self.stack = QStackedWidget()

        self.datasets_page = DatasetsPage(self.state)
        self.training_page = TrainingPage(self.state)
        self.enrollment_page = EnrollmentPage(self.state)
        self.verify_page = VerifyPage(self.state)
        self.settings_page = SettingsPage(self.state, log_file)
        self.history_page = HistoryPage(self.state)
        self.capture_page = CapturePage(self.state)
        self.reports_page = ReportsPage(
            self.state, current_results=lambda: [self.verify_page.displayed(r) for r in self.verify_page.results])
        self.pages: dict[str, Page] = {
            "datasets": self.datasets_page,
            "training": self.training_page,
            "enrollment": self.enrollment_page,
            "verify": self.verify_page,
            "settings": self.settings_page,
            "capture": self.capture_page,
            "history": self.history_page,
            "reports": self.reports_page,
        }
        for (key, title, text) in PLACEHOLDERS:
            self.pages[key.lower()] = ComingLaterPage(self.state, title, text)
        labels = {
            "datasets": "\u25a4  Datasets", "training": "\u2699  Training", "enrollment": "\u271A  Enrollment",
            "verify": "\u2714  Verify", "settings": "\u2630  Settings",
            "capture": "\u25c9  Capture", "history": "\u25f7  History", "reports": "\u274f  Reports",
        }
        for i, key in enumerate(PAGE_KEYS):
            page = self.pages[key]
            self.stack.addWidget(page)
            item = QListWidgetItem(labels[key])
            if isinstance(page, ComingLaterPage):
                f = QFont(item.font())
                f.setItalic(True)
                item.setFont(f)
                item.setToolTip(f"{page.title}: coming in a later version")
                item.setForeground(Qt.GlobalColor.gray)
            else:
                item.setToolTip(f"{page.title} (Ctrl+{i + 1})")
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)

        central = QWidget()
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.nav)
        lay.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.model_status = QLabel()
        self.busy_status = QLabel()
        self.statusBar().addPermanentWidget(self.busy_status)
        self.statusBar().addPermanentWidget(self.model_status)

        self._build_menus()
        self._build_shortcuts()

        self.state.model_changed.connect(self._model_changed)
        self.state.message.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        self.state.error.connect(self.show_error)
        self.settings_page.settings_changed.connect(self.verify_page.refresh)
        self.settings_page.settings_changed.connect(self._rebuild_recent_menu)
        for page in self.pages.values():
            page.busy_changed.connect(self._busy_changed)
        self.verify_page.busy_changed.connect(lambda _: self._rebuild_recent_menu())
        self._model_changed(None)

        geometry = self.state.settings.window_geometry()
        if geometry:
            self.restoreGeometry(geometry)
        if self.state.settings.dataset_root and Path(self.state.settings.dataset_root).is_dir():
            self.datasets_page.load_root(self.state.settings.dataset_root)
        self.show_page("verify")
        if load_default_model:
            path = self.state.default_model_path()
            if path is not None:
                self.state.load_model(path, remember=False)

    # --- menus and shortcuts --------------------------------------------------------------------

    def _action(self, menu: QMenu, text: str, slot: Any, shortcut: str | QKeySequence | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Open note &images\u2026", self._open_files, "Ctrl+O")
        self._action(file_menu, "Open note &folder\u2026", self._open_folder, "Ctrl+Shift+O")
        self.recent_menu = file_menu.addMenu("&Recent")
        file_menu.addSeparator()
        self._action(file_menu, "Open &model\u2026", self.open_model, "Ctrl+M")
        self._action(file_menu, "Choose &dataset folder\u2026", self._choose_dataset, "Ctrl+D")
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        go = self.menuBar().addMenu("&Go")
        for i, key in enumerate(PAGE_KEYS[:5]):
            self._action(go, self.pages[key].title, lambda _=False, k=key: self.show_page(k), f"Ctrl+{i + 1}")
        self._action(go, self.capture_page.title, lambda: self.show_page("capture"), "Ctrl+6")
        self._action(go, "Settings", lambda: self.show_page("settings"), "Ctrl+,")
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "&About Banknote Guard", self.show_about)
        self._rebuild_recent_menu()

    def _build_shortcuts(self) -> None:
        vp, tp, dp = self.verify_page, self.training_page, self.datasets_page
        self._shortcut("Ctrl+V", vp, vp.paste)
        self._shortcut("Ctrl+L", vp, vp.clear)
        self._shortcut("Escape", vp, vp.cancel_jobs)
        self._shortcut("Ctrl+Return", tp, tp.start_training)
        self._shortcut("Escape", tp, tp.cancel_training)
        self._shortcut("F5", dp, dp.rescan)
        self._shortcut("Escape", dp, dp.cancel_jobs)

    def _shortcut(self, key: str, page: QWidget, slot: Any) -> None:
        sc = QShortcut(QKeySequence(key), page)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(slot)

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.state.settings.recent_files()
        for path in recent:
            act = self.recent_menu.addAction(path)
            act.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if not recent:
            act = self.recent_menu.addAction("(empty)")
            act.setEnabled(False)
        self.settings_page.refresh_recent()

    # --- navigation -------------------------------------------------------------------------------

    def _fit_to_screen(self) -> None:
        """Open at 1280 x 800, or smaller to fit the screen's free area (taskbar excluded), centred."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(DEFAULT_SIZE[0], DEFAULT_SIZE[1])
            return
        free = screen.availableGeometry()
        w, h = min(DEFAULT_SIZE[0], free.width()), min(DEFAULT_SIZE[1], free.height())
        self.resize(w, h)
        self.move(free.x() + (free.width() - w) // 2, free.y() + (free.height() - h) // 2)

    def show_page(self, key: str) -> Page:
        """Show the page named ``key`` (see :data:`PAGE_KEYS`) and return it."""
        key = key.lower()
        if key not in self.pages:
            raise KeyError(f"unknown page {key!r}; known: {', '.join(PAGE_KEYS)}")
        self.nav.setCurrentRow(PAGE_KEYS.index(key))
        return self.pages[key]

    def current_page_key(self) -> str:
        return PAGE_KEYS[self.stack.currentIndex()]

    # --- actions ------------------------------------------------------------------------------------

    def _open_files(self) -> None:
        self.show_page("verify")
        self.verify_page.open_files()
        self._rebuild_recent_menu()

    def _open_folder(self) -> None:
        self.show_page("verify")
        self.verify_page.open_folder()
        self._rebuild_recent_menu()

    def open_recent(self, path: str) -> None:
        self.show_page("verify")
        if not Path(path).exists():
            self.show_error("File not found", f"{path} no longer exists.")
            return
        self.verify_page.verify([path])
        self._rebuild_recent_menu()

    def _choose_dataset(self) -> None:
        self.show_page("datasets")
        self.datasets_page.choose_root()

    def open_model(self) -> None:
        start = str(self.state.model_path.parent) if self.state.model_path else self.state.settings.last_folder
        path, _ = QFileDialog.getOpenFileName(self, "Open a model file", start, "Model files (*.bgm);;All files (*)")
        if path:
            self.state.load_model(path)

    # --- status, errors, about -------------------------------------------------------------------------

    def _model_changed(self, model: Any) -> None:
        text = model_summary(model, self.state.model_path)
        if model is not None and self.state.is_demo_model():
            text += " (demo)"
        self.model_status.setText(text)
        self.model_status.setToolTip(str(self.state.model_path or ""))

    def _busy_changed(self, _: bool) -> None:
        n = len(running_jobs())
        self.busy_status.setText(f"\u23f3 {n} task{'s' if n != 1 else ''} running" if n else "")

    def show_error(self, title: str, message: str) -> None:
        """Log the error and show it in a (non-blocking) message box."""
        log.warning("%s: %s", title, message)
        self.last_error = (title, message)
        box = QMessageBox(QMessageBox.Icon.Warning, title or "Problem", message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _: self._message_boxes.remove(box) if box in self._message_boxes else None)
        self._message_boxes.append(box)
        box.open()

    def about_text(self) -> str:
        """The About box's HTML: versions of the application, its libraries and the model."""
        rows = "".join(f"<tr><td>{k}</td><td>&nbsp;{v}</td></tr>" for k, v in _versions())
        model = self.state.model
        info = describe_model(model) if model is not None else {}
        keys = ("name", "created", "schema", "schema_version", "app_version", "backbone", "embedding_dim",
                "svm_kernel", "false_alarm_rate", "epochs_trained")
        mrows = "".join(f"<tr><td>{k.replace('_', ' ')}</td><td>&nbsp;{info[k]}</td></tr>" for k in keys
                        if isinstance(info.get(k), (str, int, float)))
        denoms = list(getattr(model, "denominations", []) or []) if model is not None else []
        if denoms:
            mrows += f"<tr><td>denominations</td><td>&nbsp;{', '.join(map(str, denoms))}</td></tr>"
        return (
            f"<h3>Banknote Guard {__version__}</h3>"
            "<p>Tells genuine banknotes from counterfeits with a Siamese network.</p>"
            f"<table>{rows}</table>"
            + (f"<p><b>Model</b> {self.state.model_path}</p><table>{mrows}</table>" if model is not None else "")
            + (f"<p>Log file: {self.log_file}</p>" if self.log_file else "")
        )

    def show_about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About Banknote Guard")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(self.about_text())
        box.open()
        self._message_boxes.append(box)

    def shortcuts_text(self) -> str:
        rows = "".join(f"<tr><td><b>{k}</b></td><td>&nbsp;&nbsp;{v}</td></tr>" for k, v in SHORTCUTS)
        return f"<table>{rows}</table>"

    def show_shortcuts(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(self.shortcuts_text())
        box.open()
        self._message_boxes.append(box)

    # --- closing ----------------------------------------------------------------------------------------

    def is_busy(self) -> bool:
        return any(page.is_busy() for page in self.pages.values()) or bool(running_jobs())

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel every running job and wait for the threads to stop."""
        for page in self.pages.values():
            page.cancel_jobs()
        for job in running_jobs():
            job.cancel()
        for job in running_jobs():
            job.wait(timeout_ms)
        self.history_page.link.close()  # a desk of a server sends what waits in its outbox

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.state.settings.set_window_geometry(bytes(self.saveGeometry().data()))
        self.state.settings.sync()
        self.shutdown()
        event.accept()


SHORTCUTS: list[tuple[str, str]] = [
    ("Ctrl+1 \u2026 Ctrl+5", "Datasets, Training, Enrollment, Verify, Settings page"),
    ("Ctrl+6", "Capture page (webcam, scanner, watched folder)"),
    ("Space", "Capture the note in view now (Capture page)"),
    ("Ctrl+,", "Settings page"),
    ("Ctrl+O", "Verify image files"),
    ("Ctrl+Shift+O", "Verify a folder of images"),
    ("Ctrl+V", "Verify the image on the clipboard (Verify page)"),
    ("Ctrl+L", "Clear the results (Verify page)"),
    ("Ctrl+M", "Open a model file"),
    ("Ctrl+D", "Choose a dataset folder"),
    ("F5", "Rescan the dataset (Datasets page)"),
    ("Ctrl+Return", "Start training (Training page)"),
    ("Esc", "Cancel the running task of the page"),
    ("F1", "This list"),
    ("Ctrl+Q", "Quit"),
]
