"""Tests of dataset generation: layout, manifest, counts, determinism, refusal of foreign folders."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.data.records import LABELS
from banknote_guard.errors import CancelledError, ParameterError
from banknote_guard.progress import CancelToken, Progress
from banknote_guard.synth.capture import capture
from banknote_guard.synth.generator import (
    MANIFEST_COLUMNS,
    METHODS,
    SynthOptions,
    generate_dataset,
    make_note_image,
    read_corners,
)

SMALL = dict(currencies=2, denominations_per_currency=2, genuine_per_denomination=3,
             counterfeit_per_denomination=7, note_width=128, seed=7)


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == MANIFEST_COLUMNS
        return list(reader)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, list[Progress]]:
    out = tmp_path_factory.mktemp("synth") / "data"
    seen: list[Progress] = []
    summary = generate_dataset(out, SynthOptions(jobs=1, **SMALL), progress=seen.append)
    return out, summary, seen


def test_layout_manifest_and_counts(dataset: tuple[Path, object, list[Progress]]) -> None:
    import cv2

    out, summary, seen = dataset
    rows = _rows(out)
    assert summary.images == len(rows) == 2 * 2 * (3 + 7)
    assert summary.per_label == {"genuine": 12, "counterfeit": 28} and summary.failed == 0
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg"))
    assert files == sorted(r["path"] for r in rows)
    for r in rows:
        parts = r["path"].split("/")
        assert parts[:3] == [r["currency"], r["denomination"], r["label"]] and len(parts) == 4
        assert r["label"] in LABELS and r["side"] in ("front", "back")
        assert (r["method"] == "") == (r["label"] == "genuine")
        assert r["method"] == "" or r["method"] in METHODS
        assert int(r["seed"]) >= 0
    assert {r["currency"] for r in rows} == {"KRT", "VLM"}
    assert {r["denomination"] for r in rows} == {"5", "10"}
    # counterfeits are spread over the methods; the lowest denomination cannot be raised
    for cur in ("KRT", "VLM"):
        low = {r["method"] for r in rows if r["currency"] == cur and r["denomination"] == "5" and r["method"]}
        high = {r["method"] for r in rows if r["currency"] == cur and r["denomination"] == "10" and r["method"]}
        assert "raised_denomination" not in low and len(low) == 6
        assert high == set(METHODS)
    assert summary.contact_sheet == out / "contact_sheet.png"
    sheet = cv2.imread(str(summary.contact_sheet))
    assert sheet.shape[1] == 1600 and sheet.shape[0] > 800 and sheet.std() > 20
    assert seen and seen[-1].done == seen[-1].total
    assert summary.images_per_second > 0


def test_corners_file_matches_images(dataset: tuple[Path, object, list[Progress]]) -> None:
    import cv2

    out, _, _ = dataset
    corners = read_corners(out)
    rows = _rows(out)
    assert set(corners) == {r["path"] for r in rows}
    for r in rows[::9]:
        img = cv2.imread(str(out / r["path"]))
        c = corners[r["path"]]
        assert (c >= 0).all() and (c[:, 0] <= img.shape[1]).all() and (c[:, 1] <= img.shape[0]).all()


def test_images_are_reproducible_from_manifest_and_independent_of_jobs(
        dataset: tuple[Path, object, list[Progress]], tmp_path: Path) -> None:
    import cv2

    out, _, _ = dataset
    out2 = tmp_path / "again"
    generate_dataset(out2, SynthOptions(jobs=2, contact_sheet=False, **SMALL))
    rows = _rows(out)
    assert rows == _rows(out2)
    for r in rows[::5]:
        assert (out / r["path"]).read_bytes() == (out2 / r["path"]).read_bytes(), r["path"]
    # the manifest's seed regenerates the image
    r = next(r for r in rows if r["label"] == "counterfeit")
    kind = "photo" if np.random.default_rng(int(r["seed"])).random() < 0.5 else "scan"
    img, _ = make_note_image(r["currency"], r["denomination"], r["side"], label=r["label"], method=r["method"],
                             seed=int(r["seed"]), kind=kind, width=128, difficulty="normal")
    disk = cv2.imread(str(out / r["path"]))[..., ::-1]
    assert img.shape == disk.shape and np.abs(img.astype(int) - disk).mean() < 2.0


def test_other_seed_gives_other_images(dataset: tuple[Path, object, list[Progress]], tmp_path: Path) -> None:
    out, _, _ = dataset
    opts = dict(SMALL, seed=8, currencies=1, denominations_per_currency=1)
    generate_dataset(tmp_path / "b", SynthOptions(jobs=1, contact_sheet=False, **opts))
    rows = [r for r in _rows(tmp_path / "b") if r["label"] == "genuine"]
    assert rows and all((out / r["path"]).read_bytes() != (tmp_path / "b" / r["path"]).read_bytes() for r in rows)


def test_refuses_foreign_folder_and_replaces_earlier_output(tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("keep me")
    opts = SynthOptions(currencies=1, denominations_per_currency=1, genuine_per_denomination=2,
                        counterfeit_per_denomination=1, note_width=96, jobs=1, contact_sheet=False,
                        image_format="png")
    with pytest.raises(ParameterError, match="not empty"):
        generate_dataset(foreign, opts)
    s = generate_dataset(foreign, opts, overwrite=True)
    assert s.images == 3 and (foreign / "thesis.txt").read_text() == "keep me"
    # an earlier synth output is replaced without --overwrite, and stale images go away
    prev = tmp_path / "prev"
    generate_dataset(prev, SynthOptions(**{**opts.__dict__, "genuine_per_denomination": 4}))
    generate_dataset(prev, opts)
    assert len(list(prev.rglob("*.png"))) == 3 and len(_rows(prev)) == 3


@pytest.mark.parametrize("bad", [dict(currencies=0), dict(currencies=99), dict(difficulty="insane"),
                                 dict(methods=("inkjet", "magic")), dict(photo_fraction=1.5), dict(note_width=20),
                                 dict(sides=("top",)), dict(image_format="gif"), dict(jobs=0)])
def test_bad_options_are_refused(bad: dict, tmp_path: Path) -> None:
    with pytest.raises(ParameterError):
        generate_dataset(tmp_path / "x", SynthOptions(**bad))


def test_cancel_stops_generation(tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        generate_dataset(tmp_path / "c", SynthOptions(currencies=1, denominations_per_currency=1, note_width=96,
                                                      jobs=1), cancel=token)
    assert not (tmp_path / "c" / "manifest.csv").exists()


def test_method_subset_and_photo_fraction(tmp_path: Path) -> None:
    opts = SynthOptions(currencies=1, denominations_per_currency=2, genuine_per_denomination=2,
                        counterfeit_per_denomination=2, methods=("laser",), photo_fraction=1.0, note_width=96,
                        jobs=1, contact_sheet=False, sides=("back",))
    generate_dataset(tmp_path / "m", opts)
    rows = _rows(tmp_path / "m")
    assert {r["method"] for r in rows if r["label"] == "counterfeit"} == {"laser"}
    assert {r["side"] for r in rows} == {"back"}


def test_capture_corners_stay_inside_for_generated_kinds() -> None:
    from banknote_guard.synth.design import render_note

    note = render_note("MXQ", "100", "back", serial="MQA0000000", width=128, rng=np.random.default_rng(0))
    for seed in range(10):
        img, c = capture(note, np.random.default_rng(seed), kind="photo", difficulty="hard")
        assert (c >= 0).all() and (c[:, 0] <= img.shape[1]).all() and (c[:, 1] <= img.shape[0]).all()
