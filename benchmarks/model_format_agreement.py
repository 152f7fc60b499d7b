"""Do a model's verdicts survive the station format (float16 weights, onnxruntime)?

Run:  .venv/bin/python benchmarks/model_format_agreement.py [--reference OLD.bgm] [--model NEW.bgm] [--quick]

``OLD.bgm`` is a model as saved before (format 2: float32 weights, run with torch); ``NEW.bgm`` is the
same model re-saved in the current format (``banknote-guard upgrade-model``; default: the bundled demo
model). The notes are the demo model's own data set, regenerated from its recipe
(``packaging/make_demo_assets.py``: 2 currencies x 4 denominations, 44 genuine + 28 counterfeit
images each, the generator's "normal" setting, seed 21, 640 px), plus the bundled sample notes.

Every note is read and straightened once; its embedding is then computed three ways (without
``--reference`` only the last two):

* ``reference``: OLD's float32 weights with torch (what earlier versions did);
* ``float16 torch``: NEW's float16 weights with torch;
* ``float16 onnxruntime``: NEW's weights with onnxruntime (what verification does now).

Printed: the largest embedding difference of each pair, the largest change of the counterfeit
score, and how many verdicts and denominations differ (each scored with NEW's gallery and
thresholds, so only the network's arithmetic differs).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _benchutil import machine_header

ROOT = Path(__file__).resolve().parent.parent


def demo_notes(workdir: Path, quick: bool) -> list[Path]:
    """The demo model's data set (generated once into ``workdir``) and the sample notes."""
    from banknote_guard.data.imageio import iter_image_files
    from banknote_guard.synth.generator import SynthOptions, generate_dataset

    per = (6, 4) if quick else (44, 28)
    root = workdir / f"demo_set_{per[0]}_{per[1]}"
    if not (root / ".complete").is_file():
        print(f"[setup] generating the demo data set into {root} ...", file=sys.stderr)
        generate_dataset(root, SynthOptions(
            currencies=2, denominations_per_currency=4, genuine_per_denomination=per[0],
            counterfeit_per_denomination=per[1], difficulty="normal", seed=21, note_width=640,
            contact_sheet=False, jobs=2,
        ))
        (root / ".complete").write_text("done\n", encoding="utf-8")
    return sorted(iter_image_files(root)) + sorted(iter_image_files(ROOT / "assets" / "sample_notes"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, default=None,
                    help="the model as saved before (format 2, float32); without it only torch and onnxruntime "
                    "on the current file are compared")
    ap.add_argument("--model", type=Path, default=ROOT / "assets" / "demo_model.bgm",
                    help="the same model in the current format (default: the bundled demo model)")
    ap.add_argument("--quick", action="store_true", help="80 generated notes instead of 576")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "banknote_guard_bench")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    from banknote_guard.model.embedder import prepare_paths
    from banknote_guard.verify.bundle import ModelBundle
    from banknote_guard.verify.verifier import score_embeddings

    print(machine_header("Model format agreement: float32 + torch vs float16 + onnxruntime", args.threads))
    new = ModelBundle.load(args.model)
    old = ModelBundle.load(args.reference) if args.reference else None
    if old is not None:
        print(f"reference: {args.reference} (format {old.schema_version}, {args.reference.stat().st_size / 1e6:.1f} MB)")
    else:
        print("reference: none given (--reference OLD.bgm): comparing the engines on the current file only")
    print(f"model:     {args.model} (format {new.schema_version}, {args.model.stat().st_size / 1e6:.1f} MB, "
          f"ONNX {'present' if new.has_onnx else 'absent'})")
    if old is not None and old.model_config != new.model_config:
        print("the two files hold different networks; nothing to compare", file=sys.stderr)
        return 2
    args.workdir.mkdir(parents=True, exist_ok=True)
    paths = demo_notes(args.workdir, args.quick)
    t0 = time.perf_counter()
    notes, failures = prepare_paths(paths, new.config)
    kept = [(p, n) for p, n in zip(paths, notes) if n is not None]
    print(f"notes:     {len(kept)} ({len(failures)} unreadable), read and straightened in {time.perf_counter() - t0:.0f} s")
    images = [n for _, n in kept]
    names = [str(p) for p, _ in kept]
    emb = {
        "float16 torch": new.make_embedder("torch", batch_size=32).embed(images),
        "float16 onnxruntime": new.make_embedder("onnxruntime", batch_size=32).embed(images),
    }
    if old is not None:
        emb["reference"] = old.make_embedder("torch", batch_size=32).embed(images)
    scored = {k: score_embeddings(new, e, names) for k, e in emb.items()}
    print()
    print(f"{'pair':44}{'max |emb diff|':>16}{'max |score diff|':>18}{'verdicts differ':>17}{'denoms differ':>15}")
    for a, b in (("reference", "float16 torch"), ("float16 torch", "float16 onnxruntime"),
                 ("reference", "float16 onnxruntime")):
        if a not in scored:
            continue
        ra, rb = scored[a], scored[b]
        de = float(np.abs(emb[a] - emb[b]).max())
        ds = max(abs(x.counterfeit_score - y.counterfeit_score) for x, y in zip(ra, rb))
        dv = sum(x.verdict != y.verdict for x, y in zip(ra, rb))
        dd = sum(x.denomination != y.denomination for x, y in zip(ra, rb))
        print(f"{a + ' vs ' + b:44}{de:16.2e}{ds:18.4f}{dv:17d}{dd:15d}")
        for x, y in zip(ra, rb):
            if x.verdict != y.verdict or x.denomination != y.denomination:
                print(f"    {Path(x.path).name}: {x.verdict} {x.denomination} ({x.counterfeit_score:.4f}) vs "
                      f"{y.verdict} {y.denomination} ({y.counterfeit_score:.4f}), threshold {x.threshold:.4f}")
    margin = min(abs(r.counterfeit_score - r.threshold) for r in scored.get("reference", scored["float16 torch"]))
    print(f"\nclosest score to its threshold: {margin:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
