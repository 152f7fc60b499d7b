"""Over a thousand hostile files through ``banknote-guard verify`` in one batch, as an operator would run it.

Every file gets a result or an error in ``--json``, nothing prints a traceback, the command ends with
a documented exit code, and memory stays bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from banknote_guard.resources import demo_model_path

pytestmark = pytest.mark.slow


@pytest.mark.timeout(600)
def test_a_thousand_hostile_files_in_one_verify_batch(fuzz_corpus, tmp_path: Path) -> None:
    folder, cases = fuzz_corpus
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    assert len(files) >= 1000
    out = tmp_path / "results.json"
    env = dict(os.environ, OMP_NUM_THREADS="2")
    # Run the command in a child that reports its own peak memory (VmHWM) when it ends.
    runner = (
        "import sys, atexit\n"
        "def peak():\n"
        "    with open('/proc/self/status') as fh:\n"
        "        sys.stderr.write('PEAK_KB ' + next(l.split()[1] for l in fh if l.startswith('VmHWM:')) + '\\n')\n"
        "atexit.register(peak)\n"
        "from banknote_guard.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", runner, "verify", str(demo_model_path()), str(folder), "--json", str(out), "-q",
         "--no-history"],
        capture_output=True, text=True, timeout=580, env=env,
    )
    peak_lines = [line for line in proc.stderr.splitlines() if line.startswith("PEAK_KB ")]
    peak_gb = int(peak_lines[-1].split()[1]) / 1024**2 if peak_lines else 0.0
    proc.stderr = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("PEAK_KB "))
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode in (1, 3), (proc.returncode, proc.stderr[-2000:])
    doc = json.loads(out.read_text(encoding="utf-8"))
    results = doc["results"]
    named = {Path(r["path"]).name for r in results}
    image_like = [p for p in files if p.suffix.lower() in {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp"}]
    missing = [p.name for p in image_like if p.name not in named]
    assert missing == [], missing[:10]
    for r in results:
        assert r["status"] in ("ok", "error")
        if r["status"] == "error":
            assert r["error"] and "Traceback" not in r["error"]
        else:
            assert r["verdict"] in ("genuine", "suspect", "unknown", "uncertain", "retake")
    assert peak_lines, "the child did not report its peak memory"
    assert peak_gb < 3.0, f"peak memory {peak_gb:.2f} GB"
