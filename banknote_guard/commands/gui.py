"""``banknote-guard gui``: open the desktop application (Qt is imported only when the command runs)."""

from __future__ import annotations

import argparse
from typing import Any

from banknote_guard.gui.launcher import add_arguments, check_display


def register(subparsers: Any) -> None:
    """Add the ``gui`` sub-command."""
    parser = subparsers.add_parser(
        "gui",
        help="open the desktop application",
        description="Open the desktop application. With --screenshot, save a picture of one page and exit.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the application and return its exit code."""
    check_display()
    from banknote_guard.gui.app import run as run_app

    return run_app(args.model, args.dataset, args.screenshot, args.page, args.samples, args.size)
