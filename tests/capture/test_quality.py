"""Retake advice: the capture-quality checks, and the verdict "retake" they lead to for every source."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from banknote_guard.data.imageio import load_image, save_image
from banknote_guard.model.config import ModelConfig
from banknote_guard.model.preprocess import prepare_note
from banknote_guard.resources import sample_notes_dir
from banknote_guard.verify.quality import (
    BLURRED,
    CUT_OFF,
    GLARE,
    NO_NOTE,
    SEVERAL_NOTES,
    TOO_DARK,
    TOO_SMALL,
    assess,
    blur_index,
    crop_note,
    edge_sharpness,
    find_notes,
    min_note_px,
    reason_key,
)
from banknote_guard.verify.verifier import Verifier

CONFIG = ModelConfig(image_height=128, image_width=256)  # the demo model's input size


def keys(rgb: np.ndarray, **kwargs) -> list[str]:
    q = assess(prepare_note(rgb, CONFIG), min_note_px=min_note_px(CONFIG), **kwargs)
    return [reason_key(r) for r in q.reasons]


def sample(name: str) -> np.ndarray:
    return load_image(sample_notes_dir() / name)


GENUINE = "KRT_10_front_genuine.jpg"
COUNTERFEIT = "KRT_10_back_counterfeit-high_quality.jpg"


def test_sharp_notes_pass_every_check(scenes) -> None:
    for path in sorted(sample_notes_dir().glob("KRT_*.jpg")):
        assert keys(load_image(path)) == [], path.name
    on_desk = scenes.place(scenes.desk((480, 640)), scenes.flat_note("20"), (320, 240), 420, 5)
    assert keys(on_desk, expect_outline=True) == []


def test_the_measures_follow_the_physics_of_blur() -> None:
    step = np.zeros((64, 64), np.float32)
    step[:, 32:] = 200
    for sigma, expected in ((1.5, 1 / (1.5 * np.sqrt(2 * np.pi))), (3.0, 1 / (3.0 * np.sqrt(2 * np.pi)))):
        blurred = cv2.GaussianBlur(step, (0, 0), sigma)
        # a step blurred by sigma pixels climbs at most 1/(sigma*sqrt(2*pi)) of its height per pixel
        assert edge_sharpness(blurred, quantile=100) == pytest.approx(expected, rel=0.25)
    note = cv2.cvtColor(sample(GENUINE), cv2.COLOR_RGB2GRAY)
    indices = [blur_index(cv2.GaussianBlur(note, (0, 0), s)) if s else blur_index(note) for s in (0, 1, 2, 4)]
    assert indices == sorted(indices) and indices[0] < 0.4 < indices[-1]
    assert np.isnan(blur_index(np.full((20, 20), 128, np.uint8)))
    assert np.isnan(edge_sharpness(np.full((20, 20), 128, np.uint8)))


@pytest.mark.parametrize("sigma", [3.0, 4.0])
def test_blurred_notes_are_sent_back(sigma: float) -> None:
    assert keys(cv2.GaussianBlur(sample(GENUINE), (0, 0), sigma)) == [BLURRED]


def test_motion_blur_in_one_direction_is_blur() -> None:
    kernel = np.zeros((17, 17), np.float32)
    cv2.line(kernel, (0, 4), (16, 12), 1.0, 1)
    assert BLURRED in keys(cv2.filter2D(sample(GENUINE), -1, kernel / kernel.sum()))


def test_dark_glare_and_small_pictures_are_sent_back() -> None:
    note = sample(GENUINE)
    assert keys((note * 0.25).astype(np.uint8)) == [TOO_DARK]
    glare = note.astype(np.float32)
    h, w = note.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    # a reflection blowing out about a fifth of the note
    spot = np.clip(1.6 * np.exp(-(((xx - 0.45 * w) / (0.22 * w)) ** 2 + ((yy - 0.5 * h) / (0.30 * h)) ** 2)), 0, 1)
    glare = glare * (1 - spot[..., None]) + 255 * spot[..., None]
    assert keys(glare.astype(np.uint8)) == [GLARE]
    small = cv2.resize(note, (w // 5, h // 5), interpolation=cv2.INTER_AREA)
    assert keys(small) == [TOO_SMALL]


def test_a_note_cut_off_by_the_frame_is_sent_back(scenes) -> None:
    frame = scenes.place(scenes.desk((480, 640)), scenes.flat_note("10"), (160, 240), 430, 3)
    assert keys(frame, expect_outline=True) == [CUT_OFF]
    # with a thin margin it is whole
    thin_margin = scenes.place(scenes.lid((300, 560)), scenes.flat_note("10"), (280, 150), 536)
    assert keys(thin_margin, expect_outline=True) == []


def test_several_notes_and_no_note(scenes) -> None:
    page = scenes.lid((900, 1300))
    page = scenes.place(page, scenes.flat_note("10", seed=1), (340, 260), 560, 4)
    page = scenes.place(page, scenes.flat_note("20", seed=2), (940, 640), 560, -6)
    assert keys(page) == [SEVERAL_NOTES]
    assert keys(scenes.desk((480, 640)), expect_outline=True) == [NO_NOTE]
    assert keys(scenes.desk((480, 640))) == []  # a file may be a tight crop: no outline is no reason


def test_every_note_on_a_page_is_found_and_cropped_alone(scenes) -> None:
    page = scenes.lid((1000, 1400))
    centres = [(360, 260), (1040, 300), (700, 760)]
    for k, c in enumerate(centres):
        page = scenes.place(page, scenes.flat_note(("5", "10", "20")[k], seed=k), c, 520, 5 * k - 4)
    notes = find_notes(page)
    assert len(notes) == 3
    for c in centres:  # each note found once, where it lies
        assert sum(np.linalg.norm(q.mean(axis=0) - c) < 25 for q in notes) == 1
    crop = crop_note(page, notes[0], notes[1:])
    assert len(find_notes(crop)) == 1 and keys(crop, expect_outline=True) == []
    assert find_notes(scenes.lid((400, 600))) == []


# --- the verdict --------------------------------------------------------------------------------------


def test_a_blurred_genuine_note_is_retake_not_suspect(demo_model) -> None:
    verifier = Verifier(demo_model)
    sharp = verifier.verify_image(sample(GENUINE), "sharp")
    assert sharp.verdict == "genuine" and sharp.reasons == []
    blurred = verifier.verify_image(cv2.GaussianBlur(sample(GENUINE), (0, 0), 3.5), "blurred")
    assert blurred.verdict == "retake" and reason_key(blurred.reasons[0]) == BLURRED
    assert blurred.to_json()["reasons"][0].startswith("blurred: ")


def test_a_blurred_counterfeit_does_not_pass(demo_model) -> None:
    verifier = Verifier(demo_model)
    assert verifier.verify_image(sample(COUNTERFEIT), "fake").verdict == "suspect"
    blurred = verifier.verify_image(cv2.GaussianBlur(sample(COUNTERFEIT), (0, 0), 3.5), "blurred fake")
    assert blurred.verdict == "retake"


def test_files_get_retake_advice_too(demo_model, tmp_path: Path) -> None:
    save_image(tmp_path / "dark.png", (sample(GENUINE) * 0.25).astype(np.uint8))
    save_image(tmp_path / "fine.png", sample(GENUINE))
    results = Verifier(demo_model).verify_paths([tmp_path / "dark.png", tmp_path / "fine.png"])
    assert [r.verdict for r in results] == ["retake", "genuine"]
    doc = json.loads(json.dumps([r.to_json() for r in results]))
    assert doc[0]["reasons"][0].startswith("too dark: ") and doc[1]["reasons"] == []


def test_a_camera_frame_without_a_note_is_retake(demo_model, scenes) -> None:
    result = Verifier(demo_model).verify_image(scenes.desk((480, 640)), "camera 0 #1", expect_outline=True)
    assert result.verdict == "retake" and reason_key(result.reasons[0]) == NO_NOTE
