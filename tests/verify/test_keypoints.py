"""The print names a note: keypoint prototypes of real photos, the naming rule, storage, and the verifier."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from banknote_guard.data.imageio import load_image, save_image
from banknote_guard.verify.bundle import ModelBundle
from banknote_guard.verify.enroll import enroll_folder
from banknote_guard.verify.keypoints import (
    DECIDE_INLIERS,
    KeypointPrototypes,
    PhotoKeypoints,
    PrintMatch,
    name_note,
    photo_keypoints,
)
from banknote_guard.verify.verdict import judge
from banknote_guard.verify.verifier import Verifier

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
IRR_A = REAL / "irr" / "IRR_10000_back.jpg"
IRR_B = REAL / "irr" / "IRR_50000_front.jpg"


def scene(note: np.ndarray, seed: int, *, finger: bool = True) -> np.ndarray:
    """``note`` as a hand-held photo would show it: smaller, under perspective, warmer light, on a
    textured table, with a finger-coloured blob over one corner and JPEG-like blur."""
    rng = np.random.default_rng(seed)
    h, w = note.shape[:2]
    out_w, out_h = 960, 720
    table = rng.normal(0, 1, (out_h // 8, out_w // 8, 3)).astype(np.float32)
    table = cv2.resize(table, (out_w, out_h), interpolation=cv2.INTER_CUBIC) * 25 + np.array([150, 120, 90])
    table += rng.normal(0, 6, table.shape)
    scale = rng.uniform(0.5, 0.7) * out_w / w
    cx, cy = out_w / 2 + rng.uniform(-80, 80), out_h / 2 + rng.uniform(-60, 60)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = (src - [w / 2, h / 2]) * scale + [cx, cy]
    dst += rng.uniform(-0.06, 0.06, (4, 2)) * [w * scale, h * scale]  # perspective
    H = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    warped = cv2.warpPerspective(note, H, (out_w, out_h)).astype(np.float32)
    mask = cv2.warpPerspective(np.ones((h, w), np.float32), H, (out_w, out_h))[:, :, None]
    img = table * (1 - mask) + warped * np.array([1.08, 1.0, 0.85]) * mask  # warm white balance
    if finger:
        corner = dst[int(rng.integers(4))]
        cv2.ellipse(img, (int(corner[0]), int(corner[1])), (70, 35), float(rng.uniform(0, 180)), 0, 360,
                    (190, 140, 120), -1)
    img = cv2.GaussianBlur(img, (3, 3), 0.8)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def irr_photos() -> dict[str, np.ndarray]:
    return {"IRR/10000": load_image(IRR_A), "IRR/50000": load_image(IRR_B)}


@pytest.fixture(scope="module")
def irr_prototypes(irr_photos) -> KeypointPrototypes:
    protos = KeypointPrototypes()
    for denom, rgb in irr_photos.items():
        assert protos.add(denom, photo_keypoints(rgb), denom)
    return protos


def test_the_print_names_real_notes_in_cluttered_scenes(irr_photos, irr_prototypes) -> None:
    for denom, rgb in irr_photos.items():
        for seed in range(3):
            m = irr_prototypes.match(photo_keypoints(scene(rgb, seed)))
            assert m.denomination == denom, (denom, seed, m)
            assert m.decided and m.inliers >= DECIDE_INLIERS
            assert m.runner_up_inliers * 3 <= m.inliers


def test_a_picture_without_the_note_is_not_named(irr_prototypes) -> None:
    rng = np.random.default_rng(3)
    noise = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (5, 5), 1.5)
    desk = load_image(REAL / "inr" / "INR_10_62.jpg")  # a note of another currency on a table
    for picture in (noise, desk):
        assert not irr_prototypes.match(photo_keypoints(picture)).decided


def test_prototypes_round_trip_and_damaged_arrays_are_refused(irr_prototypes, irr_photos) -> None:
    arrays, meta = irr_prototypes.to_arrays()
    again = KeypointPrototypes.from_arrays(arrays, meta)
    assert again.denominations == irr_prototypes.denominations
    photo = photo_keypoints(scene(irr_photos["IRR/50000"], 7))
    a, b = irr_prototypes.match(photo), again.match(photo)
    assert (a.denomination, a.runner_up) == (b.denomination, b.runner_up)
    assert abs(a.inliers - b.inliers) <= 2  # descriptors are stored as uint8
    bad_owner = dict(arrays, owner=arrays["owner"] + 5)
    bad_dtype = dict(arrays, descriptors=arrays["descriptors"].astype(np.float64))
    nan_points = dict(arrays, points=np.where(arrays["points"] > 0, np.nan, 0).astype(np.float32))
    for damaged, m in ((bad_owner, meta), (bad_dtype, meta), (nan_points, meta), (arrays, {"format": 99}),
                       (arrays, {"format": 1, "prototypes": [{"denomination": ""}]})):
        with pytest.raises(ValueError):
            KeypointPrototypes.from_arrays(damaged, m)


class _Fixed:
    """Prototypes whose print always says the same."""

    def __init__(self, match: PrintMatch, covered: set[str]) -> None:
        self._match, self._covered = match, covered

    def __len__(self) -> int:
        return 1

    def covered(self) -> set[str]:
        return self._covered

    def match(self, photo: PhotoKeypoints) -> PrintMatch:
        return self._match


def test_the_naming_rule() -> None:
    classes = ["A/1", "A/2", "A/5"]
    photo = PhotoKeypoints(np.zeros((10, 2), np.float32), np.zeros((10, 128), np.float32))
    # No prototypes or no photo: the embedding's margin decides, as before.
    assert name_note(classes, 1, True, None, photo).clear is None
    assert name_note(classes, 1, True, _Fixed(PrintMatch(), {"A/1"}), None).clear is None
    # The print names A/5 on its own: that name, clear, whatever the embedding said.
    decided = PrintMatch("A/5", 40, "A/1", 5)
    n = name_note(classes, 1, False, _Fixed(decided, {"A/1", "A/2", "A/5"}), photo)
    assert (classes[n.index], n.clear, n.reason) == ("A/5", True, None)
    # The print leans to A/2 (the embedding's choice) but not decisively: clear only with a clear margin.
    backing = PrintMatch("A/2", 9, "A/1", 4)
    assert name_note(classes, 1, True, _Fixed(backing, {"A/2"}), photo).clear is True
    assert name_note(classes, 1, False, _Fixed(backing, {"A/2"}), photo).clear is False
    # The print does not back the embedding's A/2: not clear, and the operator is told why.
    other = PrintMatch("A/1", 10, "A/2", 8)
    n = name_note(classes, 1, True, _Fixed(other, {"A/1", "A/2"}), photo)
    assert n.clear is False and classes[n.index] == "A/2" and "A/1 (10 matching points" in n.reason
    n = name_note(classes, 1, True, _Fixed(PrintMatch(), {"A/2"}), photo)
    assert n.clear is False and "matches no genuine picture" in n.reason
    # A denomination known only to the embedding: its margin decides unless the print points elsewhere.
    assert name_note(classes, 1, True, _Fixed(PrintMatch(), {"A/1"}), photo).clear is None
    assert name_note(classes, 1, True, _Fixed(PrintMatch("A/1", 8), {"A/1"}), photo).clear is False


def test_a_name_that_is_not_clear_is_never_genuine() -> None:
    ok = dict(note_found=True, ambiguity=0.99, margin_threshold=0.5)
    assert judge(1.0, 2.0, 10.0, **ok, name_clear=False) == "uncertain"
    assert judge(1.0, 2.0, 10.0, **ok, name_clear=True) == "genuine"  # the print named it
    assert judge(1.0, 2.0, 10.0, **ok) == "uncertain"  # no print: the margin decides
    assert judge(3.0, 2.0, 10.0, **ok, name_clear=False) == "suspect"
    assert judge(math.nan, 2.0, 10.0, **ok, name_clear=True) == "suspect"


def test_enrolled_shots_name_real_notes_and_a_misnamed_note_is_never_genuine(tiny_bundle, irr_photos, tmp_path) -> None:
    for denom, rgb in irr_photos.items():
        folder = tmp_path / denom.replace("/", "_")
        folder.mkdir()
        for seed in range(3):
            save_image(folder / f"shot{seed}.jpg", scene(rgb, 100 + seed, finger=False))
    enroll_folder(tiny_bundle, "IRR", "10000", tmp_path / "IRR_10000")
    assert tiny_bundle.keypoints is not None and tiny_bundle.keypoints.covered() >= {"IRR/10000"}
    verifier = Verifier(tiny_bundle)
    # Only IRR/10000 is enrolled: a 50000 note must not pass as a genuine 10000 note.
    other = verifier.verify_image(scene(irr_photos["IRR/50000"], 11), "other")
    assert not (other.verdict == "genuine" and other.denomination == "IRR/10000")
    enroll_folder(tiny_bundle, "IRR", "50000", tmp_path / "IRR_50000")
    saved = ModelBundle.load(tiny_bundle.save(tmp_path / "m.bgm"))
    assert saved.keypoints is not None and sorted(saved.keypoints.covered() & {"IRR/10000", "IRR/50000"}) == [
        "IRR/10000", "IRR/50000"]
    assert saved.describe()["print_prototypes"] == len(saved.keypoints)
    for denom, rgb in irr_photos.items():
        path = tmp_path / f"query_{denom.replace('/', '_')}.jpg"
        save_image(path, scene(rgb, 21))
        (r,) = Verifier(saved).verify_paths([path])
        assert r.denomination == denom, r
        assert r.print_match is not None and r.print_match["decided"] and r.print_match["denomination"] == denom
        assert r.to_json()["print_match"]["inliers"] >= DECIDE_INLIERS


def test_a_picture_to_capture_again_is_not_read_for_its_print(tiny_bundle, irr_photos, tmp_path, monkeypatch) -> None:
    """A retake verdict rests on the picture alone: its print is never read (that would only cost time)."""
    import cv2

    for denom, rgb in irr_photos.items():
        folder = tmp_path / denom.replace("/", "_")
        folder.mkdir()
        for seed in range(2):
            save_image(folder / f"shot{seed}.jpg", scene(rgb, 300 + seed, finger=False))
        enroll_folder(tiny_bundle, *denom.split("/"), folder)
    calls = []
    real = Verifier._print
    monkeypatch.setattr(Verifier, "_print", lambda self, source: calls.append(1) or real(self, source))
    sharp = scene(irr_photos["IRR/10000"], 31)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 6.0)
    save_image(tmp_path / "sharp.jpg", sharp)
    save_image(tmp_path / "blurred.jpg", blurred)
    verifier = Verifier(tiny_bundle)
    (b,) = verifier.verify_paths([tmp_path / "blurred.jpg"])
    assert b.verdict == "retake" and b.print_match is None and not calls
    assert verifier.verify_image(blurred, "blurred").verdict == "retake" and not calls
    (s,) = verifier.verify_paths([tmp_path / "sharp.jpg"])
    assert s.verdict != "retake" and s.print_match is not None and len(calls) == 1
