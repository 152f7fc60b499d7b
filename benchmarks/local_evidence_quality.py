"""Local evidence measured without retraining: an existing network, refitted on a hard synthetic set
with and without local evidence, then scored on notes it never saw.

Run:  .venv/bin/python benchmarks/local_evidence_quality.py [--model assets/demo_model.bgm] [--data DIR]
      [--out DIR] [--seed 11] [--currencies 2]

Protocol (the same split as ``benchmarks/quality.py``; its network training is the part skipped):

1. Generate (or reuse ``--data``) a hard synthetic dataset of the model's currencies: 4 denominations
   each, 40 genuine + 28 counterfeit images per denomination (4 per method), notes 480 px wide.
2. Per currency, hold the highest denomination out; of the others keep 30 % of the genuine notes and
   of the counterfeits back as the test split.
3. With the model's network unchanged, fit the gallery, SVMs and thresholds on the training split
   exactly as training does (:func:`~banknote_guard.workflows.training.build_bundle`), once with local
   evidence and once without; enroll the held-out denominations from 5 genuine images each; verify the
   test split.
4. Print, for both: ROC AUC and catch at 1 % false alarms (trained, enrolled, per counterfeit method),
   and false alarms and counterfeits flagged at the model's own thresholds; for the model with local
   evidence also the AUC of the distance alone and of the local score alone. Writes ``OUT/figures.json``.

The network is whatever ``--model`` holds (the bundled demo model: EfficientNet-Lite0 fine-tuned on
*normal*-difficulty notes), so the absolute figures are that network's on hard notes, not those of a
network trained on them (``quality.py``); the comparison with and without local evidence is like for like.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _figures(run: Any, test_view: Path, trained: list[str], held_out: list[str]) -> dict[str, Any]:
    import numpy as np

    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.evaluation.metrics import catch_rate_at_far, roc_auc

    recs = discover_dataset(test_view).records
    by_path = {str(Path(r.path).resolve()): r for r in run}
    pairs = [(rec, by_path[str(Path(rec.path).resolve())]) for rec in recs if str(Path(rec.path).resolve()) in by_path]
    y = np.array([0 if rec.is_genuine else 1 for rec, _ in pairs])
    flagged = np.array([res.verdict == "suspect" for _, res in pairs])
    kinds = {"fused": np.array([res.counterfeit_score for _, res in pairs], float),
             "global": np.array([res.global_score for _, res in pairs], float),
             "local": np.array([np.nan if res.local_score is None else res.local_score for _, res in pairs], float)}
    groups = {"all": np.ones(len(pairs), bool), "trained": np.array([rec.denom_id in trained for rec, _ in pairs]),
              "enrolled": np.array([rec.denom_id in held_out for rec, _ in pairs])}
    out: dict[str, Any] = {}
    for g, sel in groups.items():
        out[f"{g}: false alarms at model thresholds"] = float(flagged[sel & (y == 0)].mean())
        out[f"{g}: counterfeits flagged at model thresholds"] = float(flagged[sel & (y == 1)].mean())
        for kind, s in kinds.items():
            ok = sel & np.isfinite(s)
            if len(set(y[ok].tolist())) == 2:
                out[f"{g}: AUC {kind}"] = float(roc_auc(y[ok], s[ok]))
                out[f"{g}: catch at 1% FAR {kind}"] = float(catch_rate_at_far(y[ok], s[ok], 0.01)[0])
    for m in sorted({rec.method for rec, _ in pairs if not rec.is_genuine and rec.method}):
        sel = (y == 0) | np.array([rec.method == m for rec, _ in pairs])
        for kind, s in kinds.items():
            ok = sel & np.isfinite(s)
            if len(set(y[ok].tolist())) == 2:
                out[f"method {m}: AUC {kind}"] = float(roc_auc(y[ok], s[ok]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=ROOT / "assets" / "demo_model.bgm")
    ap.add_argument("--data", type=Path, default=None, help="a generated dataset to reuse")
    ap.add_argument("--out", type=Path, default=Path("local_evidence_run"))
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    from banknote_guard import api
    from banknote_guard.data.dataset import discover_dataset
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.verify import local_evidence
    from banknote_guard.verify.calibration import CalibrationConfig
    from banknote_guard.verify.enroll import enroll_dataset
    from banknote_guard.workflows.demo import split_dataset, write_view
    from banknote_guard.workflows.training import build_bundle

    started = time.monotonic()
    base = api.load_model(args.model)
    currencies = sorted({d.split("/")[0] for d in base.denominations})
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    data = args.data or out / "data"
    if not (data / "manifest.csv").is_file():
        api.generate_synthetic(data, api.SynthOptions(
            currencies=len(currencies), denominations_per_currency=4, genuine_per_denomination=40,
            counterfeit_per_denomination=28, difficulty="hard", seed=args.seed, note_width=480, jobs=1,
            contact_sheet=False))
    ds = discover_dataset(data)
    held_out = sorted({max((d for d in ds.denominations if d.startswith(c + "/")), key=lambda d: int(d.split("/")[1]))
                       for c in currencies})
    trained = [d for d in ds.denominations if d not in held_out]
    parts = split_dataset(ds, held_out=held_out, test_fraction=0.3, enroll_shots=5)
    views = {name: write_view(ds, recs, out / "views" / name) for name, recs in parts.items()}
    train_recs = discover_dataset(views["train"]).records
    train = [r for i, r in enumerate(train_recs) if i % 4 != 3]
    val = [r for i, r in enumerate(train_recs) if i % 4 == 3]
    results: dict[str, Any] = {}
    real_build = local_evidence.build_local_evidence
    for label, with_local in (("with local evidence", True), ("distance alone", False)):
        if not with_local:  # training imports it when it runs: the same fit, without local evidence
            local_evidence.build_local_evidence = lambda *a, **k: None  # type: ignore[assignment]
        try:
            t0 = time.monotonic()
            bundle, _ = build_bundle(base.build_net(), base.config, TrainConfig(model=base.config), train, val,
                                     calibration=CalibrationConfig(non_notes=0))
            enroll_dataset(bundle, views["enroll"], denominations=held_out)
            res = api.verify_paths(bundle, [views["test"]])
            figs = _figures(res, views["test"], trained, held_out)
            figs["seconds"] = time.monotonic() - t0
            results[label] = figs
        finally:
            local_evidence.build_local_evidence = real_build
    keys = list(results["with local evidence"])
    print(f"Network of {args.model} refitted on {len(train)} + {len(val)} hard training notes; test split "
          f"{len(parts['test'])} notes; enrolled from 5 images: {', '.join(held_out)}; "
          f"{(time.monotonic() - started) / 60:.1f} min")
    print(f"{'figure':<58}{'with local':>12}{'distance alone':>16}")
    for k in keys:
        a, b = results["with local evidence"].get(k), results["distance alone"].get(k)
        fa = (lambda v: "" if v is None else f"{v:.3f}")
        print(f"{k:<58}{fa(a):>12}{fa(b):>16}")
    (out / "figures.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
