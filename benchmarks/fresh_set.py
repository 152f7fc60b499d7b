"""Models on a fresh synthetic set they never saw: AUC, catch at 1 %, and what the thresholds do.

Run:  .venv/bin/python benchmarks/fresh_set.py MODEL [MODEL ...] [--data DIR] [--seed 14]
        [--difficulty normal] [--genuine 30] [--counterfeit 14] [--note-width 640]

The set (2 currencies x 4 denominations, ``--genuine`` genuine and ``--counterfeit`` counterfeit notes
each, every method in turn, ``--note-width`` px wide) is generated into ``--data`` unless it is there already; the
demo model's denominations are those of its first two currencies. Per model, one line: ROC AUC and the
catch rate at 1 % false alarms over all notes; at the model's own thresholds the share of genuine notes
called suspect and of counterfeits called suspect; the same split into trained denominations and
denominations enrolled later (the model's summary says which).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from banknote_guard import api
    from banknote_guard.evaluation.metrics import catch_rate_at_far, roc_auc

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "banknote_guard_fresh_set")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--difficulty", default="normal", choices=("easy", "normal", "hard"))
    ap.add_argument("--genuine", type=int, default=30)
    ap.add_argument("--counterfeit", type=int, default=14)
    ap.add_argument("--note-width", type=int, default=640, help="width of the generated notes (the demo's notes: 640)")
    args = ap.parse_args(argv)
    if not (args.data / "manifest.csv").is_file():
        api.generate_synthetic(args.data, api.SynthOptions(
            currencies=2, denominations_per_currency=4, genuine_per_denomination=args.genuine,
            counterfeit_per_denomination=args.counterfeit, difficulty=args.difficulty, seed=args.seed,
            note_width=args.note_width, jobs=1, contact_sheet=False))
    records = api.discover_dataset(args.data).records
    y = np.array([0 if r.is_genuine else 1 for r in records])
    print(f"{args.data}: {int((y == 0).sum())} genuine + {int(y.sum())} counterfeit notes")
    for path in args.models:
        model = api.load_model(path)
        by_path = {r.path: r for r in api.verify_paths(model, [args.data])}
        results = [by_path[str(r.path)] for r in records]
        score = np.array([np.nan if r.counterfeit_score is None else r.counterfeit_score for r in results], float)
        suspect = np.array([r.verdict == "suspect" for r in results])
        enrolled = np.array([r.denom_id in model.summary.get("enrolled", {}) for r in records])
        parts = [f"{path.name} (id {model.identity})", f"AUC {roc_auc(y, score):.3f}",
                 f"catch at 1% {catch_rate_at_far(y, score, 0.01)[0]:.2f}",
                 f"genuine called suspect {suspect[y == 0].mean():.3f}", f"counterfeits suspect {suspect[y == 1].mean():.2f}"]
        for name, sel in (("trained", ~enrolled), ("enrolled", enrolled)):
            if len(set(y[sel].tolist())) == 2:
                parts.append(f"{name}: AUC {roc_auc(y[sel], score[sel]):.3f}, genuine called suspect "
                             f"{suspect[sel & (y == 0)].mean():.3f}, counterfeits suspect {suspect[sel & (y == 1)].mean():.2f}")
        print(" | ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
