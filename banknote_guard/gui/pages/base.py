"""The base class of the main window's pages: a title, a hint line, and job bookkeeping."""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from banknote_guard.gui.state import AppState
from banknote_guard.gui.workers import Job, JobContext


class Page(QWidget):
    """A page: ``title`` and ``hint`` at the top, the page's own content in :attr:`body`.

    Signals:
        busy_changed(bool): a long job of this page started (True) or ended (False).
    """

    busy_changed = Signal(bool)
    title = "Page"
    hint = ""

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.api = state.api
        self.settings = state.settings
        self._jobs: list[Job] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(16, 12, 16, 12)
        title = QLabel(self.title)
        title.setObjectName("pageTitle")
        outer.addWidget(title)
        if self.hint:
            hint = QLabel(self.hint)
            hint.setObjectName("pageHint")
            hint.setWordWrap(True)
            outer.addWidget(hint)
        self.body = QVBoxLayout()
        outer.addLayout(self.body, 1)

    def start_job(self, fn: Callable[[JobContext], Any], name: str) -> Job:
        """Create a job owned by this page; the caller connects its signals, then calls ``start()``."""
        job = Job(fn, name=name, parent=self)
        self._jobs.append(job)
        job.done.connect(lambda: self._job_done(job))
        self.busy_changed.emit(True)
        return job

    def _job_done(self, job: Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
        if not self._jobs:
            self.busy_changed.emit(False)

    def is_busy(self) -> bool:
        """Whether a job of this page is still running."""
        return any(job.is_running() for job in self._jobs)

    def cancel_jobs(self) -> None:
        for job in list(self._jobs):
            job.cancel()

    def wait_jobs(self, timeout_ms: int = 30000) -> None:
        for job in list(self._jobs):
            job.wait(timeout_ms)

    def show_error(self, title: str, message: str) -> None:
        """A readable error for the window to show in a message box (never a traceback)."""
        self.state.error.emit(title, message)
