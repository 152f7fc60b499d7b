"""``banknote-guard gui``: open the desktop application (Qt is imported only when the command runs)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``gui`` sub-command."""
    parser = subparsers.add_parser(
        "gui",
        help="open the desktop application",
        description="Open the desktop application. With --screenshot, save a picture of one page and exit.",
    )
    parser.add_argument("--model", metavar="PATH", help="open this model file instead of the one in the settings")
    parser.add_argument("--dataset", metavar="DIR", help="open this dataset folder on the Datasets page")
    parser.add_argument("--screenshot", metavar="OUT.png", help="save a picture of the window once work has finished, then exit")
    parser.add_argument("--page", default="verify", help="page to show: datasets, training, enrollment, verify, settings, ...")
    parser.add_argument("--samples", action="store_true", help="verify the bundled sample notes at start (Verify page)")
    parser.add_argument("--size", default="1280x800", help="window size WIDTHxHEIGHT (default 1280x800)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the application and return its exit code."""
    from banknote_guard.gui.app import run as run_app

    return run_app(args.model, args.dataset, args.screenshot, args.page, args.samples, args.size)
