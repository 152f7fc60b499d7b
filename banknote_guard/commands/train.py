"""``banknote-guard train DATASET --out MODEL``: train a model and save it as one file.

Also under torchrun: ``torchrun --nproc-per-node N -m banknote_guard train DATASET --out MODEL`` trains
with N processes (DistributedDataParallel); rank 0 prints the progress and the summary and writes
the model and checkpoint, the other processes print nothing.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from banknote_guard.progress import TerminalProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` sub-command."""
    from banknote_guard.commands.train_args import (
        add_calibration_arguments,
        add_runtime_arguments,
        add_train_arguments,
    )

    p = subparsers.add_parser(
        "train",
        help="train the Siamese network, fit the gallery, SVMs and thresholds, save a model file",
        description="Train on DATASET/<CURRENCY>/<DENOMINATION>/{genuine,counterfeit}/ and write one model "
        "file (.bgm) holding the network, the gallery of genuine denominations, the SVMs, the thresholds "
        "and a training summary. A checkpoint MODEL.ckpt is kept beside it so --resume can continue an "
        "interrupted run. Ctrl+C stops training and still saves the best model so far. On a GPU server: "
        "torchrun --nproc-per-node N -m banknote_guard train DATASET --out MODEL (one process per GPU).",
    )
    p.add_argument("dataset", help="dataset folder")
    p.add_argument("--out", required=True, help="model file to write, e.g. model.bgm")
    add_calibration_arguments(p)
    p.add_argument("--resume", action="store_true", help="continue from MODEL.ckpt of an interrupted run")
    add_train_arguments(p)
    add_runtime_arguments(p)
    p.set_defaults(func=run)


def _fmt(value: object, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.1%}" if percent else f"{value:.4f}"
    return str(value)


def run(args: argparse.Namespace) -> int:
    """Train, save and print a summary; exit code 0 (1 when training was cancelled but a model saved)."""
    from banknote_guard.api import train_model
    from banknote_guard.commands.train_args import (
        calibration_config_from_args,
        runtime_from_args,
        train_config_from_args,
    )
    from banknote_guard.progress import CancelToken

    config = train_config_from_args(args)
    calibration = calibration_config_from_args(args)
    runtime = runtime_from_args(args)
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)

    def on_interrupt(signum: int, frame: object) -> None:
        # First Ctrl+C: stop after the current step and save the best model so far. Second: abort.
        if cancel.cancelled:
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        cancel.cancel()
        print("\nStopping after the current step; the best model so far will be saved "
              "(Ctrl+C again to abort)...", file=sys.stderr)

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        signal.signal(signal.SIGINT, on_interrupt)
    try:
        outcome = train_model(
            args.dataset, args.out, config, calibration=calibration, resume=args.resume,
            progress=TerminalProgress(), cancel=cancel, runtime=runtime,
        )
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    b = outcome.bundle
    if b is None:  # another process of a torchrun launch: rank 0 writes and reports the model
        return 1 if outcome.cancelled else 0
    m = outcome.metrics
    s = b.summary
    print()
    print(f"Model saved to {outcome.model_path}" + ("  (training was cancelled: best weights so far)" if outcome.cancelled else ""))
    print(f"  denominations: {len(b.denominations)} ({', '.join(b.denominations)})")
    print(f"  epochs: {s.get('epochs_trained')} (best {s.get('best_epoch')}), time {outcome.seconds:.0f} s, "
          f"{s.get('images_per_second', 0):.0f} images/s")
    hw = outcome.hardware
    print(f"  trained on: {', '.join(hw.get('devices', []))}" + (
        f" ({hw.get('world_size')} processes, {hw.get('backend')}, mining scope {hw.get('mining_scope')})"
        if hw.get("world_size", 1) > 1 else "") + f", precision {hw.get('precision')}")
    print(f"  thresholds at {b.calibration.false_alarm_rate:.1%} false alarms: "
          + ", ".join(f"{d}={b.calibration.thresholds[d]:.2f} ({b.calibration.methods[d]})" for d in b.denominations))
    ks = b.calibration.kshot_thresholds
    if ks:
        print("  thresholds for k-shot enrollment (simulated): "
              + ", ".join(f"k={k}: {ks[k]:.2f}" for k in sorted(ks) if k in (1, 3, 5, 10) or k == max(ks)))
    for line in s.get("warnings", []):
        print(f"  WARNING: {line}")
    print(f"  validation: ROC AUC {_fmt(m.get('auc'))}, EER {_fmt(m.get('eer'), True)}, "
          f"catch rate {_fmt(m.get('catch_rate'), True)} at false alarms {_fmt(m.get('false_alarm_rate'), True)} "
          f"(calibration set), catch rate at {b.calibration.false_alarm_rate:.0%} FAR {_fmt(m.get('catch_rate_at_far'), True)}, "
          f"denomination accuracy {_fmt(m.get('denomination_accuracy'), True)}")
    return 1 if outcome.cancelled else 0
