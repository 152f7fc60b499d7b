"""Screenshot of the Reports page (1280 x 720) previewing a batch of a history; used by make_examples.sh.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/reports/reports_page_screenshot.py HISTORY BATCH OUT.png
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(history: str, batch: str, out: str) -> None:
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QApplication

    QStandardPaths.setTestModeEnabled(True)  # leave the user's own settings and log alone
    app = QApplication([])
    from banknote_guard.gui.main_window import MainWindow
    from banknote_guard.gui.settings import AppSettings

    settings = AppSettings.from_file(Path(tempfile.mkdtemp()) / "settings.ini")
    settings.history_location = history
    window = MainWindow(settings=settings, load_default_model=False)
    window.resize(1280, 720)
    window.show()
    page = window.show_page("reports")

    def settle(limit_s: float) -> None:
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)
            if page.job is None and not page._stale:
                break

    settle(30)
    if not page.select_batch(batch):
        raise SystemExit(f"batch {batch!r} is not in {history}")
    page.make_preview()
    time.sleep(0.1)
    settle(60)
    page.scroll.verticalScrollBar().setValue(0)
    app.processEvents()
    window.grab().save(out)
    window.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:4])
