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
            "installation in seconds. On a verification station (no torch: the station bundle or a plain "
            "'pip install banknote-guard'), which cannot train, it says so and verifies the bundled sample "
            "notes with the bundled demo model instead."
        ),
    )
    p.add_argument("--out", type=Path, default=Path("banknote_guard_demo"), metavar="DIR",
                   help="output folder (default: ./banknote_guard_demo)")
    p.add_argument("--quick", action="store_true", help="a tiny run (under a minute) to check the installation")
    p.add_argument("--difficulty", choices=("easy", "normal", "hard"), default=None,
                   help="counterfeit difficulty of the generated data (default: hard; normal with --quick)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


STATION_INTRO = """\
Banknote Guard demo on a verification station.

The full demo generates synthetic banknotes, trains a Siamese network on them, enrolls denominations
it never saw from five images each, and evaluates the result. Training needs PyTorch, which this
installation does not have: it verifies notes with the network exported in the model file. (On a
training workstation: {install}, then 'banknote-guard demo'.)

Verifying the sample notes that come with the application, with the bundled demo model
({model}; {n} files in {samples}; samples.csv there says what each one really is):
"""


def run(args: argparse.Namespace) -> int:
    """Run the demo and print its summary; returns the exit code."""
    from banknote_guard.api import demo_plan, run_demo, training_available

    if not training_available():
        return run_station_demo()
    progress = None if args.quiet else TerminalProgress()
    plan = demo_plan(args.quick, difficulty=args.difficulty)
    summary = run_demo(args.out, quick=args.quick, plan=plan, progress=progress)
    print(summary.format_text())
    return 0


def run_station_demo() -> int:
    """Without torch: explain, then verify the bundled sample notes with the bundled demo model."""
    from banknote_guard.api import TRAIN_INSTALL, Verifier, demo_model_path, load_model, sample_notes_dir
    from banknote_guard.commands.verify import format_table, summarize
    from banknote_guard.errors import BanknoteGuardError

    model, samples = demo_model_path(), sample_notes_dir()
    if not model.is_file() or not samples.is_dir():
        raise BanknoteGuardError(
            f"This installation has neither torch (to train: {TRAIN_INSTALL}) nor the bundled demo model and "
            f"sample notes (looked in {str(model.parent)!r}), so there is nothing to demonstrate. Verify your "
            "own notes with 'banknote-guard verify MODEL NOTES...'."
        )
    files = sorted(p for p in samples.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    print(STATION_INTRO.format(install=TRAIN_INSTALL, model=model, n=len(files), samples=samples))
    results = Verifier(load_model(model)).verify_paths(files)
    print(format_table(results))
    s = summarize(results)
    print(f"\n{s['total']} file(s): {s['genuine']} genuine, {s['suspect']} suspect, {s['unknown']} unknown, "
          f"{s['error']} error(s). Verify your own notes with 'banknote-guard verify {model} NOTES...'"
          " or open the desktop application ('banknote-guard gui').")
    return 0
