"""Does the gallery + calibration machinery keep its promises, independent of the network?

Run:  .venv/bin/python benchmarks/verify_calibration.py [--far 0.01] [--seeds 5]

Embeddings are simulated: each denomination has two sides (two Gaussian clusters on the unit sphere,
64-d, like the front and back of a note), genuine notes scatter around them, counterfeits are shifted
away by a fixed amount in a random direction. The script fits the gallery on "training" notes (8
denominations), takes spreads and thresholds from held-out genuine notes at the chosen false-alarm rate,
enrolls 4 more denominations from 5 genuine images each (k-shot) with either the pooled threshold or
the simulated k-shot threshold (calibration.kshot_thresholds), and measures on a large test set:

* the false-alarm rate actually reached (target: the FAR) for trained and for enrolled denominations;
* the catch rate of counterfeits and the counterfeit-vs-genuine ROC AUC;
* denomination accuracy of genuine notes;

with one centroid per denomination (``max_prototypes=1``) and with two prototypes (the default).
Nothing here measures the network: see benchmarks/quality.py for the whole pipeline on synthetic images.
"""

from __future__ import annotations

import argparse

import numpy as np

from banknote_guard.evaluation import metrics as m
from banknote_guard.verify.calibration import Calibration, calibrate, kshot_thresholds
from banknote_guard.verify.gallery import Gallery

DIM = 64
NOISE = 0.06  # per-dimension genuine scatter
SIDE_GAP = 0.6  # distance between a denomination's two sides (front/back)
FAKE_SHIFT = 0.45  # how far counterfeits sit from genuine notes


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def simulate(rng: np.random.Generator, n_denoms: int, n_genuine: int, n_fake: int) -> tuple:
    centres = _unit(rng.normal(size=(n_denoms, DIM)))
    sides = np.stack([_unit(c + SIDE_GAP / 2 * _unit(rng.normal(size=DIM))) for c in centres for _ in range(2)])
    sides = sides.reshape(n_denoms, 2, DIM)
    x, den, fake = [], [], []
    for d in range(n_denoms):
        side = rng.integers(0, 2, n_genuine + n_fake)
        pts = sides[d, side] + NOISE * rng.normal(size=(n_genuine + n_fake, DIM))
        shift = FAKE_SHIFT * _unit(rng.normal(size=(n_fake, DIM)))
        pts[n_genuine:] += shift
        x.append(_unit(pts))
        den += [f"D/{d}"] * (n_genuine + n_fake)
        fake += [False] * n_genuine + [True] * n_fake
    return np.concatenate(x).astype(np.float32), np.array(den), np.array(fake)


def run(seed: int, far: float, prototypes: int, kshot: bool) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    x, den, fake = simulate(rng, 12, 400, 200)
    trained = {f"D/{d}" for d in range(8)}
    is_tr = np.array([d in trained for d in den])
    idx = rng.permutation(len(x))
    part = np.empty(len(x), dtype="<U5")
    part[idx[: len(x) // 4]] = "train"
    part[idx[len(x) // 4 : len(x) // 2]] = "val"
    part[idx[len(x) // 2 :]] = "test"
    gen = ~fake
    g = Gallery(max_prototypes=prototypes)
    sel = is_tr & gen & (part == "train")
    g.fit(x[sel], den[sel])
    sel_val = is_tr & gen & (part == "val")
    g.set_heldout_spreads(x[sel_val], den[sel_val])
    cal: Calibration = calibrate(g.classes_, g.own_scores(x[sel_val], den[sel_val]), den[sel_val], far,
                                 known_scores=g.scores(x[is_tr & (part != "test")])[1])
    if kshot:
        cal.kshot_thresholds, cal.kshot_methods = kshot_thresholds(g, x[sel_val], den[sel_val], far)
    for d in sorted(set(den) - trained):
        five = np.flatnonzero((den == d) & gen & (part == "train"))[:5]
        g.add_class(d, x[five])
        cal.thresholds[d], cal.methods[d] = cal.threshold_for_k(5)
    test = part == "test"
    best, score, _ = g.scores(x[test])
    pred = np.array(g.classes_)[best]
    thr = np.array([cal.threshold_for(p) for p in pred])
    flagged = score > thr
    out: dict[str, float] = {}
    for name, group in (("trained", is_tr[test]), ("enrolled", ~is_tr[test])):
        gg, ff = group & ~fake[test], group & fake[test]
        out[f"{name}_far"] = float(flagged[gg].mean())
        out[f"{name}_catch"] = float(flagged[ff].mean())
        out[f"{name}_auc"] = m.roc_auc(fake[test][group].astype(int), score[group])
        out[f"{name}_denacc"] = float((pred[gg] == den[test][gg]).mean())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--far", type=float, default=0.01)
    ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    print(f"simulated embeddings: 12 denominations x 2 sides, {DIM}-d; 8 trained (100 train / 100 held-out "
          f"genuine each), 4 enrolled from 5 images; target FAR {args.far:.1%}; mean over {args.seeds} seeds")
    keys = ("far", "catch", "auc", "denacc")
    print(f"{'prototypes':>10} {'k-shot thr':>10} {'group':>9} " + " ".join(f"{k:>8}" for k in keys))
    for prototypes in (1, 2):
        for kshot in (False, True):
            runs = [run(seed, args.far, prototypes, kshot) for seed in range(args.seeds)]
            for group in ("trained", "enrolled"):
                if group == "trained" and kshot:
                    continue  # the same as without
                vals = [np.mean([r[f"{group}_{k}"] for r in runs]) for k in keys]
                how = "simulated" if kshot else "pooled"
                print(f"{prototypes:>10} {how:>10} {group:>9} " + " ".join(f"{v:8.4f}" for v in vals))


if __name__ == "__main__":
    main()
