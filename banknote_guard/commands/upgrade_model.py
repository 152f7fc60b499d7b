"""``banknote-guard upgrade-model MODEL [--out NEW]``: re-save a model file in the current format.

Models saved by earlier versions (formats 1 and 2) hold their network as float32 weights only; this
version adds the network's ONNX graph, which verification stations run with onnxruntime (no torch),
and stores the large weights as float16 (half the file size). Re-saving needs torch and the ``onnx``
package (a training workstation: ``pip install 'banknote-guard[train]'``). Verdicts stay as they were:
the denominations, centroids, SVMs and thresholds are copied unchanged.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``upgrade-model`` sub-command."""
    p = subparsers.add_parser(
        "upgrade-model",
        help="re-save a model from an earlier version so that stations without torch can run it",
        description="Re-save MODEL in the current model format: its network is added as ONNX (what "
        "verification stations run, without torch) and its large weights are stored as float16. Needs torch "
        "(a training workstation). The model is written atomically, in place unless --out is given.",
    )
    p.add_argument("model", help="model file (.bgm)")
    p.add_argument("--out", default=None, help="write the re-saved model here instead of over MODEL")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Re-save the model and say what changed; exit code 0."""
    from banknote_guard.api import load_model, require_torch
    from banknote_guard.errors import ModelFileError

    require_torch("Re-saving a model (its network is exported to ONNX)")
    bundle = load_model(args.model)
    before = bundle.schema_version
    out = bundle.save(args.out or args.model)
    if not bundle.has_onnx:
        raise ModelFileError(
            f"{str(out)!r} was saved, but without its ONNX network (see the log: 'banknote-guard -v upgrade-model'); "
            "stations without torch cannot run it."
        )
    print(f"Model saved to {out} (format {before} -> {bundle.schema_version}, ONNX network included, "
          f"{out.stat().st_size / 1e6:.1f} MB; identity {bundle.identity}).")
    return 0
