"""Progress reporting and cancellation shared by every long job.

Engine functions take ``progress: ProgressCallback | None`` and ``cancel: CancelToken | None``. They
call ``progress(Progress(...))`` now and then and ``cancel.raise_if_cancelled()`` between units of
work. The GUI turns the callback into Qt signals (``gui/workers.py``); the CLI prints a bar
(:class:`TerminalProgress`).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, TextIO

from banknote_guard.errors import CancelledError


@dataclass(frozen=True)
class Progress:
    """One progress report.

    Attributes:
        stage: short machine-readable name of the phase ("scan", "train", "embed", "verify", ...).
        message: one line for a person.
        done: units of work finished so far.
        total: units of work in all, or None when unknown.
        eta_s: estimated seconds left, or None.
        metrics: numbers worth showing live (loss, validation AUC, epoch, ...).
    """

    stage: str
    message: str = ""
    done: int = 0
    total: int | None = None
    eta_s: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, max(0.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """A thread-safe flag that asks long work to stop at its next check."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("Cancelled by the user.")


def check_cancel(cancel: CancelToken | None) -> None:
    """Raise :class:`CancelledError` when ``cancel`` is set; do nothing for None."""
    if cancel is not None:
        cancel.raise_if_cancelled()


def report(progress: ProgressCallback | None, *args: object, **kwargs: object) -> None:
    """Call ``progress(Progress(*args, **kwargs))`` when a callback is given."""
    if progress is not None:
        progress(Progress(*args, **kwargs))  # type: ignore[arg-type]


class EtaEstimator:
    """Seconds-left estimate from the rate of work done so far."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.start = time.monotonic()

    def eta(self, done: int) -> float | None:
        if done <= 0 or self.total <= 0:
            return None
        elapsed = time.monotonic() - self.start
        return elapsed / done * max(0, self.total - done)


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class TerminalProgress:
    """A progress callback that draws one self-updating line on a terminal (plain lines otherwise)."""

    def __init__(self, stream: TextIO | None = None, width: int = 28, min_interval_s: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.width = width
        self.min_interval_s = min_interval_s
        self._last = 0.0
        self._last_stage = ""
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        finished = p.total is not None and p.done >= p.total
        if not finished and p.stage == self._last_stage and now - self._last < self.min_interval_s:
            return
        self._last = now
        if p.stage != self._last_stage and self._last_stage and self._tty:
            self.stream.write("\n")
        self._last_stage = p.stage
        frac = p.fraction
        if frac is not None:
            filled = int(round(frac * self.width))
            bar = "[" + "#" * filled + "-" * (self.width - filled) + f"] {p.done}/{p.total}"
        else:
            bar = f"{p.done}" if p.done else ""
        metrics = "  ".join(f"{k}={v:.4g}" for k, v in p.metrics.items())
        line = f"{p.stage:>8} {bar} ETA {format_seconds(p.eta_s)} {p.message} {metrics}".rstrip()
        if self._tty:
            self.stream.write("\r\x1b[2K" + line)
            if finished:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
