"""What local evidence costs per note: the cell features and the memory comparison, and whole verification.

Run:  .venv/bin/python benchmarks/local_evidence_speed.py [--model assets/demo_model.bgm] [--repeat 8]
      [--threads 2]

Prints (1) the milliseconds per note of the local evidence alone (features of the straightened note
and its comparison with the denomination's memory, both orientations and every mode), measured on the
sample notes' straightened images, and (2) verification throughput of the sample notes (copied
``--repeat`` times) with and without the model's local memory, same model otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=ROOT / "assets" / "demo_model.bgm")
    ap.add_argument("--samples", type=Path, default=ROOT / "assets" / "sample_notes")
    ap.add_argument("--repeat", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import cv2

    cv2.setNumThreads(args.threads)
    from banknote_guard import api
    from banknote_guard.model.preprocess import load_and_prepare_note
    from banknote_guard.verify.local_evidence import note_evidence
    from banknote_guard.verify.verifier import Verifier

    model = api.load_model(args.model)
    if model.local_memory is None:
        print(f"{args.model} has no local evidence (rebuild it with packaging/add_local_evidence.py).")
        return 2
    files = sorted(p for p in args.samples.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    notes = [load_and_prepare_note(p, model.config).image for p in files]
    denom = model.denominations[0]
    for im in notes:  # warm up
        note_evidence(model, im, denom, 1.0)
    times = []
    for _ in range(20):
        for im in notes:
            t = time.perf_counter()
            note_evidence(model, im, denom, 1.0)
            times.append(time.perf_counter() - t)
    ms = [1000 * t for t in times]
    print(f"local evidence per note: median {statistics.median(ms):.2f} ms, p90 "
          f"{sorted(ms)[int(0.9 * len(ms))]:.2f} ms ({len(ms)} notes, {args.threads} OpenCV thread(s))")
    work = Path(tempfile.mkdtemp(prefix="le_speed_"))
    try:
        for r in range(args.repeat):
            for p in files:
                shutil.copy(p, work / f"{r}_{p.name}")
        n = len(files) * args.repeat
        memory = model.local_memory
        rates = {}
        for label, mem in (("without local evidence", None), ("with local evidence", memory)):
            model.local_memory = mem
            verifier = Verifier(model, workers=args.threads)
            verifier.verify_paths([work])  # warm up (ONNX session, caches)
            t = time.perf_counter()
            results = verifier.verify_paths([work])
            dt = time.perf_counter() - t
            per = sorted(1000 * (r.seconds or 0) for r in results)
            rates[label] = n / dt
            print(f"verify {n} notes {label}: {n / dt:.1f} notes/s, p50 {per[len(per) // 2]:.1f} ms per note")
        model.local_memory = memory
        added = 1000 / rates["with local evidence"] - 1000 / rates["without local evidence"]
        print(f"added by local evidence: {added:.2f} ms per note of wall time")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
