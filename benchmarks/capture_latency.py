"""Capture: auto-capture hits and misses, capture-to-verdict latency, the live view's cost per frame,
and how often the capture-quality checks send a picture back ("retake").

Run:  .venv/bin/python benchmarks/capture_latency.py [--quick] [--model MODEL.bgm] [--workdir DIR]
                                                      [--no-realtime] [--no-retake] [--no-videos]

Videos (generated with :mod:`banknote_guard.capture.demo_video`, 640 x 480 MJPG at 10 frames/s: notes
slide into a webcam's view, rest, and leave; the generator knows every note's frames):

* ``counter``: notes of every denomination and side resting 1.6 s, turned by -6..6 degrees;
* ``hurried``: notes resting only 0.8 s;
* ``passing``: notes resting 1.6 s between notes slid straight through without stopping (those must
  not be captured);
* ``blurred``: notes the camera never gets sharp (Gaussian sigma 3.5 px), resting 2.4 s: each must be
  captured once and come back "retake: blurred".

Each video is played through a :class:`~banknote_guard.capture.session.CaptureSession` twice: every
frame (as ``capture --video`` does; deterministic) and in real time (as the Capture page does with a
video: paced at 10 frames/s, frames dropped when looking at one takes longer than a frame). A
resting note captured exactly once is a **hit**, one never captured a **miss**; a second capture of
one note, or a capture of a note passing through, is **extra**.

Latency: from the moment a picture is taken to its verdict (``Capture.latency_s``: the verifier's
queue wait, finding and straightening the note, the quality checks, the network, the score), p50 and
p95 over every capture after the first (the first includes the network's warm-up and is given alone).
The live view's cost is the time to look at one frame (note finder + sharpness), p50/p95.

Retake rates (``--no-retake`` skips them): the verifier on generated captures -- ``synth --currencies 1
--genuine 20 --counterfeit 5 --difficulty normal`` (100 images, as the project's acceptance check)
and, without ``--quick``, ``--currencies 2 --genuine 15 --counterfeit 5 --difficulty hard`` (160) --
and on the bundled sample notes; then how many of the genuine captures come back "retake" once
blurred (Gaussian 3 px), motion-blurred (17 px), darkened to a quarter, or cut off by a fifth.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchutil import machine_header, percentile_ms  # noqa: E402

DENOMINATIONS = [("5", "front"), ("10", "back"), ("20", "front"), ("50", "back"), ("10", "front"), ("20", "back"),
                 ("5", "back"), ("50", "front")]


def videos(n: int) -> dict[str, list]:
    """The four test videos' visits (n notes each)."""
    from banknote_guard.capture.demo_video import Visit, flat_note

    def note(k: int) -> np.ndarray:
        d, side = DENOMINATIONS[k % len(DENOMINATIONS)]
        return flat_note(d, side, seed=100 + k)

    angles = np.linspace(-6, 6, n)
    return {
        "counter": [Visit(note(k), settle_s=1.6, angle=float(angles[k])) for k in range(n)],
        "hurried": [Visit(note(k + 1), settle_s=0.8, angle=float(angles[-1 - k])) for k in range(n)],
        "passing": [Visit(note(k + 2), settle_s=0.0 if k % 2 else 1.6, angle=3.0) for k in range(n)],
        "blurred": [Visit(note(k + 3), settle_s=2.4, blur=3.5) for k in range(max(2, n // 2))],
    }


def play(verifier, path: Path, realtime: bool):  # noqa: ANN001, ANN201
    from banknote_guard.capture.camera import CameraSource
    from banknote_guard.capture.session import CaptureSession

    session = CaptureSession(verifier, CameraSource(path, realtime=realtime))
    start = time.monotonic()
    session.run()
    return session, time.monotonic() - start


def score_captures(session, timeline) -> dict[str, int]:  # noqa: ANN001
    """Hits, misses and extra captures against the video's timeline."""
    per_visit = collections.Counter()
    extra = 0
    for c in session.captures:
        owner = next((k for k, (a, b) in enumerate(timeline.spans) if a <= c.frame.index <= b), None)
        if owner is None or timeline.rests[owner] is None:
            extra += 1
        else:
            per_visit[owner] += 1
    resting = [k for k, r in enumerate(timeline.rests) if r is not None]
    hits = sum(1 for k in resting if per_visit[k] >= 1)
    extra += sum(max(0, per_visit[k] - 1) for k in resting)
    return {"notes": len(resting), "hits": hits, "misses": len(resting) - hits, "extra": extra}


def auto_capture(model, workdir: Path, n: int, realtime: bool) -> None:  # noqa: ANN001
    from banknote_guard.capture.demo_video import write_demo_video
    from banknote_guard.verify.quality import reason_key
    from banknote_guard.verify.verifier import Verifier

    verifier = Verifier(model)
    latencies: list[float] = []
    first: float | None = None
    analysis: list[float] = []
    totals = collections.Counter()
    print("\nAuto-capture (hits / misses / extra of the notes that rested; verdicts of the captures):")
    print(f"  {'video':<9} {'mode':<10} {'frames':>6} {'looked at':>9} {'notes':>5} {'hits':>4} {'miss':>4} "
          f"{'extra':>5}  verdicts")
    for name, visits in videos(n).items():
        path = workdir / f"{name}.avi"
        timeline = write_demo_video(path, visits)
        for mode in (["every frame", "real time"] if realtime else ["every frame"]):
            session, seconds = play(verifier, path, mode == "real time")
            s = score_captures(session, timeline)
            totals.update({f"{mode}:{k}": v for k, v in s.items()})
            verdicts = collections.Counter(
                r.verdict + (f" ({reason_key(r.reasons[0])})" if r.verdict == "retake" and r.reasons else "")
                for r in session.results if r.ok)
            print(f"  {name:<9} {mode:<10} {timeline.frames:>6} {session.stats.analysed:>9} {s['notes']:>5} "
                  f"{s['hits']:>4} {s['misses']:>4} {s['extra']:>5}  "
                  + ", ".join(f"{v} {k}" for k, v in sorted(verdicts.items())) + f"   ({seconds:.1f} s)")
            for c in session.captures:
                if c.latency_s is None:
                    continue
                if first is None:
                    first = c.latency_s
                else:
                    latencies.append(c.latency_s)
            analysis += session.stats.analysis_s
    for mode in (["every frame", "real time"] if realtime else ["every frame"]):
        print(f"  all videos, {mode}: {totals[mode + ':hits']} hits, {totals[mode + ':misses']} misses, "
              f"{totals[mode + ':extra']} extra of {totals[mode + ':notes']} resting notes")
    print("\nCapture-to-verdict latency (picture taken -> verdict ready):")
    print(f"  first capture (network warm-up included): {first * 1000:.0f} ms" if first is not None else "  none")
    print(f"  the other {len(latencies)} captures: p50 {percentile_ms(latencies, 50):.0f} ms, "
          f"p95 {percentile_ms(latencies, 95):.0f} ms, max {max(latencies) * 1000:.0f} ms")
    print(f"Live view, looking at one frame (note finder + sharpness), {len(analysis)} frames: "
          f"p50 {percentile_ms(analysis, 50):.0f} ms, p95 {percentile_ms(analysis, 95):.0f} ms")


def retake_rates(model, workdir: Path, quick: bool) -> None:  # noqa: ANN001
    import cv2

    from banknote_guard.data.imageio import load_image
    from banknote_guard.resources import sample_notes_dir
    from banknote_guard.synth.generator import SynthOptions, generate_dataset
    from banknote_guard.verify.quality import reason_key
    from banknote_guard.verify.verifier import Verifier

    verifier = Verifier(model)
    sets = {"normal (synth --currencies 1 --genuine 20 --counterfeit 5)":
            SynthOptions(currencies=1, genuine_per_denomination=20, counterfeit_per_denomination=5,
                         difficulty="normal", contact_sheet=False)}
    if not quick:
        sets["hard (synth --currencies 2 --genuine 15 --counterfeit 5)"] = SynthOptions(
            currencies=2, genuine_per_denomination=15, counterfeit_per_denomination=5, difficulty="hard",
            contact_sheet=False)
    print("\nRetake rates of the capture-quality checks (verdict 'retake'; no picture here is unfit):")
    genuine_files: list[Path] = []
    for label, options in sets.items():
        out = workdir / label.split()[0]
        if not out.is_dir():
            generate_dataset(out, options)
        files = sorted(p for p in out.rglob("*.jpg"))
        genuine_files += [p for p in files if "/genuine/" in p.as_posix()]
        _rate(verifier, files, f"synthetic captures, {label}")
    samples = sorted(sample_notes_dir().glob("KRT_*.jpg")) + sorted(sample_notes_dir().glob("VLM_*.jpg"))
    _rate(verifier, samples, "bundled sample notes (scans and photos)")
    if quick:
        return
    kernel = np.zeros((17, 17), np.float32)
    cv2.line(kernel, (0, 4), (16, 12), 1.0, 1)
    spoilers = {
        "blurred (Gaussian sigma 3 px)": lambda im: cv2.GaussianBlur(im, (0, 0), 3.0),
        "motion-blurred (17 px)": lambda im: cv2.filter2D(im, -1, kernel / kernel.sum()),
        "dark (a quarter of the light)": lambda im: (im * 0.25).astype(np.uint8),
        "cut off by a fifth (photo cropped)": lambda im: np.ascontiguousarray(im[:, int(im.shape[1] * 0.3):]),
    }
    print(f"Genuine captures spoilt on purpose ({len(genuine_files)} of them): share sent back")
    for label, spoil in spoilers.items():
        keys = collections.Counter()
        sent_back = 0
        for p in genuine_files:
            r = verifier.verify_image(spoil(load_image(p)), p.name)
            if r.verdict == "retake":
                sent_back += 1
                keys[reason_key(r.reasons[0])] += 1
        print(f"  {label:<36} {sent_back}/{len(genuine_files)} = {100 * sent_back / len(genuine_files):.0f} %  "
              + ", ".join(f"{k}: {v}" for k, v in keys.most_common()))


def _rate(verifier, files: list[Path], label: str) -> None:  # noqa: ANN001
    from banknote_guard.verify.quality import reason_key

    results = verifier.verify_paths(files)
    retake = [r for r in results if r.ok and r.verdict == "retake"]
    keys = collections.Counter(reason_key(r.reasons[0]) for r in retake)
    print(f"  {label}: {len(retake)}/{len(results)} retake = {100 * len(retake) / max(1, len(results)):.1f} %"
          + (f"  ({', '.join(f'{k}: {v}' for k, v in keys.items())}: "
             + ", ".join(Path(r.path).name for r in retake) + ")" if retake else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 notes per video, every frame only, one synthetic set, no spoilt pictures")
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the bundled demo model)")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the videos and captures here")
    parser.add_argument("--notes", type=int, default=8, help="notes per video (default 8)")
    parser.add_argument("--no-realtime", action="store_true", help="only the every-frame runs")
    parser.add_argument("--no-retake", action="store_true", help="skip the retake rates")
    parser.add_argument("--no-videos", action="store_true", help="skip the videos (only the retake rates)")
    args = parser.parse_args()

    from banknote_guard.capture.camera import quiet_video_logs
    from banknote_guard.resources import demo_model_path
    from banknote_guard.verify.bundle import ModelBundle

    quiet_video_logs()
    print(machine_header("Capture: auto-capture, latency, retake rates"))
    model = ModelBundle.load(args.model or demo_model_path())
    print(f"model:   {args.model or demo_model_path()} ({model.config.backbone}, input "
          f"{model.config.image_height} x {model.config.image_width})")
    with tempfile.TemporaryDirectory(prefix="capture_bench_") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if not args.no_videos:
            auto_capture(model, workdir, 3 if args.quick else args.notes,
                         realtime=not (args.no_realtime or args.quick))
        if not args.no_retake:
            retake_rates(model, workdir, args.quick)


if __name__ == "__main__":
    main()
