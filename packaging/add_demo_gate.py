"""Give an existing model the not-a-note gate without retraining (used for the bundled demo model).

    .venv/bin/python packaging/add_demo_gate.py [--model assets/demo_model.bgm] [--work DIR]

Models trained by this version get the gate at training (:func:`banknote_guard.workflows.training.build_bundle`).
A model trained before needs held-out notes of its own denominations to calibrate the gate on; for the
demo model these are fresh synthetic notes of its fictional currencies (another seed than the one it
was trained and tested on): genuine notes calibrate the gate, counterfeits join its note side. The
model is saved in place (atomically); its verdicts on notes are unchanged except that pictures without
a note become "unknown".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from banknote_guard import api
    from banknote_guard.verify.not_a_note import fit_gate

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "assets" / "demo_model.bgm")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args()
    model = api.load_model(args.model)
    currencies = sorted({d.split("/")[0] for d in model.denominations})
    work = args.work or Path(tempfile.mkdtemp(prefix="demo_gate_"))
    notes = work / "notes"
    if not notes.exists():
        api.generate_synthetic(notes, api.SynthOptions(
            currencies=len(currencies), denominations_per_currency=4, genuine_per_denomination=12,
            counterfeit_per_denomination=8, difficulty="normal", seed=args.seed, jobs=1, contact_sheet=False))
    ds = api.discover_dataset(notes)
    known = set(model.denominations)
    genuine = [r.path for r in ds.records if r.is_genuine and r.denom_id in known]
    fakes = [r.path for r in ds.records if not r.is_genuine and r.denom_id in known]
    if not genuine:
        print("The generated notes share no denomination with the model; nothing was changed.", file=sys.stderr)
        return 2
    g_emb, _ = model.embedder.embed_paths(genuine)
    f_emb, _ = model.embedder.embed_paths(fakes)
    threshold, how = fit_gate(model, g_emb, counterfeit_embeddings=f_emb)
    model.save(args.model)
    print(f"{args.model}: gate with {len(model.gallery.non_note_embeddings_)} pictures without a note, "
          f"{len(f_emb)} counterfeits on the note side, threshold {threshold:.2f} ({how}); "
          f"calibrated on {len(g_emb)} genuine notes. Model id {model.identity}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
