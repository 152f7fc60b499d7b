"""Document scanners through real SANE backends: ``pnm`` scans a picture we choose, ``test`` makes test
patterns and has a document feeder that runs empty after ten sheets."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.capture.errors import (
    ScannerBusyError,
    ScannerError,
    ScannerNotFoundError,
    ScannerTimeoutError,
    ScannerUnavailableError,
)
from banknote_guard.capture.scanner import (
    INSTALL_HINT,
    Scanner,
    ScannerSource,
    list_scanners,
    parse_options,
    read_pnm,
    scan_and_verify,
    verify_page,
    write_pnm,
)
from banknote_guard.data.imageio import load_image
from banknote_guard.errors import CancelledError
from banknote_guard.progress import CancelToken
from banknote_guard.resources import sample_notes_dir
from banknote_guard.verify.quality import NO_NOTE, reason_key
from banknote_guard.verify.verifier import Verifier


def pnm_scanner(picture: np.ndarray, folder: Path, **kwargs) -> Scanner:
    """The ``pnm`` backend, scanning ``picture`` (written as the file it reads)."""
    return Scanner("pnm:0", options={"filename": str(write_pnm(folder / "glass.ppm", picture))}, **kwargs)


def test_the_sane_backends_are_listed(sane_config) -> None:
    names = {s.name for s in list_scanners()}
    assert {"pnm:0", "test:0"} <= names


def test_a_scan_is_the_picture_on_the_glass(sane_config, tmp_path: Path) -> None:
    picture = load_image(sample_notes_dir() / "KRT_10_front_genuine.jpg")
    pages = list(pnm_scanner(picture, tmp_path).pages())
    assert len(pages) == 1 and np.array_equal(pages[0], picture)


@pytest.mark.parametrize(("name", "verdict"), [("KRT_10_front_genuine.jpg", "genuine"),
                                               ("KRT_10_back_counterfeit-high_quality.jpg", "suspect")])
def test_scanned_sample_notes_get_their_verdicts(sane_config, tmp_path: Path, demo_model, name: str,
                                                 verdict: str) -> None:
    scanner = pnm_scanner(load_image(sample_notes_dir() / name), tmp_path, resolution=300)
    (page,) = list(scan_and_verify(Verifier(demo_model), scanner))
    results = page.results
    assert len(results) == 1 and len(page.notes) == 1
    assert results[0].verdict == verdict and results[0].note_found
    assert results[0].path == "scanner pnm:0 page 1"


def test_two_notes_on_the_glass_give_two_results(sane_config, tmp_path: Path, scenes, demo_model) -> None:
    glass = scenes.lid((1100, 1500))
    glass = scenes.place(glass, scenes.flat_note("10", seed=5), (400, 300), 620, 3)
    glass = scenes.place(glass, scenes.flat_note("20", "back", seed=6), (1050, 780), 620, -4)
    (page,) = list(scan_and_verify(Verifier(demo_model), pnm_scanner(glass, tmp_path)))
    results = page.results
    assert len(page.notes) == 2
    assert [r.path for r in results] == ["scanner pnm:0 page 1 note 1", "scanner pnm:0 page 1 note 2"]
    assert all(r.ok and r.note_found and r.verdict != "retake" for r in results)
    assert sorted(r.denomination for r in results) == ["KRT/10", "KRT/20"]


def test_a_test_pattern_is_not_a_note(sane_config, demo_model) -> None:
    scanner = Scanner("test:0", resolution=150, options={"test-picture": "Color pattern"})
    (page,) = list(scanner.pages())
    assert page.shape[2] == 3 and page.std() > 20  # colour bars, in colour
    scanned = verify_page(Verifier(demo_model), page, "pattern")
    assert scanned.notes == []
    (result,) = scanned.results
    assert result.verdict == "retake" and reason_key(result.reasons[0]) == NO_NOTE


def test_the_document_feeder_gives_every_sheet_until_it_runs_empty(sane_config) -> None:
    source = ScannerSource(Scanner("test:0", resolution=25, batch=True))
    with source:
        frames = list(source.frames())
    assert len(frames) == 10  # the test backend's feeder holds ten sheets
    assert [f.source for f in frames[:2]] == ["scanner test:0 page 1", "scanner test:0 page 2"]


def test_resolution_and_mode_follow_what_the_scanner_offers(sane_config, tmp_path: Path) -> None:
    args = Scanner("test:0", resolution=2400, mode="gray").scan_args()
    assert "--resolution=1200" in args and "--mode=Gray" in args  # its range ends at 1200 dpi
    pnm = pnm_scanner(np.zeros((8, 8, 3), np.uint8), tmp_path, resolution=160)
    assert "--resolution=165" in pnm.scan_args() and not any(a.startswith("--mode") for a in pnm.scan_args())
    opts = parse_options("  Scan Mode:\n    --mode Lineart|Gray|24bit Color [Gray]\n"
                         "    --resolution 75..600dpi (in steps of 1) [150]\n    --preview[=(yes|no)] [no]\n")
    assert opts["--mode"].choices == ("Lineart", "Gray", "24bit Color")
    assert (opts["--resolution"].low, opts["--resolution"].high) == (75, 600)


# --- faults ---------------------------------------------------------------------------------------------


def test_a_missing_scanner_is_named(sane_config) -> None:
    with pytest.raises(ScannerNotFoundError, match="No scanner named 'epson2:usb:9' is connected"):
        list(Scanner("epson2:usb:9").pages())


def test_a_busy_scanner_says_so(sane_config) -> None:
    scanner = Scanner("test:0", options={"read-return-value": "SANE_STATUS_DEVICE_BUSY"})
    with pytest.raises(ScannerBusyError, match="busy"):
        list(scanner.pages())


@pytest.fixture
def stuck_scanner(sane_config, tmp_path: Path) -> Scanner:
    """A scanner that never answers: the ``pnm`` backend reading a pipe nobody writes to."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs a named pipe")
    fifo = tmp_path / "never.ppm"
    os.mkfifo(fifo)
    return Scanner("pnm:0", options={"filename": str(fifo)}, timeout_s=0.5)


def test_a_scan_that_takes_too_long_is_stopped(stuck_scanner: Scanner) -> None:
    start = time.monotonic()
    with pytest.raises(ScannerTimeoutError, match="did not finish within 0.5 s; it was stopped"):
        list(stuck_scanner.pages())
    assert time.monotonic() - start < 10


def test_a_scan_can_be_cancelled(stuck_scanner: Scanner) -> None:
    cancel = CancelToken()
    threading.Timer(0.2, cancel.cancel).start()
    stuck_scanner.timeout_s = 60.0
    start = time.monotonic()
    with pytest.raises(CancelledError):
        list(stuck_scanner.pages(cancel))
    assert time.monotonic() - start < 10


def test_without_sane_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ScannerUnavailableError) as info:
        list_scanners()
    assert str(info.value) == INSTALL_HINT and "sane-utils" in INSTALL_HINT
    with pytest.raises(ScannerUnavailableError):
        list(Scanner().pages())


def test_pnm_pages_in_every_depth() -> None:
    grey16 = np.array([[0, 65535], [32768, 1000]], ">u2")
    page = read_pnm(b"P5\n# comment\n2 2\n65535\n" + grey16.tobytes())
    assert page.shape == (2, 2, 3) and page[0, 1, 0] == 255 and page[1, 0, 0] == 128
    bits = read_pnm(b"P4\n10 1\n" + bytes([0b10000000, 0b01000000]))
    assert list(bits[0, :, 0]) == [0, 255, 255, 255, 255, 255, 255, 255, 255, 0]
    rgb = np.arange(24, dtype=np.uint8).reshape(2, 4, 3)
    assert np.array_equal(read_pnm(b"P6\n4 2\n255\n" + rgb.tobytes()), rgb)
    with pytest.raises(ScannerError):
        read_pnm(b"P3\n1 1\n255\n0 0 0")
