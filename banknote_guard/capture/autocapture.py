"""Auto-capture: take the picture when a note lies still, whole and sharp in view, once per note.

:class:`AutoCapture` is fed one observation per frame (the frame's time and the note found in it,
or None) and answers with a :class:`Decision`: capture now or not, and a hint for the operator.

The rule, in order:

1. After a capture, wait until the note has left: no capturable note (none, or one that runs out of
   the frame) for ``leave_s`` seconds. Only then can the next note be captured.
2. No note: "searching". A note that runs out of the frame: "outside". A note covering less than
   ``min_area`` of the frame: "small".
3. A note that moved more than ``max_shift`` of its length within the last ``steady_s`` seconds:
   "moving" (times come from the frames, so a video file gives the same decisions however fast it
   is read).
4. Steady and sharp: capture. Steady but blurred: "focusing", and capture anyway once it has been
   steady for ``sharp_wait_s`` more seconds, so that a note the camera cannot get sharp is
   reported ("retake: blurred") instead of waiting for ever.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from banknote_guard.capture.live import LiveNote
from banknote_guard.errors import parameter_error

State = Literal["searching", "outside", "small", "moving", "focusing", "captured", "waiting", "manual"]

HINTS: dict[str, str] = {
    "searching": "Put a note under the camera.",
    "outside": "Move the whole note into view.",
    "small": "Bring the note closer to the camera.",
    "moving": "Hold the note still.",
    "focusing": "Hold still: waiting for a sharp picture.",
    "captured": "Captured. Take the note away for the next one.",
    "waiting": "Take the note away for the next one.",
    "manual": "Press Space (or Capture) to take the picture.",
}


@dataclass(frozen=True)
class AutoCaptureSettings:
    """When auto-capture takes a picture (see the module docstring)."""

    steady_s: float = 0.5
    max_shift: float = 0.015
    sharp_wait_s: float = 1.0
    leave_s: float = 0.4
    min_area: float = 0.04

    def __post_init__(self) -> None:
        for name in ("steady_s", "sharp_wait_s", "leave_s"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 60.0):
                raise parameter_error(name, "AutoCaptureSettings", "a number of seconds in [0, 60]", value)
        if not 0.0 < self.max_shift < 1.0:
            raise parameter_error("max_shift", "AutoCaptureSettings", "a share in (0, 1)", self.max_shift)
        if not 0.0 <= self.min_area < 1.0:
            raise parameter_error("min_area", "AutoCaptureSettings", "a share in [0, 1)", self.min_area)


@dataclass(frozen=True)
class Decision:
    """What to do with one frame: ``capture`` it or not, the ``state`` and a ``hint`` for the operator."""

    state: State
    capture: bool = False

    @property
    def hint(self) -> str:
        return HINTS[self.state]


class AutoCapture:
    """The auto-capture rule for one stream of frames (not thread-safe: feed it from one thread)."""

    def __init__(self, settings: AutoCaptureSettings | None = None) -> None:
        self.settings = settings or AutoCaptureSettings()
        self._track: deque[tuple[float, np.ndarray]] = deque()
        self._steady_since: float | None = None
        self._waiting = False
        self._gone_since: float | None = None

    @property
    def waiting_for_leave(self) -> bool:
        """A note was captured and has not left yet."""
        return self._waiting

    def captured(self, t: float) -> None:
        """A picture was taken at time ``t`` (also a manual one): wait for the note to leave."""
        self._waiting = True
        self._gone_since = None
        self._track.clear()
        self._steady_since = None

    def update(self, t: float, note: LiveNote | None) -> Decision:
        """The decision for the frame taken at time ``t`` (seconds) in which ``note`` was seen."""
        s = self.settings
        capturable = note is not None and note.inside
        if self._waiting:
            if capturable:
                self._gone_since = None
            elif self._gone_since is None:
                self._gone_since = t
            if self._gone_since is not None and t - self._gone_since >= s.leave_s - 1e-6:
                self._waiting = False
            else:
                return Decision("waiting")
        if note is None or not note.inside or note.area < s.min_area:
            self._track.clear()
            self._steady_since = None
            return Decision("searching" if note is None else ("outside" if not note.inside else "small"))
        if not self._steady(t, note):
            self._steady_since = None
            return Decision("moving")
        if self._steady_since is None:
            self._steady_since = t
        if note.sharp or t - self._steady_since >= s.sharp_wait_s - 1e-6:
            self.captured(t)
            return Decision("captured", capture=True)
        return Decision("focusing")

    def _steady(self, t: float, note: LiveNote) -> bool:
        """Whether the note has stayed within ``max_shift`` of its length for ``steady_s`` seconds."""
        s = self.settings
        limit = s.max_shift * max(note.length, 1.0)
        self._track.append((t, note.corners))
        while self._track and t - self._track[0][0] > s.steady_s + 1e-9:
            older = self._track.popleft()
            if not self._track or t - self._track[0][0] < s.steady_s - 1e-9:
                self._track.appendleft(older)  # keep one observation at least steady_s old
                break
        # Drop everything before the last observation that moved too far from the note now.
        for i in range(len(self._track) - 1, -1, -1):
            if float(np.abs(self._track[i][1] - note.corners).max()) > limit:
                for _ in range(i + 1):
                    self._track.popleft()
                break
        return bool(self._track) and t - self._track[0][0] >= s.steady_s - 1e-9
