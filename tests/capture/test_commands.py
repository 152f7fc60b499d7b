"""The ``capture``, ``scan`` and ``watch`` commands: verdicts printed and written, faults as one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from banknote_guard.cli import main
from banknote_guard.data.imageio import load_image
from banknote_guard.resources import demo_model_path, sample_notes_dir

MODEL = str(demo_model_path())


def test_capture_from_a_video_prints_and_writes_each_verdict(notes_video, tmp_path: Path, capsys) -> None:
    path, visits, _ = notes_video
    out = tmp_path / "captures.json"
    code = main(["capture", MODEL, "--video", str(path), "--json", str(out), "--no-history"])
    printed = capsys.readouterr()
    assert code == 1  # a note needs a look: the blurred one is "retake"
    doc = json.loads(out.read_text())
    assert doc["summary"]["total"] == 4 and doc["summary"]["retake"] == 1 and doc["summary"]["genuine"] == 3
    retake = [r for r in doc["results"] if r["verdict"] == "retake"]
    assert retake[0]["path"] == "notes.avi #3" and retake[0]["reasons"][0].startswith("blurred: ")
    assert "notes.avi #3: RETAKE  (blurred: " in printed.out
    assert "4 note(s): 3 genuine, 1 retake" in printed.out
    assert "Hold the note still." in printed.err


def test_captures_are_recorded_in_the_history(notes_video, tmp_path: Path, capsys) -> None:
    from banknote_guard.api import open_history

    path, _, _ = notes_video
    history = tmp_path / "history.sqlite"
    assert main(["capture", MODEL, "--video", str(path), "--history", str(history), "--operator", "ana", "-q"]) == 1
    with open_history(history) as h:
        records = h.query()
    assert len(records) == 4
    assert {r.source for r in records} == {"camera"} and {r.operator for r in records} == {"ana"}
    assert sorted(r.verdict for r in records) == ["genuine", "genuine", "genuine", "retake"]


def test_capture_faults_are_one_line_and_keep_what_was_taken(notes_video, tmp_path: Path, capsys) -> None:
    assert main(["capture", MODEL, "--camera", "97", "--no-history"]) == 2
    err = capsys.readouterr().err
    assert "error: Could not open camera 97: no camera with that number is connected" in err
    assert "Traceback" not in err
    path, _, _ = notes_video
    broken = tmp_path / "broken.avi"
    broken.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    out = tmp_path / "partial.json"
    assert main(["capture", MODEL, "--video", str(broken), "--json", str(out), "--no-history", "-q"]) == 2
    assert "ended after" in capsys.readouterr().err
    assert [r["verdict"] for r in json.loads(out.read_text())["results"]] == ["genuine", "genuine"]
    assert main(["capture", MODEL, "--realtime", "--no-history"]) == 2
    assert main(["capture", MODEL, "--video", str(path), "--json", MODEL, "--no-history"]) == 2


def test_scan_verifies_the_notes_on_the_glass(sane_config, tmp_path: Path, capsys) -> None:
    from banknote_guard.capture.scanner import write_pnm

    glass = write_pnm(tmp_path / "glass.ppm", load_image(sample_notes_dir() / "KRT_10_front_genuine.jpg"))
    out = tmp_path / "scan.json"
    pages = tmp_path / "pages"
    code = main(["scan", MODEL, "--device", "pnm:0", "--option", f"filename={glass}", "--resolution", "300",
                 "--json", str(out), "--save-pages", str(pages), "--no-history"])
    assert code == 0
    (result,) = json.loads(out.read_text())["results"]
    assert result["verdict"] == "genuine" and result["path"] == "scanner pnm:0 page 1"
    assert (pages / "page001.png").is_file()
    assert main(["scan", "--list"]) == 0
    assert "pnm:0" in capsys.readouterr().out


def test_scan_faults_are_one_line(sane_config, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["scan", MODEL, "--device", "nosuch:0", "--no-history"]) == 2
    assert "No scanner named 'nosuch:0' is connected" in capsys.readouterr().err
    assert main(["scan", MODEL, "--device", "test:0", "--option", "read-return-value=SANE_STATUS_DEVICE_BUSY",
                 "--no-history"]) == 2
    assert "is busy" in capsys.readouterr().err
    assert main(["scan", "--no-history"]) == 2
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["scan", MODEL, "--no-history"]) == 2
    assert "sane-utils" in capsys.readouterr().err


def _start_watch(folder: Path, out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "banknote_guard", "watch", MODEL, str(folder), "--json", str(out), "--no-history",
         "--poll", "0.1", "--settle", "0.3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _wait_for_results(out: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if out.is_file():
            results = json.loads(out.read_text())["results"]
            if len(results) >= n:
                return results
        time.sleep(0.2)
    raise AssertionError(f"the watch did not write {n} result(s) in time")


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Ctrl+C is sent as SIGINT")
def test_watch_stops_cleanly_on_ctrl_c_and_resumes_without_repeats(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    notes = sample_notes_dir()
    for name in ("KRT_10_front_genuine.jpg", "KRT_20_front_genuine.jpg"):
        (folder / name).write_bytes((notes / name).read_bytes())
    out = tmp_path / "watch.json"
    proc = _start_watch(folder, out)
    try:
        assert [r["verdict"] for r in _wait_for_results(out, 2, proc)] == ["genuine", "genuine"]
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "2 note(s): 2 genuine" in stdout and "Traceback" not in stderr
    # Started again: the two are not repeated; a picture that arrived meanwhile is verified.
    (folder / "late.jpg").write_bytes((notes / "KRT_10_back_counterfeit-high_quality.jpg").read_bytes())
    out2 = tmp_path / "watch2.json"
    proc = _start_watch(folder, out2)
    try:
        results = _wait_for_results(out2, 1, proc)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    results = json.loads(out2.read_text())["results"]
    assert [Path(r["path"]).name for r in results] == ["late.jpg"] and results[0]["verdict"] == "suspect"
    assert proc.returncode == 1


def test_watch_faults_are_one_line(tmp_path: Path, capsys) -> None:
    assert main(["watch", MODEL, str(tmp_path / "missing"), "--no-history"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["watch", MODEL, str(tmp_path), "--settle", "0", "--no-history"]) == 2
