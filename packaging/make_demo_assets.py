"""Build the bundled demo model and sample notes in ``assets/``.

    .venv/bin/python packaging/make_demo_assets.py [--work DIR] [--difficulty normal] [--epochs N]

Runs the full demo pipeline (:func:`banknote_guard.workflows.demo.run_demo`: synthetic notes, training,
enrollment of denominations the network never saw, evaluation), then copies

* the model to ``assets/demo_model.bgm``,
* a handful of test-split images the model never trained on to ``assets/sample_notes/``: genuine
  notes of trained and of enrolled denominations, one counterfeit of each method, and a photo with no
  note in it, with ``assets/sample_notes/samples.csv`` saying what each one really is,
* the evaluation summary to ``assets/demo_model.txt``.

Deterministic for a given version of the code (fixed seeds).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _pick_samples(test_view: Path, enrolled: list[str]) -> list[tuple[Path, dict[str, str]]]:
    with open(test_view / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows.sort(key=lambda r: r["path"])
    picked: list[dict[str, str]] = []
    seen_methods: set[str] = set()
    seen_genuine: set[tuple[str, str]] = set()
    for r in rows:
        denom = f"{r['currency']}/{r['denomination']}"
        if r["label"] == "genuine":
            key = (denom, r["side"])
            if key in seen_genuine or len(seen_genuine) >= 8:
                continue
            # one front of every enrolled denomination, plus fronts/backs of trained ones
            if denom in enrolled and r["side"] != "front":
                continue
            seen_genuine.add(key)
            picked.append(r)
        elif r["method"] not in seen_methods:
            seen_methods.add(r["method"])
            picked.append(r)
    return [(test_view / r["path"], r) for r in picked]


def _not_a_note(path: Path, seed: int = 11) -> None:
    """A photo of a desk with papers and no banknote on it."""
    import cv2

    from banknote_guard.data.imageio import save_image

    rng = np.random.default_rng(seed)
    h, w = 720, 960
    img = np.empty((h, w, 3), np.float32)
    img[:] = (118, 92, 70)
    grain = cv2.GaussianBlur(rng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), sigmaX=14, sigmaY=1.5)
    img += grain[..., None]
    for _ in range(3):
        x, y = int(rng.integers(40, w - 340)), int(rng.integers(40, h - 300))
        pts = np.array([[x, y], [x + 250, y + 12], [x + 238, y + 290], [x - 10, y + 278]], np.int32)
        cv2.fillConvexPoly(img, pts, (236, 234, 228))
        for k in range(10):
            yy = y + 30 + k * 24
            cv2.line(img, (x + 20, yy), (x + 200, yy + 8), (90, 90, 100), 2)
    cv2.circle(img, (780, 520), 90, (200, 30, 30), -1)
    cv2.circle(img, (780, 520), 60, (118, 92, 70), -1)
    save_image(path, np.clip(img, 0, 255).astype(np.uint8), quality=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/banknote_guard_demo_assets"))
    # The bundled model shows the workflow on counterfeits of the generator's middle setting; see
    # benchmarks/ for the hard one.
    parser.add_argument("--difficulty", default="normal", help="generator difficulty (default: normal)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default: the engine's default)")
    parser.add_argument("--assets", type=Path, default=ROOT / "assets")
    args = parser.parse_args(argv)

    from banknote_guard.model.config import TrainConfig
    from banknote_guard.progress import TerminalProgress
    from banknote_guard.synth.generator import SynthOptions
    from banknote_guard.workflows.demo import DemoPlan, run_demo

    # Larger notes than `banknote-guard demo`, with the product's default network and training schedule.
    plan = DemoPlan(
        synth=SynthOptions(
            currencies=2,
            denominations_per_currency=4,
            genuine_per_denomination=44,
            counterfeit_per_denomination=28,
            difficulty=args.difficulty,
            seed=21,
            note_width=640,
            contact_sheet=False,
        ),
        train=TrainConfig(epochs=args.epochs or TrainConfig().epochs, seed=0),
        held_out_per_currency=1,
        test_fraction=0.3,
    )
    summary = run_demo(args.work, plan=plan, progress=TerminalProgress())
    print(summary.format_text())

    assets: Path = args.assets
    assets.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(summary.model_path, assets / "demo_model.bgm")
    (assets / "demo_model.txt").write_text(summary.format_text() + "\n", encoding="utf-8")

    samples_dir = assets / "sample_notes"
    if samples_dir.exists():
        shutil.rmtree(samples_dir)
    samples_dir.mkdir()
    rows = []
    for src, r in _pick_samples(Path(args.work) / "views" / "test", summary.enrolled_denominations):
        denom = f"{r['currency']}/{r['denomination']}"
        kind = r["label"] if r["label"] == "genuine" else f"counterfeit-{r['method']}"
        name = f"{r['currency']}_{r['denomination']}_{r['side']}_{kind}{src.suffix}"
        shutil.copyfile(src, samples_dir / name)
        rows.append({
            "file": name,
            "denomination": denom,
            "side": r["side"],
            "truth": r["label"],
            "method": r["method"],
            "enrolled_from_5_images": "yes" if denom in summary.enrolled_denominations else "no",
        })
    _not_a_note(samples_dir / "desk_without_note.jpg")
    rows.append({"file": "desk_without_note.jpg", "denomination": "", "side": "", "truth": "not a note",
                 "method": "", "enrolled_from_5_images": ""})
    with open(samples_dir / "samples.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {assets / 'demo_model.bgm'} and {len(rows)} sample notes to {samples_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
