"""``banknote-guard enroll MODEL DATASET``: add or refresh denominations from a few genuine images."""

from __future__ import annotations

import argparse
import sys

from banknote_guard.commands.device_args import add_device_argument, apply_device
from banknote_guard.progress import TerminalProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``enroll`` sub-command."""
    p = subparsers.add_parser(
        "enroll",
        help="add or refresh denominations from a few genuine images, without retraining",
        description="Enroll the denominations of DATASET (its genuine images; counterfeits are ignored) into "
        "MODEL without retraining the network: centroids, spreads, SVMs and thresholds are updated. With fewer "
        "images than needed to calibrate a denomination on its own, its threshold comes from the trained "
        "denominations (a warning says so). The model is saved atomically, in place unless --out is given.",
    )
    p.add_argument("model", help="model file (.bgm)")
    p.add_argument("dataset", help="folder in the layout DATASET/<CURRENCY>/<DENOMINATION>/genuine/")
    p.add_argument("--out", default=None, help="write the updated model here instead of over MODEL")
    p.add_argument("--denominations", default=None,
                   help="comma-separated ids to enroll, e.g. EUR/20,EUR/50 (default: all in DATASET)")
    p.add_argument("--k", type=int, default=None,
                   help="use at most K genuine images per denomination, chosen deterministically (default: all)")
    add_device_argument(p)
    p.set_defaults(func=run)


#: How long an enroll waits for another program that is changing the same model (seconds).
LOCK_WAIT_S = 600.0


def run(args: argparse.Namespace) -> int:
    """Enroll, save, print what was done; exit code 0, or 3 when some images could not be read.

    The model is read, changed and written under an exclusive lock on the file written, so two
    enrolls into one model one after the other both land (the second waits for the first).
    """
    from banknote_guard.errors import parameter_error
    from banknote_guard.fileio import locked

    if args.k is not None and args.k < 1:
        raise parameter_error("--k", "enroll", "an integer >= 1", args.k)
    apply_device(args)
    out = args.out or args.model
    with locked(out, timeout=LOCK_WAIT_S, what="the model"):
        return _enroll_locked(args, out)


def _enroll_locked(args: argparse.Namespace, out: str) -> int:
    from banknote_guard.api import enroll, load_model

    bundle = load_model(args.model)
    denoms = [d.strip() for d in args.denominations.split(",") if d.strip()] if args.denominations else None
    rep = enroll(bundle, args.dataset, denominations=denoms, k=args.k, progress=TerminalProgress())
    for w in rep.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for path, msg in rep.errors:
        print(f"error: {msg}", file=sys.stderr)
    if not rep.enrolled:
        print("Nothing was enrolled; the model was not changed.")
        return 3 if rep.errors else 1
    bundle.save(out)
    for e in rep.enrolled:
        what = "refreshed" if e.refreshed else "added"
        print(f"{what} {e.denomination}: k={e.k}, threshold {e.threshold:.3f} ({e.calibration_method}), "
              f"spread {e.spread_method}")
    print(f"Model saved to {out} ({len(bundle.denominations)} denominations).")
    return 3 if rep.errors else 0
