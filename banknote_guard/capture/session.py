"""A capture session: frames in, live views and verified captures out.

:class:`CaptureSession` reads a :class:`~banknote_guard.capture.frames.FrameSource` (a camera, a
video file), looks for the note in every frame it has time for
(:func:`~banknote_guard.capture.live.find_live_note`), lets :class:`~banknote_guard.capture.autocapture.AutoCapture`
decide when to take the picture (or takes it when :meth:`CaptureSession.request_capture` asks), and
verifies each picture taken on a second thread, so the live view never waits for the network.
Every captured picture is verified (captures are queued, frames of the live view are not), in the
order taken.

Front ends receive three callbacks, on the session's threads: ``on_view(LiveView)`` for each frame
looked at, ``on_capture(Capture)`` when a picture is taken and ``on_result(Capture)`` when its
verdict is ready. The GUI turns them into signals, the command line prints them.

When the source fails (a camera unplugged, a damaged video), the captures already taken are still
verified and kept, and the error is raised after them; cancelling works the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Literal

import numpy as np

from banknote_guard.capture.autocapture import AutoCapture, AutoCaptureSettings, Decision
from banknote_guard.capture.frames import Frame, FrameSource
from banknote_guard.capture.live import LiveNote, find_live_note
from banknote_guard.errors import BanknoteGuardError, CancelledError
from banknote_guard.progress import CancelToken

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.result import VerificationResult
    from banknote_guard.verify.verifier import Verifier

log = logging.getLogger(__name__)

Trigger = Literal["auto", "manual"]


@dataclass(frozen=True)
class LiveView:
    """One frame as the live view shows it.

    Attributes:
        frame: the frame.
        note: the note found in it (its outline is drawn), or None.
        decision: the auto-capture's state and hint for this frame.
        captured: this frame was taken as a capture.
        fps: frames looked at per second, lately.
        dropped: frames the source had to drop so far because looking took longer than a frame.
    """

    frame: Frame
    note: LiveNote | None
    decision: Decision
    captured: bool
    fps: float
    dropped: int


@dataclass
class Capture:
    """One picture taken, and its verdict once ready.

    Attributes:
        number: 1 for the first capture of the session, and so on.
        frame: the frame taken.
        corners: the note's outline in it as the live view saw it (None: no note seen).
        trigger: "auto" or "manual" (Space).
        taken_at: when it was taken (monotonic clock, seconds).
        result: the verdict (None until verified).
        latency_s: seconds from taking the picture to its verdict.
    """

    number: int
    frame: Frame
    corners: np.ndarray | None
    trigger: Trigger
    taken_at: float
    result: "VerificationResult | None" = None
    latency_s: float | None = None

    @property
    def name(self) -> str:
        """The name its result carries: "camera 0 #3"."""
        return f"{self.frame.source} #{self.number}"


@dataclass
class SessionStats:
    """Counts of a session, for the live view's status line and the benchmarks."""

    frames: int = 0
    analysed: int = 0
    captures: int = 0
    analysis_s: list[float] = field(default_factory=list)


class CaptureSession:
    """Capture notes from a source and verify each one (see the module docstring).

    Args:
        verifier: verifies the captured pictures.
        source: the camera or video.
        auto: take pictures automatically (else only when :meth:`request_capture` asks).
        settings: the auto-capture rule's settings.
        on_view, on_capture, on_result: callbacks (see the module docstring).
        margin: share of the frame's shorter side a note must keep from the edges to count as whole.
    """

    def __init__(
        self,
        verifier: "Verifier",
        source: FrameSource,
        *,
        auto: bool = True,
        settings: AutoCaptureSettings | None = None,
        on_view: Callable[[LiveView], None] | None = None,
        on_capture: Callable[[Capture], None] | None = None,
        on_result: Callable[[Capture], None] | None = None,
        margin: float = 0.02,
    ) -> None:
        self.verifier = verifier
        self.source = source
        self.auto = auto
        self.rule = AutoCapture(settings)
        self.on_view = on_view
        self.on_capture = on_capture
        self.on_result = on_result
        self.margin = margin
        self.captures: list[Capture] = []
        self.stats = SessionStats()
        self._manual = threading.Event()
        self._lock = threading.Lock()

    @property
    def results(self) -> list["VerificationResult"]:
        """The verdicts so far, in the order the pictures were taken."""
        with self._lock:
            return [c.result for c in self.captures if c.result is not None]

    def request_capture(self) -> None:
        """Take the next frame as a capture, whatever the auto-capture thinks (thread-safe)."""
        self._manual.set()

    def stop(self) -> None:
        """End the session after the current frame (thread-safe); pending verdicts still arrive."""
        self.source.stop()

    def run(self, cancel: CancelToken | None = None) -> list["VerificationResult"]:
        """Run until the source ends, :meth:`stop` is called or ``cancel`` is set.

        Returns the verdicts of every capture. A source error (CaptureError) or a cancel is raised
        after the captures already taken have been verified.
        """
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="capture-verify")
        pending: list[Future[None]] = []
        error: BaseException | None = None
        recent: list[float] = []
        try:
            with self.source:
                for frame in self.source.frames():
                    if cancel is not None and cancel.cancelled:
                        error = CancelledError("Capture cancelled.")
                        break
                    self.stats.frames += 1
                    view = self._look(frame, recent)
                    if view.captured:
                        pending.append(pool.submit(self._verify, self._take(view)))
                    if self.on_view is not None:
                        self.on_view(view)
        except BanknoteGuardError as exc:
            error = exc
        finally:
            for f in pending:
                f.result()  # every capture taken gets its verdict, whatever stopped the session
            pool.shutdown(wait=True)
        if error is not None:
            raise error
        return self.results

    # --- internals -------------------------------------------------------------------------------

    def _look(self, frame: Frame, recent: list[float]) -> LiveView:
        start = time.perf_counter()
        note = find_live_note(frame.image, margin=self.margin)
        self.stats.analysed += 1
        self.stats.analysis_s.append(time.perf_counter() - start)
        manual = self._manual.is_set()
        if manual:
            self._manual.clear()
        decision = self.rule.update(frame.t, note) if self.auto else Decision("manual")
        captured = manual or decision.capture
        if manual and not decision.capture:
            self.rule.captured(frame.t)
        now = time.monotonic()
        recent.append(now)
        while recent and now - recent[0] > 2.0:
            recent.pop(0)
        fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 1 and recent[-1] > recent[0] else 0.0
        return LiveView(frame, note, decision, captured, fps, int(getattr(self.source, "dropped", 0)))

    def _take(self, view: LiveView) -> Capture:
        trigger: Trigger = "auto" if view.decision.capture else "manual"
        with self._lock:
            capture = Capture(len(self.captures) + 1, view.frame, None if view.note is None else view.note.corners,
                              trigger, time.monotonic())
            self.captures.append(capture)
        self.stats.captures += 1
        if self.on_capture is not None:
            self.on_capture(capture)
        return capture

    def _verify(self, capture: Capture) -> None:
        try:
            result = self.verifier.verify_image(capture.frame.image, capture.name, expect_outline=True)
        except Exception as exc:  # noqa: BLE001 - one capture failing never ends the session
            from banknote_guard.verify.result import VerificationResult

            log.exception("verifying %s failed", capture.name)
            result = VerificationResult.failed(capture.name, f"Could not verify {capture.name}: {exc}")
        with self._lock:
            capture.result = result
            capture.latency_s = time.monotonic() - capture.taken_at
        if self.on_result is not None:
            try:
                self.on_result(capture)
            except Exception:  # noqa: BLE001 - a front end's fault must not lose the next verdicts
                log.exception("on_result failed for %s", capture.name)
