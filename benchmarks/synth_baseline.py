"""How hard is the synthetic data? Genuine-vs-counterfeit ROC AUC of plain baselines.

    .venv/bin/python benchmarks/synth_baseline.py [--difficulty hard] [--genuine 40] [--counterfeit 20]

Generates a dataset (2 currencies x 4 denominations by default), rectifies every capture (with
``banknote_guard.data.rectify.rectify_note`` when it finds the note, else with the known corners), and
for each denomination (and, second, for each denomination and side) fits a nearest-centroid model on
half of its genuine images. The counterfeit
score of a held-out image is its distance to its denomination's genuine centroid divided by the mean
distance of the fitting images; AUC is computed over held-out genuine vs all counterfeits, pooled over
denominations, for three feature sets:

  (a) pixels: the rectified note downscaled to 64x32, RGB, standardised per feature;
  (b) colour histogram: 8x8x8 RGB histogram of the rectified note (normalised);
  (c) ImageNet features: efficientnet_lite0 (weights shipped with the package) on the note at 224x112.

A perfect separation (AUC 1.0) would mean the data is too easy for the network to learn anything.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

from banknote_guard.synth.generator import SynthOptions, generate_dataset, read_corners


def _rectify(img: np.ndarray, corners: np.ndarray, width: int) -> tuple[np.ndarray, bool]:
    try:
        from banknote_guard.data.rectify import rectify_note
    except ImportError:  # pragma: no cover - before the rectifier exists
        rectify_note = None
    if rectify_note is not None:
        r = rectify_note(img, out_width=width)
        if r.found:
            return r.image, True
    h = width // 2
    dst = np.array([[0, 0], [width, 0], [width, h], [0, h]], np.float32)
    return cv2.warpPerspective(img, cv2.getPerspectiveTransform(corners, dst), (width, h)), False


def _imagenet_features(images: list[np.ndarray]) -> np.ndarray | None:
    try:
        import torch

        from banknote_guard.model.backbones import backbone_normalization, create_backbone
    except ImportError:
        return None
    torch.set_num_threads(2)
    try:
        net, _ = create_backbone("efficientnet_lite0", weights="imagenet")
    except Exception as exc:  # noqa: BLE001 - report and go on without this baseline
        print(f"(c) skipped: {exc}")
        return None
    net.eval()
    mean, std = backbone_normalization("efficientnet_lite0")
    feats = []
    with torch.no_grad():
        for i in range(0, len(images), 32):
            batch = np.stack([cv2.resize(im, (224, 112), interpolation=cv2.INTER_AREA) for im in images[i:i + 32]])
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255.0
            x = (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
            feats.append(net(x).flatten(1).numpy())
    return np.concatenate(feats)


def _centroid_scores(x: np.ndarray, denoms: np.ndarray, labels: np.ndarray, fit: np.ndarray,
                     standardise: bool) -> np.ndarray:
    scores = np.zeros(len(x))
    for d in np.unique(denoms):
        idx = denoms == d
        train = idx & fit
        mu, sd = x[train].mean(0), (x[train].std(0) + 1e-6 if standardise else 1.0)
        z = (x[idx] - mu) / sd
        dist = np.sqrt((z ** 2).sum(1))
        ref = np.sqrt((((x[train] - mu) / sd) ** 2).sum(1)).mean()
        scores[idx] = dist / ref
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--difficulty", default="hard", choices=("easy", "normal", "hard"))
    ap.add_argument("--currencies", type=int, default=2)
    ap.add_argument("--denominations", type=int, default=4)
    ap.add_argument("--genuine", type=int, default=40)
    ap.add_argument("--counterfeit", type=int, default=20)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-imagenet", action="store_true")
    ap.add_argument("--dataset", type=Path, default=None,
                    help="use this already generated dataset instead of generating one (the other options are ignored)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ds" if args.dataset is None else args.dataset
        t0 = time.perf_counter()
        if args.dataset is not None:
            print(f"dataset: {args.dataset}")
        else:
            s = generate_dataset(out, SynthOptions(currencies=args.currencies,
                                                   denominations_per_currency=args.denominations,
                                                   genuine_per_denomination=args.genuine,
                                                   counterfeit_per_denomination=args.counterfeit,
                                                   note_width=args.width, difficulty=args.difficulty,
                                                   jobs=args.jobs, seed=args.seed, contact_sheet=False))
            print(f"dataset: {s.images} images ({s.per_label}), difficulty {args.difficulty}, "
                  f"{time.perf_counter() - t0:.1f} s")
        corners = read_corners(out)
        with open(out / "manifest.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        notes, found = [], 0
        for r in rows:
            img = cv2.imread(str(out / r["path"]))[..., ::-1]
            note, ok = _rectify(np.ascontiguousarray(img), corners[r["path"]], 256)
            found += ok
            notes.append(cv2.resize(note, (256, 128), interpolation=cv2.INTER_AREA))
    print(f"rectified: {found}/{len(rows)} found by rectify_note, the rest warped with the known corners")
    labels = np.array([r["label"] for r in rows])
    methods = np.array([r["method"] for r in rows])
    denoms = np.array([f"{r['currency']}/{r['denomination']}" for r in rows])
    rng = np.random.default_rng(0)
    fit = np.zeros(len(rows), bool)
    groups_fit = denoms + "/" + np.array([r["side"] for r in rows])
    for d in np.unique(groups_fit):
        g = np.flatnonzero((groups_fit == d) & (labels == "genuine"))
        fit[rng.permutation(g)[: len(g) // 2]] = True
    test = ~fit
    y = (labels[test] == "counterfeit").astype(int)

    pix = np.stack([cv2.resize(n, (64, 32), interpolation=cv2.INTER_AREA).astype(np.float32).ravel() / 255
                    for n in notes])
    hist = np.stack([cv2.calcHist([n], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).ravel() for n in notes])
    hist = hist / hist.sum(1, keepdims=True)
    features: dict[str, tuple[np.ndarray, bool]] = {"(a) pixels 64x32 + centroid": (pix, True),
                                                   "(b) colour histogram + centroid": (hist, False)}
    if not args.no_imagenet:
        t0 = time.perf_counter()
        inet = _imagenet_features(notes)
        if inet is not None:
            features["(c) efficientnet_lite0 ImageNet + centroid"] = (inet, False)
            print(f"ImageNet features in {time.perf_counter() - t0:.1f} s")
    method_names = sorted(set(methods[labels == "counterfeit"]))
    print("AUC (held-out genuine vs counterfeit; 0.5 = chance, 1.0 = perfect)")
    header = f"{'features':44s} {'all':>6s} " + " ".join(f"{m[:10]:>10s}" for m in method_names)
    print(header)
    sides = np.array([r["side"] for r in rows])
    for grouping, groups in (("per denomination", denoms), ("per denomination and side", denoms + "/" + sides)):
        print(f"-- centroids {grouping}")
        for name, (x, standardise) in features.items():
            sc = _centroid_scores(x, groups, labels, fit, standardise)[test]
            line = f"{name:44s} {roc_auc_score(y, sc):6.3f} "
            tm = methods[test]
            for m in method_names:
                keep = (tm == "") | (tm == m)
                line += f"{roc_auc_score(y[keep], sc[keep]):10.3f} "
            print(line)


if __name__ == "__main__":
    main()
