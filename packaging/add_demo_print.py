"""Give an existing model print prototypes for its denominations without retraining (used for the
bundled demo model).

    .venv/bin/python packaging/add_demo_print.py [--model assets/demo_model.bgm] [--work DIR]

Models trained by this version get them at training (:func:`banknote_guard.workflows.training.build_bundle`)
and enrolled denominations from their shots (:mod:`banknote_guard.verify.enroll`). For the demo model's
fictional currencies the genuine pictures are fresh synthetic notes (another seed than the one it was
trained and tested on), both sides. The model is saved in place (atomically); only how notes are named
changes (:mod:`banknote_guard.verify.keypoints`).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))


def main() -> int:
    from add_demo_gate import demo_notes

    from banknote_guard.verify.keypoints import build_print

    args, model, records = demo_notes(__doc__, 13, 0)
    known = set(model.denominations)
    genuine = [r for r in records if r.is_genuine and r.denom_id in known]
    if not genuine:
        print("The generated notes share no denomination with the model; nothing was changed.", file=sys.stderr)
        return 2
    if model.keypoints is not None:
        for denom in known:
            model.keypoints.remove(denom)
    added = build_print(model, genuine)
    model.save(args.model)
    print(f"{args.model}: {added} print prototypes for {len(model.keypoints.covered())} denominations "
          f"(from {len(genuine)} genuine notes). Model id {model.identity}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
