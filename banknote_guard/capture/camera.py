"""Cameras, streams and video files through OpenCV's ``VideoCapture``.

A :class:`CameraSource` reads a device (a number: ``0`` is the first camera), a stream (a URL such
as ``rtsp://...`` or ``http://...``) or a video file. Live sources are read on their own thread that
keeps only the newest picture: a consumer slower than the camera gets the latest frame and the ones
in between are dropped, never queued, so the picture on screen never lags behind the counter. A
video file is read frame by frame (every frame, as fast as the consumer takes them), or, with
``realtime=True``, paced at its own frame rate and dropping frames like a camera (demos, the GUI).

On Windows the DirectShow backend is used for devices (Media Foundation, OpenCV's default there, can
take many seconds to open a camera).

Faults become :class:`~banknote_guard.capture.errors.CameraError`: a camera that cannot be opened, a
camera that stops sending pictures (unplugged: nothing for ``read_timeout_s`` seconds), a stream
that ends, a video file that ends before the number of frames its header promises (damaged or
still being copied).
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import cv2
import numpy as np

from banknote_guard.capture.errors import CameraError
from banknote_guard.capture.frames import Frame, FrameSource
from banknote_guard.errors import parameter_error

#: Frame rate assumed when a source does not report one.
DEFAULT_FPS = 30.0
#: Frames a video file may fall short of its header's count before it counts as damaged.
FRAME_COUNT_TOLERANCE = 2


def device_backend() -> int:
    """The OpenCV backend to open camera devices with: DirectShow on Windows, else OpenCV's choice."""
    return cv2.CAP_DSHOW if sys.platform.startswith("win") else cv2.CAP_ANY


def parse_device(device: int | str) -> int | str:
    """A device number from ``0``/``"0"``; URLs and file paths are returned as they are."""
    if isinstance(device, bool):
        raise parameter_error("device", "CameraSource", "a camera number, a stream URL or a video file", device)
    if isinstance(device, int):
        if device < 0:
            raise parameter_error("device", "CameraSource", "a camera number >= 0", device)
        return device
    text = str(device).strip()
    if not text:
        raise parameter_error("device", "CameraSource", "a camera number, a stream URL or a video file", device)
    return int(text) if text.isdigit() else text


def _is_url(device: int | str) -> bool:
    return isinstance(device, str) and "://" in device


def _display_name(device: int | str) -> str:
    if isinstance(device, int):
        return f"camera {device}"
    if _is_url(device):
        return re.sub(r"//[^/@]*@", "//", device)  # never show a password that is part of the URL
    return Path(device).name


@dataclass(frozen=True)
class CameraInfo:
    """A camera that opened and delivered a picture: its number and a name for people."""

    index: int
    name: str


class _Latest:
    """The newest frame and nothing else: a reader replaces it, a consumer waits for a newer one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._seq = 0
        self._done = False
        self._error: BaseException | None = None

    def put(self, frame: Frame) -> None:
        with self._cond:
            self._frame = frame
            self._seq += 1
            self._cond.notify_all()

    def finish(self, error: BaseException | None = None) -> None:
        with self._cond:
            self._done = True
            self._error = error
            self._cond.notify_all()

    def take(self, after: int, timeout: float) -> tuple[int, Frame | None]:
        """(sequence number, frame) of a frame newer than ``after``; (after, None) when the reader
        has ended (its error raised) or on time-out."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._seq <= after and not self._done:
                left = deadline - time.monotonic()
                if left <= 0:
                    return after, None
                self._cond.wait(left)
            if self._seq > after and self._frame is not None:
                return self._seq, self._frame
            if self._error is not None:
                raise self._error
            return after, None

    @property
    def done(self) -> bool:
        with self._cond:
            return self._done


class CameraSource(FrameSource):
    """A camera device, a stream or a video file (see the module docstring).

    Args:
        device: camera number, stream URL or video file path.
        realtime: for a video file, play it at its frame rate and drop frames the consumer is too
            slow for (like a camera); by default every frame is delivered. Live sources are always
            real time.
        resolution: (width, height) to ask a camera for; None keeps its default.
        read_timeout_s: a live source that delivers no picture for this long has stopped (unplugged).
        opener: makes the ``VideoCapture``-like object from (device, backend); for tests and for
            other capture libraries.
    """

    kind = "camera"

    def __init__(
        self,
        device: int | str,
        *,
        realtime: bool | None = None,
        resolution: tuple[int, int] | None = None,
        read_timeout_s: float = 3.0,
        opener: Callable[[int | str, int], Any] | None = None,
    ) -> None:
        super().__init__()
        self.device = parse_device(device)
        self.is_file = isinstance(self.device, str) and not _is_url(self.device)
        self.live = not self.is_file
        self.realtime = self.live or bool(realtime)
        if not read_timeout_s > 0:
            raise parameter_error("read_timeout_s", "CameraSource", "a number of seconds > 0", read_timeout_s)
        self.read_timeout_s = float(read_timeout_s)
        self.resolution = resolution
        self.name = _display_name(self.device)
        self._opener = opener
        self._cap: Any = None
        self._reader: threading.Thread | None = None
        self._reader_lock = threading.Lock()
        self._reader_done = True
        self._release_later: Any = None
        self.fps = DEFAULT_FPS
        self.frame_count = 0
        self.dropped = 0

    # --- opening and closing ------------------------------------------------------------------

    def open(self) -> None:
        if self._cap is not None:
            return
        if self.is_file and not Path(self.device).is_file():
            raise CameraError(f"The video file {str(self.device)!r} does not exist.")
        backend = device_backend() if isinstance(self.device, int) else cv2.CAP_ANY
        try:
            cap = self._opener(self.device, backend) if self._opener else cv2.VideoCapture(self.device, backend)
        except Exception as exc:  # noqa: BLE001 - a capture library may raise anything
            raise CameraError(self._cannot_open(str(exc))) from exc
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise CameraError(self._cannot_open())
        if self.resolution is not None and not self.is_file:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, float(self.resolution[0]))
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, float(self.resolution[1]))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else DEFAULT_FPS
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if self.is_file else 0
        self._cap = cap
        self._stop.clear()

    def _cannot_open(self, detail: str = "") -> str:
        if isinstance(self.device, int):
            text = (f"Could not open camera {self.device}: no camera with that number is connected, or another "
                    "program is using it.")
        elif _is_url(self.device):
            text = f"Could not open the stream {self.name}: check the address and that the camera is on the network."
        else:
            text = f"Could not open the video {str(self.device)!r}: it is not a video file this computer can read."
        return f"{text} ({detail})" if detail else text

    def close(self) -> None:
        self.stop()
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.join(timeout=max(2.0, self.read_timeout_s))
        cap, self._cap = self._cap, None
        with self._reader_lock:
            if cap is not None and not self._reader_done:
                # The reader is stuck in a read on a dead device; releasing under it could crash the
                # driver, so it releases the device on its way out.
                self._release_later, cap = cap, None
        if cap is not None:
            cap.release()

    # --- frames --------------------------------------------------------------------------------

    def frames(self) -> Iterator[Frame]:
        if self._cap is None:
            raise CameraError(f"{self.name} is not open.")
        if self.realtime:
            yield from self._live_frames()
        else:
            yield from self._file_frames()

    def _read(self) -> np.ndarray | None:
        ok, bgr = self._cap.read()
        if not ok or bgr is None or getattr(bgr, "size", 0) == 0:
            return None
        return _to_rgb(bgr)

    def _file_frames(self) -> Iterator[Frame]:
        index = 0
        while not self.stopped:
            rgb = self._read()
            if rgb is None:
                self._check_complete(index)
                return
            yield Frame(rgb, index, index / self.fps, self.name)
            index += 1

    def _check_complete(self, read: int) -> None:
        if self.is_file and self.frame_count > 0 and read < self.frame_count - FRAME_COUNT_TOLERANCE:
            raise CameraError(
                f"The video {self.name!r} ended after {read} of its {self.frame_count} frames: the file is "
                "damaged or was not completely written."
            )

    def _live_frames(self) -> Iterator[Frame]:
        latest = _Latest()
        self._reader_done = False
        self._reader = threading.Thread(target=self._read_loop, args=(latest,), name=f"camera-{self.name}",
                                        daemon=True)
        self._reader.start()
        seq = 0
        last_index = -1
        while not self.stopped:
            seq, frame = latest.take(seq, timeout=0.1)
            if frame is None:
                if latest.done:
                    return
                continue
            if frame.index > last_index + 1:
                self.dropped += frame.index - last_index - 1
            last_index = frame.index
            yield frame

    def _read_loop(self, latest: _Latest) -> None:
        """The reader thread: keeps ``latest`` filled until the source ends, fails or is stopped."""
        index = 0
        start = time.monotonic()
        last_good = start
        try:
            while not self.stopped:
                if self.is_file:  # play at the video's own pace
                    wait = start + index / self.fps - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                rgb = self._read()
                now = time.monotonic()
                if rgb is None:
                    if self.is_file:
                        self._check_complete(index)
                        break
                    if now - last_good > self.read_timeout_s:
                        raise CameraError(self._stopped_sending())
                    time.sleep(0.02)
                    continue
                last_good = now
                t = index / self.fps if self.is_file else now
                latest.put(Frame(rgb, index, t, self.name))
                index += 1
        except CameraError as exc:
            latest.finish(exc)
            return
        except Exception as exc:  # noqa: BLE001 - a driver fault ends the source with a readable message
            latest.finish(CameraError(f"{self._stopped_sending()} ({exc})"))
            return
        finally:
            with self._reader_lock:
                self._reader_done = True
                late, self._release_later = self._release_later, None
            if late is not None:
                late.release()
        latest.finish()

    def _stopped_sending(self) -> str:
        if _is_url(self.device):
            return f"The stream {self.name} ended or stopped sending pictures."
        return f"{self.name.capitalize()} stopped sending pictures: it may have been unplugged or switched off."


def _to_rgb(bgr: np.ndarray) -> np.ndarray:
    """An OpenCV picture (BGR, grey or BGRA) as uint8 RGB."""
    arr = np.asarray(bgr)
    if arr.dtype != np.uint8:
        arr = cv2.convertScaleAbs(arr, alpha=255.0 / max(1.0, float(arr.max())))
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    if arr.shape[2] == 4:
        return cv2.cvtColor(arr, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)


def _linux_devices() -> list[tuple[int, str]]:
    """(number, name) of the /dev/videoN devices, from sysfs."""
    out = []
    for node in sorted(Path("/dev").glob("video*")):
        digits = node.name[len("video"):]
        if not digits.isdigit():
            continue
        name_file = Path("/sys/class/video4linux") / node.name / "name"
        try:
            name = name_file.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            name = ""
        out.append((int(digits), name or f"Camera {digits}"))
    return sorted(out)


def list_cameras(max_devices: int = 8, opener: Callable[[int | str, int], Any] | None = None) -> list[CameraInfo]:
    """The cameras that open and deliver a picture, in number order.

    On Linux the /dev/video devices are tried (with their names); elsewhere the numbers
    0..``max_devices - 1``. A camera in use by another program is not listed.
    """
    if sys.platform.startswith("linux") and opener is None:
        candidates = _linux_devices()
    else:
        candidates = [(i, f"Camera {i}") for i in range(max_devices)]
    found = []
    for index, name in candidates[:max_devices]:
        try:
            cap = opener(index, device_backend()) if opener else cv2.VideoCapture(index, device_backend())
        except Exception:  # noqa: BLE001 - a device that fails to open is simply not listed
            continue
        try:
            if cap is not None and cap.isOpened():
                ok, _ = cap.read()
                if ok:
                    found.append(CameraInfo(index, name))
        finally:
            if cap is not None:
                cap.release()
    return found


def quiet_video_logs() -> None:
    """Keep OpenCV's and FFmpeg's own warnings (e.g. about a damaged video) off the terminal; the
    capture errors say what went wrong."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except Exception:  # noqa: BLE001 - older OpenCV builds have no logging control
        pass
