"""``banknote-guard watch MODEL FOLDER``: verify every picture that arrives in a folder (scanner
software, another program), each once, when completely written, in the order they arrive."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from banknote_guard.commands import capture as shared
from banknote_guard.progress import CancelToken


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``watch`` sub-command."""
    p = shared.add_command(
        subparsers, "watch", "verify each picture that arrives in a folder",
        "Watch FOLDER and verify each new picture once it is completely written, in the order they arrive. A "
        "journal in the folder (.banknote_guard-watch.jsonl) remembers what was verified, so a restart goes on "
        "with the pictures that arrived meanwhile and repeats none. Ctrl+C stops watching; the pictures being "
        "verified are finished and written first.",
    )
    p.add_argument("model", help="model file (.bgm), or a station folder")
    p.add_argument("folder", type=Path, help="the folder to watch")
    p.add_argument("--recursive", action="store_true", help="also watch its sub-folders")
    p.add_argument("--poll", type=float, default=0.5, metavar="SECONDS", help="look every SECONDS (default 0.5)")
    p.add_argument("--settle", type=float, default=1.0, metavar="SECONDS",
                   help="a file unchanged for SECONDS is complete (default 1.0; raise it for slow network copies)")
    p.add_argument("--journal", type=Path, default=None, metavar="FILE",
                   help="keep the journal in FILE instead of the folder (a read-only folder)")
    shared.add_output_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Watch until Ctrl+C; print each verdict as it comes."""
    from banknote_guard.api import watch_folder
    from banknote_guard.errors import parameter_error

    for name in ("poll", "settle"):
        value = getattr(args, name)
        if not 0.0 < value <= 3600.0:
            raise parameter_error(f"--{name}", "watch", "a number of seconds in (0, 3600]", value)
    shared.check_json_path(args, args.journal)
    bundle, verifier = shared.prepare(args)
    outputs = shared.Outputs(args, bundle, "watched-folder")
    cancel = CancelToken()
    if not args.quiet:
        print(f"Watching {args.folder}; Ctrl+C stops.", file=sys.stderr, flush=True)

    def work() -> None:  # a folder that vanishes or cannot be read ends it; what was verified is kept
        watch_folder(verifier, args.folder, on_result=lambda arrival, result: outputs.add(result), cancel=cancel,
                     poll_s=args.poll, settle_s=args.settle, journal=args.journal, recursive=args.recursive)

    code, _ = shared.run_until_stopped(outputs, work, cancel.cancel,
                                       "Stopping; the pictures being verified are finished first.")
    return code
