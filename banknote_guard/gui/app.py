"""Start the desktop application: ``banknote-guard gui`` or ``python -m banknote_guard``.

:func:`main` creates the :class:`QApplication` (high-DPI aware, named for :class:`QSettings`), sends
log records to a file in the user's application-data folder, installs an exception hook that shows a
readable message (the traceback goes to the log file only), opens the main window and runs.
With ``screenshot`` it saves an image of one page once all work has finished and exits (docs, checks).
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
import traceback
from pathlib import Path
from types import TracebackType
from typing import Sequence

from PySide6.QtCore import QStandardPaths, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from banknote_guard import __version__
from banknote_guard.gui.settings import APPLICATION, ORGANIZATION

log = logging.getLogger("banknote_guard.gui")

LOG_NAME = "banknote_guard.log"
SCREENSHOT_TIMEOUT_S = 300


def log_dir() -> Path:
    """The folder of the log file: the application-data location (QStandardPaths.AppDataLocation)."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    path = Path(loc) if loc else Path.home() / ".banknote_guard"
    path.mkdir(parents=True, exist_ok=True)
    return path


def setup_logging(folder: Path | None = None) -> Path:
    """Send banknote_guard's log records (INFO and up) to a rotating file; returns the file's path."""
    folder = folder or log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    root = logging.getLogger("banknote_guard")
    for h in list(root.handlers):
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path.resolve():
            return path
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    root.propagate = False  # the window shows what matters; the file keeps the details
    return path


def make_excepthook(log_file: Path | None):  # noqa: ANN201 - returns a sys.excepthook
    """A ``sys.excepthook`` that logs the traceback and shows a short, readable message box."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("Unhandled error:\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        from banknote_guard.gui.workers import readable_error

        message = readable_error(exc)
        if QApplication.instance() is not None:
            box = QMessageBox(QMessageBox.Icon.Critical, "Something went wrong", message)
            if log_file is not None:
                box.setInformativeText(f"The details were written to {log_file}.")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            hook.last_box = box  # type: ignore[attr-defined]
        hook.last_message = message  # type: ignore[attr-defined]

    return hook


def create_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication (created once): high-DPI policy, names for QSettings, style."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    from banknote_guard.gui.style import apply_style

    apply_style(app)  # type: ignore[arg-type]
    app.setWindowIcon(application_icon())
    if hasattr(app, "setDesktopFileName"):
        app.setDesktopFileName("banknote-guard")  # Wayland and task bars match the window to the .desktop entry
    return app  # type: ignore[return-value]


def application_icon():  # noqa: ANN201 - QIcon
    """The application's icon (window, task bar, About box) from the bundled PNG sizes; empty when missing."""
    from PySide6.QtGui import QIcon

    from banknote_guard.api import icon_files

    icon = QIcon()
    for path in icon_files():
        icon.addFile(str(path))
    return icon


def run(
    model: str | None = None,
    dataset: str | None = None,
    screenshot: str | None = None,
    page: str = "verify",
    samples: bool = False,
    size: str | None = None,
) -> int:
    """Open the main window and run the event loop; returns the exit code."""
    app = create_application()
    log_file = setup_logging()
    sys.excepthook = make_excepthook(log_file)
    from banknote_guard.gui.main_window import PAGE_KEYS, MainWindow

    if page.lower() not in PAGE_KEYS:
        print(f"banknote-guard: error: unknown page {page!r}; choose one of {', '.join(PAGE_KEYS)}", file=sys.stderr)
        return 2
    window = MainWindow(log_file=log_file, load_default_model=model is None)
    if size:  # else: the last size, or 1280 x 800 fitted to the screen
        try:
            w, h = (int(v) for v in size.lower().split("x"))
            window.resize(w, h)
        except ValueError:
            print(f"banknote-guard: error: --size {size!r} must look like 1280x720", file=sys.stderr)
            return 2
    if model:
        window.state.load_model(model)
    if dataset:
        window.datasets_page.load_root(dataset)
    window.show_page(page)
    window.show()
    log.info("Banknote Guard %s started", __version__)
    if screenshot:
        _schedule_screenshot(app, window, Path(screenshot), samples)
    elif samples:
        QTimer.singleShot(0, lambda: _start_samples(window))
    code = app.exec()
    return int(code)


def _start_samples(window) -> None:  # noqa: ANN001
    if window.state.model is not None:
        window.verify_page.verify_samples()


def _schedule_screenshot(app: QApplication, window, out: Path, samples: bool) -> None:  # noqa: ANN001
    """Wait until every job has finished (and samples are verified if asked), grab the window, quit."""
    import time

    started = time.monotonic()
    state = {"samples_started": not samples, "idle_ticks": 0}

    def tick() -> None:
        if not state["samples_started"] and window.state.model is not None and not window.is_busy():
            state["samples_started"] = True
            window.verify_page.verify_samples()
        busy = window.is_busy() or not state["samples_started"]
        state["idle_ticks"] = 0 if busy else state["idle_ticks"] + 1
        if state["idle_ticks"] >= 3 or time.monotonic() - started > SCREENSHOT_TIMEOUT_S:
            timer.stop()
            out.parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(str(out))
            print(f"Saved {out}" if ok else f"Could not save {out}")
            window.close()
            app.exit(0 if ok else 1)

    timer = QTimer(window)
    timer.timeout.connect(tick)
    timer.start(150)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``banknote-guard-gui`` launcher; the same options as ``banknote-guard gui``."""
    from banknote_guard.gui.launcher import add_arguments

    parser = argparse.ArgumentParser(prog="banknote-guard-gui", description="The Banknote Guard desktop application.")
    add_arguments(parser)
    args = parser.parse_args(list(argv) if argv is not None else None)
    return run(args.model, args.dataset, args.screenshot, args.page, args.samples, args.size)


if __name__ == "__main__":
    sys.exit(main())
