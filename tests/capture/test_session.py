"""A live capture session on a video of notes sliding in, settling and leaving."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.capture.camera import CameraSource
from banknote_guard.capture.errors import CameraError
from banknote_guard.capture.session import CaptureSession
from banknote_guard.errors import CancelledError
from banknote_guard.progress import CancelToken
from banknote_guard.verify.quality import BLURRED, NO_NOTE, reason_key
from banknote_guard.verify.verifier import Verifier


@pytest.fixture(scope="module")
def played(notes_video, demo_model):
    """The video played through a session once: (session, views, results as they arrived)."""
    path, visits, timeline = notes_video
    views, arrived = [], []
    session = CaptureSession(Verifier(demo_model), CameraSource(path),
                             on_view=views.append, on_result=arrived.append)
    session.run()
    return session, views, arrived, visits, timeline


def test_exactly_one_capture_per_settled_note(played) -> None:
    session, views, arrived, visits, timeline = played
    assert len(session.captures) == len(visits) == 4
    assert [c.number for c in arrived] == [1, 2, 3, 4]  # verdicts arrive in the order taken
    assert all(c.trigger == "auto" for c in session.captures)
    taken = [v.frame.index for v in views if v.captured]
    assert taken == [c.frame.index for c in session.captures]
    # each capture is of its note at rest, wholly in view, and its outline was drawn on the live view
    for c, (first, last) in zip(session.captures, timeline.rests):
        assert first < c.frame.index <= last and c.corners is not None
        view = views[c.frame.index]
        assert view.note is not None and view.note.inside and view.decision.state == "captured"


def test_each_capture_is_rectified_and_verified(played) -> None:
    session, _, _, visits, _ = played
    for capture, visit in zip(session.captures, visits):
        r = capture.result
        assert r.ok and r.note_found and r.rectified is not None
        assert r.path == f"notes.avi #{capture.number}"
        assert capture.latency_s is not None and capture.latency_s > 0
        if visit.blur:
            assert r.verdict == "retake" and reason_key(r.reasons[0]) == BLURRED
        else:
            assert r.verdict == "genuine", r.reasons
    assert session.results == [c.result for c in session.captures]


def test_the_live_view_says_what_to_do(played) -> None:
    _, views, _, _, _ = played
    states = [v.decision.state for v in views]
    assert states[0] == "searching"
    assert {"moving", "focusing", "waiting", "captured"} <= set(states)
    blurred_frames = [v for v in views if v.decision.state == "focusing"]
    assert blurred_frames and all(v.note is not None and not v.note.sharp for v in blurred_frames)


def test_a_manual_capture_without_a_note_is_retake(tmp_path: Path, scenes, demo_model) -> None:
    video = scenes.write_video(tmp_path / "empty.avi", [scenes.desk(scenes.FRAME)] * 8)
    session = CaptureSession(Verifier(demo_model), CameraSource(video), auto=False)
    session.request_capture()
    session.run()
    assert len(session.captures) == 1 and session.captures[0].trigger == "manual"
    r = session.results[0]
    assert r.verdict == "retake" and reason_key(r.reasons[0]) == NO_NOTE


def test_a_video_that_breaks_off_keeps_the_verdicts_already_taken(tmp_path: Path, notes_video, demo_model) -> None:
    path, _, _ = notes_video
    data = path.read_bytes()
    broken = tmp_path / "broken.avi"
    broken.write_bytes(data[: int(len(data) * 0.5)])  # the first two notes, then the file ends
    session = CaptureSession(Verifier(demo_model), CameraSource(broken))
    with pytest.raises(CameraError, match="ended after"):
        session.run()
    assert len(session.captures) == 2
    assert [r.verdict for r in session.results] == ["genuine", "genuine"]


def test_cancel_and_stop_end_a_live_session(notes_video, demo_model) -> None:
    path, _, _ = notes_video
    cancel = CancelToken()
    seen = []

    def on_view(view) -> None:
        seen.append(view)
        if len(seen) == 5:
            cancel.cancel()

    session = CaptureSession(Verifier(demo_model), CameraSource(path, realtime=True), on_view=on_view)
    with pytest.raises(CancelledError):
        session.run(cancel)
    assert len(seen) == 5
    session = CaptureSession(Verifier(demo_model), CameraSource(path, realtime=True))
    threading.Timer(0.5, session.stop).start()
    assert session.run() == [] and session.stats.frames < 20


def test_a_verifier_fault_is_one_error_result_and_the_session_goes_on(notes_video) -> None:
    path, _, _ = notes_video

    class Broken:
        calls = 0

        def verify_image(self, rgb: np.ndarray, name: str, expect_outline: bool = False):
            Broken.calls += 1
            raise RuntimeError("out of memory")

    session = CaptureSession(Broken(), CameraSource(path))  # type: ignore[arg-type]
    results = session.run()
    assert len(results) == 4 and all(not r.ok and "out of memory" in r.error for r in results)
