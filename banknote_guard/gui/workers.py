"""Run engine work off the UI thread and turn its progress callbacks into Qt signals.

This is the only module that bridges the engine's :data:`~banknote_guard.progress.ProgressCallback`
and :class:`~banknote_guard.progress.CancelToken` to Qt. A page builds a :class:`Job` from a plain
function ``fn(ctx: JobContext) -> result``, connects to its signals and starts it::

    job = Job(lambda ctx: api.inspect_dataset(root, progress=ctx.progress, cancel=ctx.cancel))
    job.progress.connect(...); job.finished.connect(...); job.failed.connect(...)
    job.start()

Signals are delivered on the UI thread. Exactly one of ``finished(result)``, ``failed(message)`` or
``cancelled()`` is emitted per run, then ``done()``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from banknote_guard.errors import BanknoteGuardError, CancelledError
from banknote_guard.progress import CancelToken, Progress

log = logging.getLogger(__name__)

#: Progress reports of one stage closer together than this are dropped (the last one always passes).
MIN_PROGRESS_INTERVAL_S = 0.05


def readable_error(exc: BaseException) -> str:
    """A message for an operator: the text of a :class:`BanknoteGuardError`, else a short summary.

    Unexpected exceptions are logged with their traceback; the message points at the log file.
    """
    if isinstance(exc, BanknoteGuardError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "The computer ran out of memory. Close other programs or use smaller images, then try again."
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"A file could not be read or written{where}: {exc.strerror}."
    if isinstance(exc, ModuleNotFoundError):  # a verification station asked to build models
        from banknote_guard.api import missing_training_package, station_message

        package = missing_training_package(exc)
        if package is not None:
            return station_message("This work", package)
    text = str(exc).strip() or type(exc).__name__
    return f"Unexpected problem: {text}. The details were written to the log file (Help > About)."


class JobContext:
    """What a job function receives: a progress callback, a cancel token and a way to stream results."""

    def __init__(self, worker: "Worker") -> None:
        self._worker = worker
        self.cancel: CancelToken = worker.cancel_token

    def progress(self, p: Progress) -> None:
        """Report progress (thread-safe; called by engine code on the worker thread)."""
        self._worker.report(p)

    def partial(self, item: object) -> None:
        """Hand a piece of the result to the UI before the job ends (e.g. one chunk of verified notes)."""
        self._worker.partial.emit(item)


class Worker(QObject):
    """Runs one function on the thread it was moved to; see the module docstring for its signals."""

    progress = Signal(object)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, fn: Callable[[JobContext], Any], name: str = "job") -> None:
        super().__init__()
        self._fn = fn
        self.name = name
        self.cancel_token = CancelToken()
        self._last_emit = 0.0
        self._last_key: tuple[Any, ...] = ()

    def report(self, p: Progress) -> None:
        """Forward a progress report as a signal, dropping reports that come too thick and fast."""
        now = time.monotonic()
        key = (p.stage, tuple(sorted(p.metrics)), p.metrics.get("epoch"))
        final = p.total is not None and p.done >= p.total
        if not final and key == self._last_key and now - self._last_emit < MIN_PROGRESS_INTERVAL_S:
            return
        self._last_emit = now
        self._last_key = key
        self.progress.emit(p)

    @Slot()
    def run(self) -> None:
        """Run the function and emit exactly one of finished / failed / cancelled, then done."""
        ctx = JobContext(self)
        try:
            result = self._fn(ctx)
        except CancelledError:
            log.info("%s cancelled", self.name)
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a readable message
            if isinstance(exc, BanknoteGuardError):
                log.warning("%s failed: %s", self.name, exc)
            else:
                log.exception("%s failed with an unexpected error", self.name)
            self.failed.emit(readable_error(exc))
        else:
            self.finished.emit(result)
        finally:
            self.done.emit()


class Job(QObject):
    """A :class:`Worker` on its own :class:`QThread`, with the worker's signals re-exposed.

    The job keeps itself alive until its thread has stopped, so a caller may drop its reference.
    """

    progress = Signal(object)
    partial = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    _alive: set["Job"] = set()

    def __init__(self, fn: Callable[[JobContext], Any], name: str = "job", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._thread = QThread()
        self._thread.setObjectName(f"banknote_guard-{name}")
        self._worker = Worker(fn, name)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self.progress)
        self._worker.partial.connect(self.partial)
        self._worker.finished.connect(self.finished)
        self._worker.failed.connect(self.failed)
        self._worker.cancelled.connect(self.cancelled)
        self._worker.done.connect(self._thread.quit)
        self._thread.finished.connect(self._on_thread_finished)
        self._running = False

    @property
    def cancel_token(self) -> CancelToken:
        return self._worker.cancel_token

    def start(self) -> "Job":
        """Start the work on its thread and return ``self``."""
        Job._alive.add(self)
        self._running = True
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the work to stop at its next check (it then emits ``cancelled``)."""
        self._worker.cancel_token.cancel()

    def is_running(self) -> bool:
        return self._running

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until the thread has stopped (used on exit); returns False on time-out."""
        if not self._running:
            return True
        return bool(self._thread.wait(timeout_ms))

    @Slot()
    def _on_thread_finished(self) -> None:
        self._running = False
        self.done.emit()
        Job._alive.discard(self)


def running_jobs(*names: str) -> list[Job]:
    """Jobs whose thread is still running (all pages together), only those named ``names`` if given."""
    return [job for job in Job._alive if job.is_running() and (not names or job.name in names)]
