"""Give an existing model local evidence (and a counterfeit head) without retraining (used for the
bundled demo model).

    .venv/bin/python packaging/add_local_evidence.py [--model assets/demo_model.bgm] [--out FILE]
        [--backup DIR] [--work DIR] [--seed 13] [--counterfeits 20] [--check]

Models trained by this version get local evidence at training
(:func:`banknote_guard.workflows.training.build_bundle`). A model trained before keeps its network,
gallery, SVMs, gate, margin and unknown threshold; it needs genuine notes of its own denominations
for the local memory and held-out genuine notes to recalibrate its thresholds on the fused score. For
the demo model these are fresh synthetic notes of its fictional currencies (another seed than the one
it was trained and tested on, the difficulty it was trained at): per trained denomination half the
genuine notes build the memory and half calibrate (pooled over the denominations when the model's
thresholds were pooled before, as the demo model's were); each enrolled denomination gets its memory from k
fresh genuine shots (k as recorded at its enrollment) and its k-shot threshold from the new table.

With ``--counterfeits N`` (N > 0) the model also gets a counterfeit head
(:mod:`banknote_guard.verify.counterfeit_head`), fitted as training fits it: on the embeddings of the
memory's genuine notes and N fresh counterfeits per trained denomination (every method in turn),
standardised on the held-out genuine notes, before the thresholds are recalibrated.

The old file is copied to ``--backup`` (default /tmp) first; the new model is written atomically, and
with ``--check`` only when the sample notes still get the expected verdicts (genuine notes not
suspect, at least as many counterfeits flagged as before).
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _sample_verdicts(model, folder: Path) -> dict[str, tuple[str, float]]:
    from banknote_guard import api

    results = api.verify_paths(model, [folder])
    return {Path(r.path).name: (str(r.verdict), float(r.counterfeit_score or float("nan"))) for r in results}


def main() -> int:
    from banknote_guard import api
    from banknote_guard.model.preprocess import load_and_prepare_note
    from banknote_guard.verify.local_evidence import build_local_evidence, enroll_local
    from banknote_guard.workflows.local_regions import name_synthetic_regions

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "assets" / "demo_model.bgm")
    ap.add_argument("--out", type=Path, default=None, help="where to write the model (default: in place)")
    ap.add_argument("--backup", type=Path, default=Path(tempfile.gettempdir()))
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--genuine", type=int, default=60, help="fresh genuine notes per denomination")
    ap.add_argument("--difficulty", default="normal")
    ap.add_argument("--counterfeits", type=int, default=0,
                    help="fresh counterfeits per trained denomination for a counterfeit head (0: keep the head as is)")
    ap.add_argument("--thresholds", choices=("auto", "pooled", "own"), default="auto",
                    help="trained denominations' thresholds: pooled over them, each its own (from its held-out "
                         "notes), or as the model had them (auto)")
    ap.add_argument("--samples", type=Path, default=ROOT / "assets" / "sample_notes")
    ap.add_argument("--check", action="store_true", help="write only when the sample notes' verdicts stay sensible")
    args = ap.parse_args()
    out_path = args.out or args.model
    started = time.monotonic()
    model = api.load_model(args.model)
    if model.local_memory is not None:
        print(f"{args.model} already has local evidence; it is rebuilt.", file=sys.stderr)
        model.local_memory = None
    before = _sample_verdicts(model, args.samples) if args.samples.is_dir() else {}
    enrolled = dict(model.summary.get("enrolled", {}))
    trained = [d for d in model.denominations if d not in enrolled]
    currencies = sorted({d.split("/")[0] for d in model.denominations})
    work = args.work or Path(tempfile.mkdtemp(prefix="local_evidence_"))
    notes = work / "notes"
    if not notes.exists():
        api.generate_synthetic(notes, api.SynthOptions(
            currencies=len(currencies), denominations_per_currency=4, genuine_per_denomination=args.genuine,
            counterfeit_per_denomination=max(0, args.counterfeits), difficulty=args.difficulty, seed=args.seed, jobs=1, contact_sheet=False))
    ds = api.discover_dataset(notes)
    cfg = model.config
    mem_img, mem_den, cal_img, cal_den, shots = [], [], [], [], {}
    for denom in model.denominations:
        paths = sorted(r.path for r in ds.records if r.is_genuine and r.denom_id == denom)
        if not paths:
            print(f"No fresh genuine notes of {denom}; nothing was changed.", file=sys.stderr)
            return 2
        images = [load_and_prepare_note(p, cfg).image for p in paths]
        if denom in enrolled:
            k = int(enrolled[denom].get("k", 5))
            shots[denom] = images[:: max(1, len(images) // k)][:k]
            continue
        mem_img += images[0::2]
        mem_den += [denom] * len(images[0::2])
        cal_img += images[1::2]
        cal_den += [denom] * len(images[1::2])
    cal_emb = model.embedder.embed(cal_img)
    if args.counterfeits > 0:
        from banknote_guard.verify.counterfeit_head import fit_head

        fakes = [load_and_prepare_note(r.path, cfg).image for r in ds.records
                 if not r.is_genuine and r.denom_id in trained]
        x = model.embedder.embed(mem_img + fakes)
        model.counterfeit_head = fit_head(x, np.r_[np.ones(len(mem_img), bool), np.zeros(len(fakes), bool)], cal_emb,
                                          seed=args.seed)
        head = model.counterfeit_head
        print(f"counterfeit head: {'none (too few notes)' if head is None else 'fitted'} on {len(mem_img)} genuine "
              f"and {len(fakes)} counterfeit notes" + ("" if head is None else f", standardised on {len(cal_img)} "
                                                       f"held-out genuine notes ({head.reference})"))
    old_thresholds = dict(model.calibration.thresholds)
    pooled = args.thresholds == "pooled" or (args.thresholds == "auto" and all(
        m.startswith("pooled") for d, m in model.calibration.methods.items() if d not in enrolled))
    build_local_evidence(model, mem_img, mem_den, cal_img, cal_den, cal_emb, pooled_only=pooled)
    for denom, images in shots.items():
        enroll_local(model, denom, images)
        k = len(images)
        model.calibration.thresholds[denom], model.calibration.methods[denom] = model.calibration.threshold_for_k(k)
    named = name_synthetic_regions(model)
    after = _sample_verdicts(model, args.samples) if args.samples.is_dir() else {}
    truth = {}
    csv_path = args.samples / "samples.csv"
    if csv_path.is_file():
        with open(csv_path, newline="", encoding="utf-8") as fh:
            truth = {row["file"]: row["truth"] for row in csv.DictReader(fh)}
    print(f"{'sample':<50}{'truth':<13}{'before':>22}{'after':>22}")
    for name in sorted(after):
        b, a = before.get(name, ("?", float("nan"))), after[name]
        print(f"{name:<50}{truth.get(name, ''):<13}{b[0]:>14} {b[1]:6.2f}{a[0]:>14} {a[1]:6.2f}")
    print("thresholds: " + ", ".join(f"{d} {old_thresholds.get(d, float('nan')):.2f} -> {t:.2f}"
                                     for d, t in sorted(model.calibration.thresholds.items())))
    print(f"k-shot thresholds (fused): {model.calibration.kshot_thresholds}")
    if args.check:
        genuine_flagged = [n for n, t in truth.items() if t == "genuine" and after.get(n, ("",))[0] == "suspect"]
        fakes = [n for n, t in truth.items() if t == "counterfeit"]
        caught_before = sum(before.get(n, ("",))[0] == "suspect" for n in fakes)
        caught_after = sum(after.get(n, ("",))[0] == "suspect" for n in fakes)
        if genuine_flagged or caught_after < caught_before:
            print(f"Not written: genuine sample notes called suspect {genuine_flagged}, counterfeits flagged "
                  f"{caught_before} before and {caught_after} after.", file=sys.stderr)
            return 3
    if out_path.resolve() == args.model.resolve():
        backup = args.backup / f"{args.model.stem}.before-local-evidence.{time.strftime('%Y%m%d-%H%M%S')}.bgm"
        shutil.copy2(args.model, backup)
        print(f"Backup of the old model: {backup}")
    model.save(out_path)
    print(f"{out_path}: local evidence for {len(model.local_memory.modes)} denominations "
          f"({len(named)} with named regions), fusion scale {model.local_memory.scale:.3f}; memory from "
          f"{len(mem_img)} genuine notes, thresholds from {len(cal_img)} held-out ones; model id {model.identity}; "
          f"{time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
