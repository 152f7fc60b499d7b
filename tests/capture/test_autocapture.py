"""The auto-capture rule, fed with observations frame by frame."""

from __future__ import annotations

import numpy as np
import pytest

from banknote_guard.capture.autocapture import AutoCapture, AutoCaptureSettings
from banknote_guard.capture.live import LiveNote
from banknote_guard.errors import ParameterError

FPS = 10.0
BASE = np.array([[120, 140], [520, 140], [520, 340], [120, 340]], np.float32)


def note(dx: float = 0.0, *, sharp: bool = True, inside: bool = True, area: float = 0.26) -> LiveNote:
    return LiveNote(corners=BASE + np.float32(dx), confidence=0.9, length=400.0, area=area, inside=inside,
                    blur_index=0.3, edge_sharpness=0.3, sharp=sharp)


def feed(rule: AutoCapture, observations: list[LiveNote | None]) -> list[tuple[int, str]]:
    """(frame, state) of every frame, and which frames were captured (state "captured")."""
    return [(i, rule.update(i / FPS, obs).state) for i, obs in enumerate(observations)]


def captured(states: list[tuple[int, str]]) -> list[int]:
    return [i for i, s in states if s == "captured"]


def visit(settle: int, *, sharp: bool = True) -> list[LiveNote | None]:
    slide = [note(-360 + 60 * k, inside=k >= 3, sharp=sharp) for k in range(6)]
    leave = [note(60 * k, inside=k < 3, sharp=sharp) for k in range(1, 7)]
    return [None] * 3 + slide + [note(sharp=sharp)] * settle + leave + [None] * 5


def test_one_capture_per_settled_note() -> None:
    rule = AutoCapture()
    states = feed(rule, visit(15) + visit(15) + visit(15))
    assert len(captured(states)) == 3
    first = captured(states)[0]
    assert first == 3 + 6 + 5  # steady for 0.5 s: five frames after the note settled
    assert {s for _, s in states[:9]} <= {"searching", "outside", "moving"}
    assert all(s == "waiting" for _, s in states[first + 1 : first + 10])


def test_a_moving_note_is_never_captured() -> None:
    rule = AutoCapture()
    states = feed(rule, [note(12.0 * k) for k in range(60)])  # 12 px per frame: 3 % of its length
    assert captured(states) == [] and states[-1][1] == "moving"
    # drifting by less than the limit is still steady
    assert captured(feed(AutoCapture(), [note(0.5 * k) for k in range(20)])) != []


def test_a_blurred_note_is_captured_after_waiting_for_focus() -> None:
    rule = AutoCapture(AutoCaptureSettings(steady_s=0.5, sharp_wait_s=1.0))
    states = feed(rule, visit(30, sharp=False))
    assert len(captured(states)) == 1
    settled = 3 + 6
    assert captured(states)[0] == settled + 5 + 10
    assert [s for _, s in states[settled + 6 : settled + 15]] == ["focusing"] * 9


def test_a_note_that_stays_is_not_captured_twice_and_a_short_absence_does_not_rearm() -> None:
    rule = AutoCapture(AutoCaptureSettings(leave_s=0.4))
    observations = [note()] * 20 + [None] * 2 + [note()] * 20 + [None] * 5 + [note()] * 10
    states = feed(rule, observations)
    # the 0.2 s gap is a flicker of the detector, the 0.5 s gap a new note
    assert len(captured(states)) == 2 and captured(states)[1] > 42


def test_outside_and_small_notes_give_hints_and_no_capture() -> None:
    rule = AutoCapture()
    assert {rule.update(i / FPS, note(inside=False)).state for i in range(20)} == {"outside"}
    assert {rule.update(3 + i / FPS, note(area=0.01)).state for i in range(20)} == {"small"}
    assert rule.update(6.0, None).hint == "Put a note under the camera."


def test_a_manual_capture_waits_for_the_note_to_leave_too() -> None:
    rule = AutoCapture()
    rule.captured(0.0)
    assert captured(feed(rule, [note()] * 20)) == []
    assert rule.waiting_for_leave


def test_settings_are_checked() -> None:
    with pytest.raises(ParameterError, match="steady_s"):
        AutoCaptureSettings(steady_s=-1)
    with pytest.raises(ParameterError, match="max_shift"):
        AutoCaptureSettings(max_shift=0)
