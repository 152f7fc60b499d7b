"""The worker bridge: results, readable errors, cancellation, streaming, and a UI thread that stays free."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QTimer

from banknote_guard.errors import DatasetLayoutError
from banknote_guard.gui.workers import Job, readable_error, running_jobs
from banknote_guard.progress import Progress

pytestmark = pytest.mark.gui


def test_finished_result_and_progress_arrive_on_the_ui_thread(qtbot) -> None:
    seen: list[tuple[Progress, bool]] = []

    def work(ctx):  # noqa: ANN001, ANN202
        for i in range(3):
            ctx.progress(Progress("x", "step", i + 1, 3))
        return threading.current_thread().name

    job = Job(work, "t")
    job.progress.connect(lambda p: seen.append((p, threading.current_thread() is threading.main_thread())))
    with qtbot.waitSignal(job.finished, timeout=5000) as blocker:
        job.start()
    qtbot.waitUntil(lambda: not job.is_running(), timeout=5000)
    worker_thread_name = blocker.args[0]
    assert worker_thread_name != threading.main_thread().name
    assert seen and all(on_ui for _, on_ui in seen)
    assert seen[-1][0].done == 3  # the last report always passes the throttle


def test_engine_error_becomes_its_readable_message(qtbot) -> None:
    def work(ctx):  # noqa: ANN001, ANN202
        raise DatasetLayoutError("/data/EUR", "No denomination folders")

    job = Job(work, "t")
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        job.start()
    assert blocker.args[0].startswith("No denomination folders")
    qtbot.waitUntil(lambda: not job.is_running(), timeout=5000)


def test_unexpected_error_is_summarised_without_a_traceback(qtbot) -> None:
    def work(ctx):  # noqa: ANN001, ANN202
        raise KeyError("weights")

    job = Job(work, "t")
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        job.start()
    msg = blocker.args[0]
    assert "Traceback" not in msg and "weights" in msg and "log file" in msg
    qtbot.waitUntil(lambda: not job.is_running(), timeout=5000)


def test_readable_error_for_os_errors() -> None:
    msg = readable_error(PermissionError(13, "Permission denied", "/x/model.bgm"))
    assert msg == "A file could not be read or written (/x/model.bgm): Permission denied."


def test_cancel_emits_cancelled_and_the_ui_keeps_ticking(qtbot) -> None:
    """The UI thread keeps running timers while a job works; cancel stops the job promptly."""
    started = threading.Event()

    def work(ctx):  # noqa: ANN001, ANN202
        started.set()
        while True:
            ctx.cancel.raise_if_cancelled()
            ctx.cancel._event.wait(0.01)

    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    job = Job(work, "spin")
    outcomes = []
    job.finished.connect(lambda _: outcomes.append("finished"))
    job.cancelled.connect(lambda: outcomes.append("cancelled"))
    job.start()
    assert job in running_jobs()
    qtbot.waitUntil(lambda: started.is_set() and len(ticks) >= 10, timeout=5000)
    with qtbot.waitSignal(job.done, timeout=3000):
        job.cancel()
    timer.stop()
    assert outcomes == ["cancelled"]
    assert job not in running_jobs()


def test_partial_results_stream_before_finished(qtbot) -> None:
    order: list[str] = []

    def work(ctx):  # noqa: ANN001, ANN202
        for i in range(3):
            ctx.partial([i])
        return "end"

    job = Job(work, "stream")
    job.partial.connect(lambda items: order.append(f"p{items[0]}"))
    job.finished.connect(lambda r: order.append(r))
    with qtbot.waitSignal(job.done, timeout=5000):
        job.start()
    assert order == ["p0", "p1", "p2", "end"]
