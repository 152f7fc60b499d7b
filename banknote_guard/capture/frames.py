"""Frame sources behind one small interface: open, frames, close.

A camera (:class:`~banknote_guard.capture.camera.CameraSource`: a device, a stream or a video file)
and a document scanner (:class:`~banknote_guard.capture.scanner.ScannerSource`: one frame per scanned
page) both hand out :class:`Frame` objects. A source is used as a context manager::

    with CameraSource(0) as source:
        for frame in source.frames():
            ...

Errors are :class:`~banknote_guard.capture.errors.CaptureError` subclasses with a message for an
operator. A source that is being read on another thread can be told to stop with :meth:`FrameSource.stop`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Iterator

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One picture from a source.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        index: its number from the source, counting from 0 (frames dropped by a live source leave gaps).
        t: when it was taken, in seconds: the position in a video file, else a monotonic clock.
        source: the source's name ("camera 0", "notes.avi", "scanner test:0").
    """

    image: np.ndarray
    index: int
    t: float
    source: str


class FrameSource(ABC):
    """A camera, a video file or a scanner.

    Attributes:
        name: how the source is named to the operator and on results ("camera 0").
        kind: where the pictures come from, as the history names it: "camera" or "scanner".
    """

    name: str = "source"
    kind: str = "camera"

    def __init__(self) -> None:
        self._stop = threading.Event()

    @abstractmethod
    def open(self) -> None:
        """Make the source ready; raises a CaptureError naming the source and the reason."""

    @abstractmethod
    def frames(self) -> Iterator[Frame]:
        """The pictures, until the source ends or :meth:`stop` is called (the source must be open)."""

    @abstractmethod
    def close(self) -> None:
        """Release the device (safe to call twice)."""

    def stop(self) -> None:
        """Ask :meth:`frames` to end at its next picture (thread-safe)."""
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> "FrameSource":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
