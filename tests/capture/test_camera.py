"""Cameras, streams and video files: reading, dropping frames when late, and every fault as one message."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.capture.camera import CameraSource, list_cameras, parse_device
from banknote_guard.capture.errors import CameraError
from banknote_guard.errors import ParameterError


def numbered(n: int, shape=(120, 160)) -> list[np.ndarray]:
    """Frames whose brightness tells their number (MJPG keeps a flat grey level within a step or two)."""
    return [np.full((*shape, 3), 10 + 8 * i, np.uint8) for i in range(n)]


def number_of(rgb: np.ndarray) -> int:
    return int(round((float(rgb.mean()) - 10) / 8))


@pytest.fixture
def video(tmp_path: Path, scenes) -> Path:
    return scenes.write_video(tmp_path / "count.avi", numbered(30), fps=20)


def test_a_video_file_gives_every_frame_with_its_time(video: Path) -> None:
    with CameraSource(video) as source:
        frames = list(source.frames())
        assert source.fps == 20 and source.frame_count == 30
    assert [number_of(f.image) for f in frames] == list(range(30))
    assert [f.index for f in frames] == list(range(30))
    assert frames[10].t == pytest.approx(0.5) and frames[0].image.shape == (120, 160, 3)
    assert frames[0].source == "count.avi"


def test_in_real_time_a_slow_reader_gets_the_newest_frame_and_the_rest_are_dropped(video: Path) -> None:
    seen = []
    with CameraSource(video, realtime=True) as source:
        for frame in source.frames():
            seen.append(frame.index)
            time.sleep(0.15)  # three frames' time at 20 fps
        dropped = source.dropped
    assert seen == sorted(seen) and len(seen) < 20 and dropped >= 10
    assert seen[-1] >= 25  # it kept up with the video instead of falling behind
    assert dropped == 30 - len(seen) - seen[0] - (29 - seen[-1])


def test_a_video_cut_short_is_an_error_after_its_frames(video: Path, tmp_path: Path) -> None:
    data = video.read_bytes()
    broken = tmp_path / "broken.avi"
    broken.write_bytes(data[: len(data) // 2])
    got = []
    with pytest.raises(CameraError, match="ended after .* of its 30 frames"):
        with CameraSource(broken) as source:
            for frame in source.frames():
                got.append(frame.index)
    assert 5 < len(got) < 30


def test_faults_when_opening_are_one_readable_line(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="does not exist"):
        CameraSource(tmp_path / "missing.avi").open()
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(CameraError, match="not a video file"):
        CameraSource(junk).open()
    with pytest.raises(CameraError, match="Could not open camera 97: no camera with that number"):
        CameraSource(97).open()
    with pytest.raises(ParameterError):
        CameraSource(-1)
    assert parse_device("2") == 2 and parse_device("rtsp://u:p@cam/1") == "rtsp://u:p@cam/1"
    assert CameraSource("rtsp://user:secret@10.0.0.5/live").name == "rtsp://10.0.0.5/live"


class FlakyCamera:
    """A VideoCapture that delivers ``frames`` pictures and then nothing, as an unplugged camera does."""

    def __init__(self, frames: int) -> None:
        self.left = frames
        self.released = False

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def get(self, prop: int) -> float:
        return 0.0

    def set(self, prop: int, value: float) -> bool:
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        time.sleep(0.01)
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.zeros((48, 64, 3), np.uint8)

    def release(self) -> None:
        self.released = True


def test_a_camera_unplugged_mid_capture_is_reported_after_its_last_frame() -> None:
    cam = FlakyCamera(5)
    source = CameraSource(0, read_timeout_s=0.3, opener=lambda device, backend: cam)
    got = []
    start = time.monotonic()
    with pytest.raises(CameraError, match="Camera 0 stopped sending pictures: it may have been unplugged"):
        with source:
            for frame in source.frames():
                got.append(frame)
    assert got and time.monotonic() - start < 5 and cam.released
    assert got[-1].image.shape == (48, 64, 3)


def test_only_cameras_that_deliver_a_picture_are_listed() -> None:
    class Absent(FlakyCamera):
        def isOpened(self) -> bool:  # noqa: N802
            return False

    cams = {0: FlakyCamera(1), 1: Absent(0), 2: FlakyCamera(0), 3: FlakyCamera(3)}
    found = list_cameras(max_devices=4, opener=lambda index, backend: cams[index])
    assert [c.index for c in found] == [0, 3]
    assert all(c.released for c in cams.values())
