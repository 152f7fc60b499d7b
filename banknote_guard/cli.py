"""The ``banknote-guard`` command line.

Each sub-command lives in its own module under :mod:`banknote_guard.commands`; the module defines
``register(subparsers)``, which adds its parser and sets ``func`` (``func(args) -> int`` exit code).
Errors derived from :class:`~banknote_guard.errors.BanknoteGuardError` are printed as one readable
line and exit with code 2 (4 when an output could not be written; see
:mod:`banknote_guard.commands.exit_codes`); nothing prints a traceback at an operator.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Sequence

from banknote_guard import __version__
from banknote_guard.commands.exit_codes import EXIT_FATAL, EXIT_INTERRUPTED, EXIT_OUTPUT_FAILED
from banknote_guard.errors import BanknoteGuardError, CancelledError, OutputError

#: Sub-command modules, in the order ``--help`` lists them.
COMMAND_MODULES = (
    "synth",
    "inspect",
    "train",
    "enroll",
    "verify",
    "capture",
    "scan",
    "watch",
    "evaluate",
    "upgrade_model",
    "publish",
    "history",
    "report",
    "demo",
    "gui",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="banknote-guard",
        description="Tell genuine banknotes from counterfeits with a Siamese network.",
    )
    parser.add_argument("--version", action="version", version=f"banknote-guard {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"banknote_guard.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"banknote_guard.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except CancelledError:
        print("banknote-guard: cancelled.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\nbanknote-guard: interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OutputError as exc:
        print(f"banknote-guard: error: {exc}", file=sys.stderr)
        return EXIT_OUTPUT_FAILED
    except BanknoteGuardError as exc:
        print(f"banknote-guard: error: {exc}", file=sys.stderr)
        return EXIT_FATAL
    except ModuleNotFoundError as exc:  # a station (no training extra) asked to build models
        from banknote_guard.api import missing_training_package, station_message

        package = missing_training_package(exc)
        if package is None:
            raise
        print(f"banknote-guard: error: {station_message(repr(args.command), package)}", file=sys.stderr)
        return EXIT_FATAL


if __name__ == "__main__":
    sys.exit(main())
