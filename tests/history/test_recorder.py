"""Recording verifications: each note with its picture's hash, stored copies, model identity and batch."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from banknote_guard.history.recorder import (
    HistoryRecorder,
    RecordingVerifier,
    jpeg_bytes,
    new_batch_id,
    pixels_sha256,
)
from banknote_guard.history.store import open_history
from banknote_guard.progress import CancelToken
from banknote_guard.verify.result import VerificationResult


def _notes(folder: Path, pattern_dataset: Any, n: int = 6) -> list[Path]:
    _, records = pattern_dataset
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, rec in enumerate(records[:n]):
        target = folder / f"n{i}{rec.path.suffix}"
        target.write_bytes(rec.path.read_bytes())
        out.append(target)
    return out


def test_every_verified_note_is_recorded_as_it_is_judged(tmp_path: Path, tiny_bundle: Any, pattern_dataset: Any) -> None:
    files = _notes(tmp_path / "in", pattern_dataset)
    (tmp_path / "in" / "broken.png").write_bytes(b"\x89PNG not really")
    with open_history(tmp_path / "h.sqlite") as h:
        recorder = HistoryRecorder(h, station="Desk 3", operator="Ann", model=tiny_bundle, batch="shift-1")
        results = RecordingVerifier(tiny_bundle, recorder, batch_size=4).verify_paths([tmp_path / "in"])
        records = h.query()
    assert len(results) == len(records) == len(files) + 1 and recorder.recorded == 7 and not recorder.failures
    by_path = {r.path: r for r in records}
    for res in results:
        rec = by_path[res.path]
        assert (rec.verdict, rec.denomination, rec.status) == (res.verdict, res.denomination, res.status)
        assert rec.batch == "shift-1" and rec.station == "Desk 3" and rec.operator == "Ann" and rec.source == "file"
        assert rec.model_id == tiny_bundle.identity and rec.model_sha256 == tiny_bundle.sha256
        assert rec.image_sha256 == hashlib.sha256(Path(res.path).read_bytes()).hexdigest()
        if res.ok:
            assert rec.counterfeit_score == pytest.approx(res.counterfeit_score)
            assert rec.distances == pytest.approx(res.distances)
            stored = Image.open(io.BytesIO(rec.image))
            original = Image.open(res.path)
            assert stored.format == "JPEG" and stored.size == original.size
            note = Image.open(io.BytesIO(rec.note_image))
            assert note.size == (res.rectified.shape[1], res.rectified.shape[0])
    broken = by_path[str(tmp_path / "in" / "broken.png")]
    assert broken.status == "error" and broken.error and broken.image is None and broken.image_sha256


def test_a_picture_in_memory_is_recorded_with_its_pixels_hash(tmp_path: Path, tiny_bundle: Any) -> None:
    rgb = np.random.default_rng(1).integers(0, 255, (60, 120, 3), dtype=np.uint8)
    with open_history(tmp_path / "h.sqlite") as h:
        recorder = HistoryRecorder(h, model=tiny_bundle, source="camera")
        result = RecordingVerifier(tiny_bundle, recorder).verify_image(rgb, "camera 0")
        (rec,) = h.query()
    assert rec.source == "camera" and rec.path == "camera 0" and rec.verdict == result.verdict
    assert rec.image_sha256 == pixels_sha256(rgb) and rec.image and rec.note_image
    assert re.fullmatch(r"\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{4}", recorder.batch)
    assert rec.station and rec.operator  # this computer's name and the login name


def test_a_history_that_cannot_be_written_never_stops_the_batch(tmp_path: Path, tiny_bundle: Any,
                                                                pattern_dataset: Any) -> None:
    files = _notes(tmp_path / "in", pattern_dataset, n=3)
    h = open_history(tmp_path / "h.sqlite")
    h.close()  # every write now fails
    recorder = HistoryRecorder(h, model=tiny_bundle)
    results = RecordingVerifier(tiny_bundle, recorder).verify_paths(files)
    assert len(results) == 3 and all(r.ok for r in results)
    assert recorder.recorded == 0 and len(recorder.failures) == 3
    assert "3 note(s) could not be written to the history" in (recorder.failure_text() or "")


def test_a_stopped_batch_records_the_notes_judged_before_the_stop(tmp_path: Path, tiny_bundle: Any,
                                                                  pattern_dataset: Any) -> None:
    files = _notes(tmp_path / "in", pattern_dataset, n=6)
    cancel = CancelToken()
    with open_history(tmp_path / "h.sqlite") as h:
        recorder = HistoryRecorder(h, model=tiny_bundle)

        class StopAfterFirstBatch(RecordingVerifier):
            def score(self, *args: Any, **kwargs: Any) -> Any:
                out = super().score(*args, **kwargs)
                cancel.cancel()
                return out

        results = StopAfterFirstBatch(tiny_bundle, recorder, batch_size=2).verify_paths(
            files, cancel=cancel, keep_partial=True)
        records = h.query()
    assert len(results) == 6 and sum(r.ok for r in results) == 2
    assert sorted(r.path for r in records) == sorted(r.path for r in results if r.ok)  # "not verified" is no note


def test_stored_copies_keep_small_jpegs_byte_for_byte_and_shrink_the_rest(tmp_path: Path) -> None:
    from banknote_guard.history.recorder import STORED_IMAGE_MAX_SIDE

    rng = np.random.default_rng(3)
    small = tmp_path / "small.jpg"
    Image.fromarray(rng.integers(0, 255, (300, 600, 3), dtype=np.uint8)).save(small, quality=85)
    big = tmp_path / "big.jpg"
    Image.fromarray(np.full((2000, 3200, 3), 120, np.uint8)).save(big)
    turned = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, shown rotated by 90 degrees
    Image.fromarray(np.full((100, 200, 3), 90, np.uint8)).save(turned, exif=exif)
    with open_history(tmp_path / "h.sqlite") as h:
        recorder = HistoryRecorder(h)
        copies = {p.name: recorder.make_record(VerificationResult(path=str(p), verdict="genuine"))
                  for p in (small, big, turned)}
    assert copies["small.jpg"].image == small.read_bytes()
    assert hashlib.sha256(copies["small.jpg"].image).hexdigest() == copies["small.jpg"].image_sha256
    assert Image.open(io.BytesIO(copies["big.jpg"].image)).size == (STORED_IMAGE_MAX_SIDE, 1000)
    assert copies["big.jpg"].image_sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
    assert Image.open(io.BytesIO(copies["turned.jpg"].image)).size == (100, 200)  # upright, as the verifier saw it


def test_stored_copies_are_bounded_jpegs() -> None:
    big = np.zeros((2400, 4000, 3), np.uint8)
    data = jpeg_bytes(big)
    assert Image.open(io.BytesIO(data)).size == (1600, 960)
    assert Image.open(io.BytesIO(jpeg_bytes(np.zeros((10, 20), np.uint8)))).size == (20, 10)
    assert new_batch_id("Desk #3 (front)").split("-")[2:5] == ["desk", "3", "front"]


def test_unknown_sources_are_refused(tmp_path: Path) -> None:
    from banknote_guard.history.errors import HistoryError

    with open_history(tmp_path / "h.sqlite") as h, pytest.raises(HistoryError, match="Unknown source"):
        HistoryRecorder(h, source="fax")  # type: ignore[arg-type]
