"""Is the synthetic data learnable? Supervised texture probe on genuine-vs-counterfeit ROC AUC.

    .venv/bin/python benchmarks/synth_learnability.py DATASET_DIR [--width 512] [--height 256]

The counterpart of ``synth_baseline.py``: that script checks that plain baselines stay far from perfect
(the cues are subtle); this one checks that every counterfeit method still leaves evidence a detector
can find at the network's working resolution. Each capture of a generated dataset (``manifest.csv`` +
``corners.csv``) is warped to ``width`` x ``height`` with its true corners, and described by hand-made
texture features: log Laplacian energy per cell (4 x 8), log high-pass residual energy per colour channel
and cell, the note at 32 x 16 (colour means) and six FFT band energies of the grey image. The images are
split in half (stratified); two scores are reported on the held-out half, overall and per method
(held-out genuine vs that method's counterfeits):

  centroid: mean squared z-score to the genuine images of the same currency/denomination/side;
  logreg:   a supervised logistic regression (C = 0.1) on the standardised features.

Targets at difficulty "hard": logreg AUC >= 0.95 overall and >= 0.9 per method (layout-only cues such as
"raised_denomination" show up in the centroid score instead).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

_BANDS = ((0.05, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.8))


def features(img: np.ndarray) -> np.ndarray:
    """Texture and colour features of a rectified (H, W, 3) uint8 RGB note; H divisible by 4, W by 8."""
    h, w = img.shape[:2]
    g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = np.abs(cv2.Laplacian(g, cv2.CV_32F))
    parts = [np.log1p(lap.reshape(4, h // 4, 8, w // 8).mean(axis=(1, 3)).ravel())]
    for ch in range(3):
        x = img[..., ch].astype(np.float32)
        r = np.abs(x - cv2.GaussianBlur(x, (0, 0), 1.0))
        parts.append(np.log1p(r.reshape(4, h // 4, 8, w // 8).mean(axis=(1, 3)).ravel()))
    parts.append(cv2.resize(img, (32, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel() / 255)
    spec = np.abs(np.fft.rfft2(g - g.mean()))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    rr = np.sqrt(fx**2 + fy**2)
    parts.append(np.array([np.log1p(spec[(rr >= a) & (rr < b)].mean()) for a, b in _BANDS]))
    return np.concatenate(parts)


def load(root: Path, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels (True = counterfeit), design keys and methods of every capture in ``root``."""
    corners: dict[str, np.ndarray] = {}
    with open(root / "corners.csv", newline="") as f:
        for r in csv.DictReader(f):
            corners[r["path"]] = np.array([float(r[k]) for k in r if k != "path"], np.float32).reshape(4, 2)
    with open(root / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    dst = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32)
    x, y, key, meth = [], [], [], []
    for r in rows:
        bgr = cv2.imread(str(root / r["path"]))
        if bgr is None:
            print(f"skipped unreadable {r['path']}")
            continue
        m = cv2.getPerspectiveTransform(corners[r["path"]], dst)
        note = cv2.warpPerspective(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), m, (width, height))
        x.append(features(note))
        y.append(r["label"] == "counterfeit")
        key.append(f"{r['currency']}/{r['denomination']}/{r['side']}")
        meth.append(r["method"])
    return np.array(x), np.array(y), np.array(key), np.array(meth)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", type=Path, help="folder written by `banknote-guard synth`")
    ap.add_argument("--width", type=int, default=512)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0, help="seed of the train/test split")
    args = ap.parse_args()
    if args.width % 8 or args.height % 4:
        ap.error("--width must be divisible by 8 and --height by 4")
    cv2.setNumThreads(1)
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  {platform.node()}  "
          f"{platform.processor() or platform.machine()}  python {platform.python_version()}")
    print("command:", " ".join(sys.argv))

    t0 = time.perf_counter()
    x, y, key, meth = load(args.dataset, args.width, args.height)
    print(f"features: {x.shape[0]} images x {x.shape[1]} in {time.perf_counter() - t0:.1f} s "
          f"({int(y.sum())} counterfeit)")
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.5, random_state=args.seed, stratify=y)

    centroid = np.zeros(len(y))
    for k in np.unique(key):
        g = tr[(key[tr] == k) & ~y[tr]]
        if len(g) < 2:
            continue
        mu, sd = x[g].mean(0), x[g].std(0) + 1e-3
        m = key == k
        centroid[m] = (((x[m] - mu) / sd) ** 2).mean(1)
    xs = (x - x[tr].mean(0)) / (x[tr].std(0) + 1e-6)
    clf = LogisticRegression(C=0.1, max_iter=3000).fit(xs[tr], y[tr])
    prob = clf.predict_proba(xs)[:, 1]

    print(f"{'(held-out half)':22s} {'centroid':>9s} {'logreg':>7s}")
    print(f"{'overall':22s} {roc_auc_score(y[te], centroid[te]):9.3f} {roc_auc_score(y[te], prob[te]):7.3f}")
    for mm in np.unique(meth[y]):
        sel = te[~y[te] | (meth[te] == mm)]
        if y[sel].all() or not y[sel].any():
            continue
        print(f"{mm:22s} {roc_auc_score(y[sel], centroid[sel]):9.3f} {roc_auc_score(y[sel], prob[sel]):7.3f}"
              f"   (n={int(y[sel].sum())})")


if __name__ == "__main__":
    main()
