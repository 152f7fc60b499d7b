"""A program killed with SIGKILL mid-batch loses at most the note it was writing; the file stays sound."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from banknote_guard.history.store import open_history

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL exists on POSIX systems only")

WRITER = r"""
import os, sys
from banknote_guard.history.records import NoteRecord
from banknote_guard.history.store import open_history

h = open_history(sys.argv[1])
i = 0
while True:
    rec = NoteRecord(batch="night-shift", station="desk-9", operator="Eve", source="scanner", path=f"scan{i}.png",
                     verdict="genuine", denomination="EUR/20", counterfeit_score=1.0, threshold=2.0,
                     distances={"EUR/20": 0.5}, image=os.urandom(40000), note_image=os.urandom(8000))
    h.add(rec)
    print(rec.id, flush=True)  # acknowledged: the note is committed
    i += 1
"""


@pytest.mark.parametrize("kill_after", [5, 23, 41])
def test_sigkill_mid_batch_loses_at_most_the_note_in_flight(kill_after: int, tmp_path: Path,
                                                            child_env: dict[str, str]) -> None:
    db = tmp_path / "h.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, env=child_env)
    acknowledged = []
    assert proc.stdout is not None
    try:
        while len(acknowledged) < kill_after:
            line = proc.stdout.readline()
            assert line, f"the writer ended early (exit code {proc.poll()})"
            acknowledged.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    stored = [r[0] for r in raw.execute("SELECT id FROM records ORDER BY created")]
    raw.close()
    assert stored[: len(acknowledged)] == acknowledged  # nothing acknowledged was lost
    assert len(stored) - len(acknowledged) <= 1  # at most the note being written when the kill came
    with open_history(db) as h:
        report = h.verify_chain()
        assert report.ok and report.checked == len(stored)
        h.add_many([])  # the file takes new notes after the crash


@pytest.mark.slow
def test_sigkill_during_verify_command_keeps_a_sound_history(tmp_path: Path, tiny_bundle: Any,
                                                             child_env: dict[str, str]) -> None:
    """The real command line: ``verify --history`` killed while it records a batch of 200 notes."""
    model = tmp_path / "tiny.bgm"
    tiny_bundle.save(model)
    notes = _notes(tmp_path / "notes", 200)
    db = tmp_path / "h.sqlite"
    cmd = [sys.executable, "-m", "banknote_guard", "verify", str(model), str(notes), "--history", str(db),
           "--quiet", "--batch-size", "8"]
    proc = subprocess.Popen(cmd, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    try:
        while _count(db) < 20:
            if proc.poll() is not None:
                pytest.fail(f"verify ended before it was killed (exit {proc.returncode}): {proc.stderr.read()}")
            assert time.monotonic() < deadline, "verify recorded nothing for three minutes"
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        assert proc.stderr is not None
        proc.stderr.close()
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    raw.close()
    with open_history(db) as h:
        records = h.query()
        assert h.verify_chain().ok
    files = sorted(notes.iterdir())
    assert 20 <= len(records) < len(files)
    # the notes were recorded in the order they were verified, with no gap
    assert sorted(Path(r.path).name for r in records) == [f.name for f in files[: len(records)]]
    for r in records:
        assert r.batch and r.model_id == tiny_bundle.identity and r.image and r.note_image
        assert r.image_sha256 == hashlib.sha256(Path(r.path).read_bytes()).hexdigest()


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        raw = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(raw.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        finally:
            raw.close()
    except sqlite3.Error:  # not created yet
        return 0


def _notes(folder: Path, n: int) -> Path:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        img = np.full((60, 120, 3), (60 + 40 * (i % 3), 120, 200 - 30 * (i % 3)), np.uint8)
        img = np.clip(img.astype(int) + rng.integers(-25, 25, img.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(folder / f"note{i:03d}.png")
    return folder
