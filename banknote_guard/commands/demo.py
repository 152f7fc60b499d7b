"""``banknote-guard demo``: the whole pipeline on generated data, headless."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from banknote_guard.progress import TerminalProgress


def register(subparsers: Any) -> None:
    """Add the ``demo`` parser."""
    p = subparsers.add_parser(
        "demo",
        help="generate data, train, enroll unseen denominations, verify and evaluate (headless)",
        description=(
            "Generate a synthetic dataset, train a model, enroll denominations the network never saw "
            "from 5 images each, verify a held-out test split and evaluate it. Writes the model, "
            "results.json, evaluation.json, roc.png, embeddings.png and summary.txt. With the default network "
            "this takes about 12 minutes on two CPU cores (most of it training); --quick checks the "
            "installation in seconds."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("banknote_guard_demo"), metavar="DIR",
                   help="output folder (default: ./banknote_guard_demo)")
    p.add_argument("--quick", action="store_true", help="a tiny run (under a minute) to check the installation")
    p.add_argument("--difficulty", choices=("easy", "normal", "hard"), default=None,
                   help="counterfeit difficulty of the generated data (default: hard; normal with --quick)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo and print its summary; returns the exit code."""
    from banknote_guard.api import demo_plan, run_demo

    progress = None if args.quiet else TerminalProgress()
    plan = demo_plan(args.quick, difficulty=args.difficulty)
    summary = run_demo(args.out, quick=args.quick, plan=plan, progress=progress)
    print(summary.format_text())
    return 0
