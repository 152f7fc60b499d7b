from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from banknote_guard.errors import ParameterError
from banknote_guard.verify.bundle import ModelBundle
from banknote_guard.verify.enroll import choose_images, enroll_dataset, enroll_folder
from banknote_guard.verify.verifier import verify_paths


def test_choose_images_is_deterministic_and_spread() -> None:
    paths = [Path(f"{i:02d}.png") for i in range(10)]
    assert choose_images(list(reversed(paths)), 3) == [paths[0], paths[4], paths[9]]
    assert choose_images(paths, None) == paths
    assert choose_images(paths, 50) == paths
    with pytest.raises(ParameterError):
        choose_images(paths, 0)


def test_enroll_new_denominations_from_five_images(tiny_bundle, new_dataset, tmp_path) -> None:
    before = tiny_bundle.denominations
    rep = enroll_dataset(tiny_bundle, new_dataset, k=5)
    assert rep.denominations == ["NEW/3", "NEW/4"]
    for e in rep.enrolled:
        assert e.k == 5 and not e.refreshed
        assert e.calibration_method.startswith("k-shot-simulated")
        assert e.threshold == tiny_bundle.calibration.threshold_for_k(5)[0]
        assert e.spread_method == "in-sample"
        assert "too few to calibrate" in e.warning and "simulated k-shot enrollments" in e.warning
    assert len(rep.warnings) == 2 and rep.errors == []
    assert tiny_bundle.denominations == sorted(before + ["NEW/3", "NEW/4"])
    assert tiny_bundle.svm.classes_ == sorted(tiny_bundle.gallery.classes_)
    assert set(tiny_bundle.summary["enrolled"]) == {"NEW/3", "NEW/4"}
    # The enrolled denominations are recognised, also on images not used for enrollment.
    genuine = sorted((new_dataset / "NEW" / "3" / "genuine").glob("*.png"))
    results = verify_paths(tiny_bundle, genuine)
    assert all(r.denomination == "NEW/3" for r in results)
    assert all(set(r.probabilities) == set(tiny_bundle.denominations) for r in results)
    # ... and survive a save/load.
    loaded = ModelBundle.load(tiny_bundle.save(tmp_path / "m.bgm"))
    assert loaded.denominations == tiny_bundle.denominations
    assert loaded.calibration.methods["NEW/3"] == tiny_bundle.calibration.methods["NEW/3"]


def test_one_image_takes_the_pooled_spread_and_says_so(tiny_bundle, new_dataset) -> None:
    rep = enroll_dataset(tiny_bundle, new_dataset, denominations=["NEW/4"], k=1)
    (e,) = rep.enrolled
    assert e.k == 1 and e.spread_method == "pooled"
    assert "pooled spread" in e.warning
    i = tiny_bundle.gallery.classes_.index("NEW/4")
    assert tiny_bundle.gallery.spreads_[i] > 0


def test_refresh_a_trained_denomination(tiny_bundle, pattern_dataset) -> None:
    root, _ = pattern_dataset
    rep = enroll_dataset(tiny_bundle, root, denominations=["TST/1"], k=4)
    assert [(e.denomination, e.refreshed, e.k) for e in rep.enrolled] == [("TST/1", True, 4)]
    assert tiny_bundle.denominations == ["TST/0", "TST/1", "TST/2"]
    assert tiny_bundle.gallery.counts_[1] == 4


def test_unknown_denomination_is_refused(tiny_bundle, new_dataset) -> None:
    with pytest.raises(ParameterError, match="NEW/9"):
        enroll_dataset(tiny_bundle, new_dataset, denominations=["NEW/9"])


def test_enroll_folder_skips_unreadable_files(tiny_bundle, new_dataset, tmp_path) -> None:
    folder = tmp_path / "few"
    folder.mkdir()
    for p in sorted((new_dataset / "NEW" / "3" / "genuine").glob("*.png"))[:3]:
        shutil.copy(p, folder / p.name)
    (folder / "bad.jpg").write_bytes(b"not an image")
    rep = enroll_folder(tiny_bundle, "XYZ", "7", folder)
    assert rep.denominations == ["XYZ/7"] and rep.enrolled[0].k == 3
    assert len(rep.errors) == 1 and rep.errors[0][0].endswith("bad.jpg")
    with pytest.raises(ParameterError):
        enroll_folder(tiny_bundle, "XYZ", "7", tmp_path / "missing")


def test_many_images_give_a_threshold_of_its_own(tiny_bundle, blob_maker) -> None:
    from banknote_guard.verify.enroll import MIN_OWN_CALIBRATION, _enroll_one

    x, _, _ = blob_maker(n_classes=1, per_class=MIN_OWN_CALIBRATION, dim=tiny_bundle.gallery.centroids_.shape[1])
    e = _enroll_one(tiny_bundle, "BIG/1", x)
    assert e.warning is None and e.spread_method == "held-out"
    assert e.calibration_method in ("parametric", "quantile")
    assert tiny_bundle.calibration.heldout_counts["BIG/1"] == MIN_OWN_CALIBRATION // 3
