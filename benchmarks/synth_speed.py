"""Speed of the synthetic generator: images per second for ~200 images at the default size.

    .venv/bin/python benchmarks/synth_speed.py [--jobs 2] [--images 200] [--width 640]

Prints images/second for the whole run (worker start-up, design drawing, capture, JPEG writing) and
the per-image cost of each stage measured in this process.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from banknote_guard.synth.capture import capture
from banknote_guard.synth.counterfeit import METHODS, counterfeit
from banknote_guard.synth.design import note_design, render_note
from banknote_guard.synth.generator import SynthOptions, generate_dataset


def _stage_costs(width: int, n: int = 20) -> dict[str, float]:
    note_design("KRT", "20", "front", width)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    notes = [render_note("KRT", "20", "front", serial="KAB0000000", width=width, rng=rng) for _ in range(n)]
    costs = {"render_note": (time.perf_counter() - t0) / n}
    for kind in ("scan", "photo"):
        t0 = time.perf_counter()
        for note in notes:
            capture(note, rng, kind=kind, difficulty="normal")
        costs[f"capture[{kind}]"] = (time.perf_counter() - t0) / n
    for m in METHODS:
        t0 = time.perf_counter()
        for note in notes[:5]:
            counterfeit(note, m, rng, difficulty="normal", currency="KRT", denomination="20", side="front")
        costs[f"counterfeit[{m}]"] = (time.perf_counter() - t0) / 5
    return costs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--width", type=int, default=640)
    args = ap.parse_args()
    per_den = max(1, args.images // 8)
    opts = SynthOptions(currencies=2, denominations_per_currency=4, genuine_per_denomination=per_den * 2 // 3,
                        counterfeit_per_denomination=per_den - per_den * 2 // 3, note_width=args.width,
                        jobs=args.jobs, contact_sheet=False)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        s = generate_dataset(tmp + "/ds", opts)
        wall = time.perf_counter() - t0
    print(f"synth: {s.images} images, width {args.width}, jobs {args.jobs}: {wall:.1f} s, "
          f"{s.images / wall:.1f} images/s (failed {s.failed})")
    for k, v in _stage_costs(args.width).items():
        print(f"  {k:32s} {v * 1000:7.1f} ms/image")


if __name__ == "__main__":
    main()
