"""Accuracy and speed of note detection/rectification on generated captures with known corners.

Run:  .venv/bin/python benchmarks/rectify_accuracy.py [--photos 200] [--scans 100] [--synth-photos 100]
      [--synth-scans 100] [--threads 1] [--verbose]

"photo"/"scan" are banknote-like cards on cluttered tables / flatbed lids
(banknote_guard/data/_testimages.py); "synth-photo"/"synth-scan" are rendered notes of the synthetic
currencies captured by banknote_guard.synth.capture.

Prints, per kind of capture: success rate (largest corner error < 2% of the note diagonal; and < 3%), mean /
median / p95 of the largest corner error in pixels (found notes only), found rate, and milliseconds per
image, both wall-clock and CPU time of the calling thread (the CPU time is the fairer figure on a busy
machine).
"""

from __future__ import annotations

import argparse
import importlib
import time
from typing import Callable, Iterable

import cv2
import numpy as np

from banknote_guard.data._testimages import corner_error, make_note_photo
from banknote_guard.data.rectify import rectify_note


def _evaluate(name: str, cases: Iterable[tuple[np.ndarray, np.ndarray]], verbose: bool) -> None:
    errs, rel, times, cpu, found = [], [], [], [], 0
    n = 0
    for i, (rgb, corners) in enumerate(cases):
        n += 1
        t0, c0 = time.perf_counter(), time.thread_time()
        res = rectify_note(rgb)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        diag = float(np.linalg.norm(corners[2] - corners[0]))
        if res.found and res.corners is not None:
            found += 1
            e = corner_error(res.corners, corners)
        else:
            e = float("inf")
        errs.append(e)
        rel.append(e / diag)
        if verbose and e / diag >= 0.02:
            print(f"  {name} #{i}: error {e:.1f} px ({100 * e / diag:.1f}% of diagonal) found={res.found}")
    if n == 0:
        return
    errs_a = np.array(errs)
    ok = np.array(rel) < 0.02
    finite = errs_a[np.isfinite(errs_a)]
    t = np.array(times)
    c = np.array(cpu)
    ok3 = np.array(rel) < 0.03
    print(
        f"{name:>12}: n={n}  success={100 * ok.mean():.1f}% (within 3%: {100 * ok3.mean():.1f}%)  "
        f"found={100 * found / n:.1f}%  "
        f"corner error px (found only): mean={finite.mean() if finite.size else float('nan'):.2f} "
        f"median={np.median(finite) if finite.size else float('nan'):.2f} "
        f"p95={np.percentile(finite, 95) if finite.size else float('nan'):.2f}  "
        f"wall ms: median={np.median(t):.2f} p95={np.percentile(t, 95):.2f}  "
        f"cpu ms: median={np.median(c):.2f} p95={np.percentile(c, 95):.2f}"
    )


def _synth_cases(n: int, kind: str) -> Iterable[tuple[np.ndarray, np.ndarray]] | None:
    """Captures of rendered notes from :mod:`banknote_guard.synth` (which returns the true corners)."""
    try:
        synth = importlib.import_module("banknote_guard.synth")
        render: Callable[..., np.ndarray] = synth.render_note
        capture: Callable[..., tuple[np.ndarray, np.ndarray]] = synth.capture
        currencies = [c.code for c in synth.CURRENCIES]
        denominations = list(synth.DENOMINATIONS)
    except (ImportError, AttributeError):
        return None

    def gen() -> Iterable[tuple[np.ndarray, np.ndarray]]:
        for seed in range(n):
            rng = np.random.default_rng(9000 + seed)
            note = render(
                currencies[seed % len(currencies)],
                denominations[(seed // len(currencies)) % len(denominations)],
                ("front", "back")[seed % 2],
                serial=f"AB{seed:07d}",
                width=640,
                rng=rng,
            )
            rgb, corners = capture(note, rng, kind=kind, difficulty="normal")
            yield np.asarray(rgb), np.asarray(corners, np.float32)

    return gen()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--scans", type=int, default=100)
    parser.add_argument("--synth-photos", type=int, default=100, help="photos of rendered synthetic notes")
    parser.add_argument("--synth-scans", type=int, default=100, help="scans of rendered synthetic notes")
    parser.add_argument("--threads", type=int, default=1, help="OpenCV threads (1 = one core)")
    parser.add_argument("--verbose", action="store_true", help="list the failures")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    print(f"OpenCV {cv2.__version__}, {args.threads} thread(s); generated captures are 1280x960")
    _evaluate("photo", (make_note_photo(1000 + s, kind="photo") for s in range(args.photos)), args.verbose)
    _evaluate("scan", (make_note_photo(5000 + s, kind="scan") for s in range(args.scans)), args.verbose)
    for kind, n in (("photo", args.synth_photos), ("scan", args.synth_scans)):
        cases = _synth_cases(n, kind)
        if cases is None:
            print("  synth: skipped (banknote_guard.synth offers no capture with known corners)")
            break
        if n:
            _evaluate(f"synth-{kind}", cases, args.verbose)


if __name__ == "__main__":
    main()
