"""How well the model tells pictures without a note from notes (the not-a-note gate, issue 12).

Pictures without a note come from scikit-image's sample images (a source the gate never saw: its
references are drawn by banknote_guard.synth.non_notes), cropped, turned and re-lit into >= 200
pictures. Notes come from a fresh synthetic set of the model's currencies. Prints the verdict counts
of each, with and without the gate.

Run:  .venv/bin/python benchmarks/not_a_note.py [--model assets/demo_model.bgm] [--out /tmp/not_a_note]
Needs scikit-image (the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

import cv2
import numpy as np

from banknote_guard import api

SKIMAGE_PICTURES = (
    "astronaut", "brick", "camera", "cell", "chelsea", "checkerboard", "clock", "coffee", "coins", "colorwheel",
    "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "logo", "microaneurysms", "moon",
    "page", "retina", "rocket", "text", "cat", "binary_blobs",
)


def write_pictures_without_notes(out: Path, per_picture: int = 9, seed: int = 5) -> list[Path]:
    """Crops, quarter turns and lighting changes of scikit-image's sample pictures, as JPEG files."""
    import skimage.data

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for name in SKIMAGE_PICTURES:
        im = np.asarray(getattr(skimage.data, name)())
        if im.dtype == bool:
            im = im.astype(np.uint8) * 255
        if im.dtype != np.uint8:
            im = (255 * (im - im.min()) / max(float(np.ptp(im)), 1e-6)).astype(np.uint8)
        if im.ndim == 2:
            im = np.stack([im] * 3, -1)
        im = im[..., :3]
        h, w = im.shape[:2]
        for k in range(per_picture):
            s = rng.uniform(0.55, 1.0)
            ch, cw = int(h * s), int(w * s)
            y, x = int(rng.uniform(0, h - ch + 1)), int(rng.uniform(0, w - cw + 1))
            crop = im[y : y + ch, x : x + cw]
            if k % 3 == 1:
                crop = np.ascontiguousarray(np.rot90(crop))
            crop = np.clip(crop.astype(np.float32) * rng.uniform(0.7, 1.2), 0, 255).astype(np.uint8)
            f = rng.uniform(400, 900) / max(crop.shape[:2])
            crop = cv2.resize(crop, (max(8, int(crop.shape[1] * f)), max(8, int(crop.shape[0] * f))))
            path = out / f"{name}_{k}.jpg"
            cv2.imwrite(str(path), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
            paths.append(path)
    return paths


def counts(model: "api.ModelBundle", paths: list) -> collections.Counter:
    return collections.Counter(r.verdict if r.ok else "error" for r in api.Verifier(model).verify_paths(paths))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(api.demo_model_path()))
    ap.add_argument("--out", type=Path, default=Path("/tmp/not_a_note"))
    args = ap.parse_args()
    model = api.load_model(args.model)
    pictures = write_pictures_without_notes(args.out / "no_note")
    notes_root = args.out / "notes"
    if not notes_root.exists():
        api.generate_synthetic(notes_root, api.SynthOptions(
            currencies=2, denominations_per_currency=4, genuine_per_denomination=12, counterfeit_per_denomination=8,
            difficulty="normal", seed=11, jobs=1, contact_sheet=False))
    ds = api.discover_dataset(notes_root)
    known = set(model.denominations)
    genuine = [r.path for r in ds.records if r.is_genuine and r.denom_id in known]
    fakes = [r.path for r in ds.records if not r.is_genuine and r.denom_id in known]
    has_gate = len(model.gallery.non_note_embeddings_) > 0
    print(f"model {args.model} (id {model.identity}); gate: "
          + (f"{len(model.gallery.non_note_embeddings_)} references, threshold {model.calibration.gate_threshold:.2f}"
             if has_gate else "none"))
    t = time.perf_counter()
    for label, paths in (("pictures without a note", pictures), ("genuine notes", genuine), ("counterfeits", fakes)):
        c = counts(model, paths)
        n = sum(c.values())
        turned = c["unknown"] + c["retake"]
        print(f"{label:<24} n={n:<4} unknown {c['unknown']:>4}  retake {c['retake']:>4}  genuine {c['genuine']:>4}  "
              f"suspect {c['suspect']:>4}  uncertain {c['uncertain']:>4}  -> turned away {turned / max(n, 1):.1%}")
    print(f"({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
