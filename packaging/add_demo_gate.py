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


def demo_notes(doc: str, seed: int, counterfeits: int) -> tuple[argparse.Namespace, object, list]:
    """Parse ``--model/--work/--seed``, load the model and make fresh synthetic notes of its currencies
    (12 genuine and ``counterfeits`` counterfeit per denomination); returns (args, model, records)."""
    from banknote_guard import api

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "assets" / "demo_model.bgm")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=seed)
    args = ap.parse_args()
    model = api.load_model(args.model)
    currencies = sorted({d.split("/")[0] for d in model.denominations})
    work = args.work or Path(tempfile.mkdtemp(prefix="demo_notes_"))
    notes = work / "notes"
    if not notes.exists():
        api.generate_synthetic(notes, api.SynthOptions(
            currencies=len(currencies), denominations_per_currency=4, genuine_per_denomination=12,
            counterfeit_per_denomination=counterfeits, difficulty="normal", seed=args.seed, jobs=1,
            contact_sheet=False))
    return args, model, list(api.discover_dataset(notes).records)


def main() -> int:
    from banknote_guard.verify.not_a_note import fit_gate

    args, model, records = demo_notes(__doc__, 12, 8)
    known = set(model.denominations)
    genuine = [r.path for r in records if r.is_genuine and r.denom_id in known]
    fakes = [r.path for r in records if not r.is_genuine and r.denom_id in known]
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
