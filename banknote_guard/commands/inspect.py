"""``banknote-guard inspect DATASET``: check a dataset's layout and report counts, sizes and problems."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from banknote_guard.fileio import atomic_write_text
from banknote_guard.progress import TerminalProgress


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``inspect`` sub-command."""
    p = subparsers.add_parser(
        "inspect",
        help="check a dataset folder and report counts, image sizes and problems",
        description=(
            "Check that DATASET follows DATASET/<CURRENCY>/<DENOMINATION>/{genuine,counterfeit}/, read "
            "every image and report counts, sizes, counterfeit methods and warnings (duplicates, label "
            "conflicts, too few images, imbalance, unreadable or non-image files). Exit code 0 when the "
            "dataset is usable (warnings included), 2 when its layout is broken."
        ),
    )
    p.add_argument("dataset", type=Path, metavar="DATASET", help="the dataset folder")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    p.add_argument("--out", type=Path, metavar="FILE", help="also write the report (table or JSON) to FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``inspect``; progress goes to stderr, the report to stdout."""
    from banknote_guard.api import inspect_dataset

    report = inspect_dataset(args.dataset, progress=TerminalProgress())
    text = json.dumps(report.to_json(), indent=2, ensure_ascii=False) if args.json else report.format_table()
    print(text)
    if args.out is not None:
        atomic_write_text(args.out, text + "\n")
    return 0
