"""``banknote-guard evaluate MODEL DATASET``: measure a model on a labelled dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from banknote_guard.commands.device_args import add_device_argument, apply_device
from banknote_guard.fileio import atomic_write_text
from banknote_guard.progress import TerminalProgress


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` parser."""
    p = subparsers.add_parser(
        "evaluate",
        help="measure a model on a labelled dataset (AUC, catch rates, false alarms, denominations)",
        description=(
            "Verify every image of DATASET (layout DATASET/<CURRENCY>/<DENOMINATION>/{genuine,counterfeit}/) "
            "with MODEL and compare with the folder labels: ROC AUC, equal-error rate, counterfeits caught "
            "at 1% and 0.1% false alarms, false alarms per 10,000 genuine notes at the model's thresholds, "
            "denomination accuracy and confusion matrix, per denomination and per counterfeit method "
            "(when manifest.csv names them)."
        ),
    )
    p.add_argument("model", type=Path, help="model file (.bgm)")
    p.add_argument("dataset", type=Path, help="labelled dataset folder")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="write evaluation.json and PNG plots (ROC, embedding map, scores, confusion) here")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write the figures as JSON to FILE")
    p.add_argument("--no-map", action="store_true", help="skip the embedding map (saves one pass over 600 notes)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_device_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation and print the summary; returns the exit code."""
    from banknote_guard.api import evaluate, load_model

    apply_device(args)
    model = load_model(args.model)
    progress = None if args.quiet else TerminalProgress()
    report = evaluate(model, args.dataset, args.out, embedding_map=not args.no_map, progress=progress)
    if args.json is not None:
        data: dict[str, Any] = report.to_json()
        atomic_write_text(args.json, json.dumps(data, indent=2))
        report.files["json_copy"] = args.json
    print(report.format_text())
    return 0
