"""Tests of wear and capture simulation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from banknote_guard.errors import ParameterError
from banknote_guard.synth.capture import apply_wear, capture
from banknote_guard.synth.design import render_note


def _note(width: int = 240) -> np.ndarray:
    return render_note("KRT", "50", "front", serial="KAB1234567", width=width, rng=np.random.default_rng(0))


@pytest.mark.parametrize("kind", ["scan", "photo"])
@pytest.mark.parametrize("difficulty", ["easy", "hard"])
def test_corners_are_inside_and_locate_the_note(kind: str, difficulty: str) -> None:
    note = _note()
    nh, nw = note.shape[:2]
    for seed in range(4):
        img, corners = capture(note, np.random.default_rng(seed), kind=kind, difficulty=difficulty, wear=False)
        h, w = img.shape[:2]
        assert corners.shape == (4, 2)
        assert (corners >= 0).all() and (corners[:, 0] <= w).all() and (corners[:, 1] <= h).all()
        # TL, TR, BR, BL: a convex quadrilateral in clockwise order (image coordinates)
        def cross(a: np.ndarray, b: np.ndarray) -> float:
            return float(a[0] * b[1] - a[1] * b[0])

        turns = [cross(corners[(i + 1) % 4] - corners[i], corners[(i + 2) % 4] - corners[(i + 1) % 4])
                 for i in range(4)]
        assert all(c > 0 for c in turns)
        # warping the capture back with the corners gives the note again
        src = np.array([[0, 0], [nw, 0], [nw, nh], [0, nh]], np.float32)
        back = cv2.warpPerspective(img, cv2.getPerspectiveTransform(corners, src), (nw, nh))
        a = cv2.cvtColor(back, cv2.COLOR_RGB2GRAY).astype(float)[4:-4, 4:-4]
        b = cv2.cvtColor(note, cv2.COLOR_RGB2GRAY).astype(float)[4:-4, 4:-4]
        a = cv2.GaussianBlur(a, (0, 0), 2)
        b = cv2.GaussianBlur(b, (0, 0), 2)
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.8


def test_photo_has_background_margin_and_varies() -> None:
    note = _note()
    a, _ = capture(note, np.random.default_rng(1), kind="photo")
    b, _ = capture(note, np.random.default_rng(2), kind="photo")
    assert a.shape[1] > note.shape[1] and a.dtype == np.uint8
    assert a.shape != b.shape or np.abs(a.astype(int) - b.astype(int)).mean() > 3


def test_capture_is_deterministic() -> None:
    note = _note()
    a, ca = capture(note, np.random.default_rng(5), kind="photo", difficulty="hard")
    b, cb = capture(note, np.random.default_rng(5), kind="photo", difficulty="hard")
    assert np.array_equal(a, b) and np.array_equal(ca, cb)


def test_wear_ages_the_note_but_keeps_it() -> None:
    note = _note()
    diffs = []
    for seed in range(6):
        worn = apply_wear(note, np.random.default_rng(seed), amount=1.5)
        assert worn.shape == note.shape
        diffs.append(np.abs(worn.astype(float) - note).mean())
    assert max(diffs) > 1.0 and max(diffs) < 40.0
    new = apply_wear(note, np.random.default_rng(0), amount=0.0)
    assert np.abs(new.astype(float) - note).mean() < 0.5


def test_capture_rejects_bad_kind_and_difficulty() -> None:
    with pytest.raises(ParameterError):
        capture(_note(), np.random.default_rng(0), kind="fax")
    with pytest.raises(ParameterError):
        capture(_note(), np.random.default_rng(0), difficulty="extreme")
