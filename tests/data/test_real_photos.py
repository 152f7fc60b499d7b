"""Note finding on real photos of real notes (tests/data/real, corners marked by hand), on real notes
pasted into generated scenes with known corners, and on pictures without a note."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.data.imageio import load_image
from banknote_guard.data.rectify import rectify_note
from banknote_guard.data.rectify.scenes import BACKGROUNDS, corner_error, decode_jpeg, empty_scene, paste_scene
from banknote_guard.resources import sample_notes_dir

REAL = Path(__file__).with_name("real")
MARKED = json.loads((REAL / "corners.json").read_text(encoding="utf-8"))
CROPS = sorted((REAL / "irr").glob("*.jpg"))
TOLERANCE = 0.03  # of the note's diagonal


def _diagonal(corners: np.ndarray) -> float:
    return float(max(np.linalg.norm(corners[2] - corners[0]), np.linalg.norm(corners[3] - corners[1])))


def test_real_photos_are_bundled_with_their_licences() -> None:
    assert (REAL / "inr" / "LICENSE").is_file() and (REAL / "irr" / "LICENSE").is_file()
    assert "Jaydeep-Chaudhary" in (REAL / "README.md").read_text(encoding="utf-8")
    assert len(CROPS) == 2 and len(MARKED) == 6
    assert sum(p.stat().st_size for p in REAL.rglob("*") if p.is_file()) < 2_000_000


#: Photos the note finder does not get right yet (strict: a fix makes these fail until the mark is removed).
KNOWN_MISSES = {
    "inr/INR_10_150.jpg": "the cable over the note pulls a side out (4 % of the diagonal off)",
    "inr/INR_10_185.jpg": "a small note on a painted bench is not found",
    "inr/INR_20_84.jpg": "a note held up over a printed shirt is not found",
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[n])) if n in KNOWN_MISSES else n
     for n in sorted(MARKED)],
)
def test_hand_marked_photo_outline_is_found(name: str) -> None:
    rgb = load_image(REAL / name)
    true = np.array(MARKED[name]["corners"], np.float32)
    res = rectify_note(rgb, out_width=256)
    assert res.found, f"{name} ({MARKED[name]['what']}): {res.message}"
    err = corner_error(res.corners, true)
    assert err < TOLERANCE * _diagonal(true), f"{name} ({MARKED[name]['what']}): off by {err:.0f} px"
    assert res.image.shape[1] == 256 and res.image.shape[0] < 160  # upright, landscape


def test_pasted_scene_is_reproducible_and_its_corners_are_the_note() -> None:
    note = load_image(CROPS[0])
    a = paste_scene(note, 11, fill=0.4)
    b = paste_scene(note, 11, fill=0.4)
    assert a.jpeg == b.jpeg and np.array_equal(a.corners, b.corners)
    assert np.array_equal(a.rgb, decode_jpeg(a.jpeg))
    h, w = a.rgb.shape[:2]
    assert (a.corners >= 0).all() and (a.corners[:, 0] < w).all() and (a.corners[:, 1] < h).all()
    assert abs(a.fill - 0.4) < 0.02 and a.background in BACKGROUNDS
    # the note's mask covers the outline given by the corners (a bowed note bulges a little past it)
    import cv2

    outline = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(outline, np.round(a.corners).astype(np.int32), 1)
    mask = a.note_mask > 0.5
    iou = (mask & (outline > 0)).sum() / (mask | (outline > 0)).sum()
    assert iou > 0.9


def test_pasted_real_notes_are_found_within_tolerance() -> None:
    """Six scenes of the two bundled crops (fills 15-75 %, something over the note in some)."""
    right, notes = 0, []
    for k, (crop, fill) in enumerate([(c, f) for c in CROPS for f in (0.15, 0.45, 0.75)]):
        scene = paste_scene(load_image(crop), 500 + k, fill=fill)
        res = rectify_note(scene.rgb, out_width=256)
        err = corner_error(res.corners, scene.corners) / _diagonal(scene.corners) if res.found else float("inf")
        right += err < TOLERANCE
        notes.append(f"{crop.name} fill {fill}: {err:.3f} over it {scene.occluders} {scene.effects}")
    assert right >= 5, notes


def test_no_note_is_said_so() -> None:
    """A plain background, the desk photo among the sample notes and desks or tables with clutter (and
    sometimes a hand) but no note: no outline, and the message says so."""
    from banknote_guard.data._testimages import make_empty_photo

    pictures = [make_empty_photo(3, size=(960, 720)), load_image(Path(sample_notes_dir()) / "desk_without_note.jpg")]
    pictures += [empty_scene(seed, frame_scale=0.6)[0] for seed in range(40, 48)]
    for k, rgb in enumerate(pictures):
        res = rectify_note(rgb, out_width=200)
        assert not res.found and res.corners is None and res.confidence == 0.0, k
        assert "no note" in res.message
