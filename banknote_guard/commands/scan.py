"""``banknote-guard scan MODEL [--device NAME] [--resolution DPI]``: scan notes on a document scanner
(SANE) and verify them. Several notes on the glass are found and verified one by one; ``--batch``
scans every sheet in the document feeder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from banknote_guard.commands import capture as shared
from banknote_guard.commands.exit_codes import EXIT_FATAL, EXIT_INTERRUPTED
from banknote_guard.progress import CancelToken


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``scan`` sub-command."""
    p = shared.add_command(
        subparsers, "scan", "scan notes on a document scanner (SANE) and verify them",
        "Scan with a SANE scanner (scanimage) and verify every note on the page: several notes on the glass are "
        "found and verified one by one. --batch scans every sheet in the document feeder. Ctrl+C stops the "
        "scan; the pages already scanned are verified and written.",
    )
    p.add_argument("model", nargs="?", default=None, help="model file (.bgm), or a station folder")
    p.add_argument("--device", default=None, metavar="NAME",
                   help="SANE device name, as --list shows it (default: SANE's default scanner)")
    p.add_argument("--resolution", type=int, default=300, metavar="DPI",
                   help="dots per inch (default 300; rounded to the nearest the scanner offers)")
    p.add_argument("--mode", choices=("color", "gray"), default="color", help="colour mode (default color)")
    p.add_argument("--batch", action="store_true", help="scan every sheet in the document feeder")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="stop a scan that takes longer (default 120)")
    p.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="a further scanner option, e.g. --option source='ADF Duplex' (repeatable)")
    p.add_argument("--save-pages", type=Path, default=None, metavar="DIR",
                   help="also save each scanned page as a PNG file in DIR")
    p.add_argument("--list", action="store_true", help="list the scanners SANE finds and exit")
    shared.add_output_arguments(p)
    p.set_defaults(func=run)


def _options(pairs: list[str]) -> dict[str, str]:
    from banknote_guard.errors import ParameterError

    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--option {pair!r}: write it as NAME=VALUE, e.g. --option source=ADF.")
        out[name.strip()] = value
    return out


def run(args: argparse.Namespace) -> int:
    """Scan, verify each note, print and write the verdicts."""
    from banknote_guard.api import Scanner, list_scanners, save_image, scan_and_verify
    from banknote_guard.errors import ParameterError

    if args.list:
        return shared.print_devices([f"{s.name}\t{s.description}" for s in list_scanners()],
                                    "No scanner found. Check that it is connected and switched on (and its SANE "
                                    "driver installed).")
    if args.model is None:
        raise ParameterError("Give the model file to verify with: banknote-guard scan MODEL [--device NAME].")
    shared.check_json_path(args)
    scanner = Scanner(args.device, resolution=args.resolution, mode=args.mode, batch=args.batch,
                      timeout_s=args.timeout, options=_options(args.option))
    bundle, verifier = shared.prepare(args)
    outputs = shared.Outputs(args, bundle, "scanner")
    cancel = CancelToken()
    if not args.quiet:
        print(f"Scanning with the {scanner.name} at {args.resolution} dpi...", file=sys.stderr, flush=True)

    def work() -> None:
        for page in scan_and_verify(verifier, scanner, cancel=cancel):
            if args.save_pages is not None:
                save_image(args.save_pages / f"page{page.index + 1:03d}.png", page.image)
            for result in page.results:
                outputs.add(result, page.image)

    code, interrupted = shared.run_until_stopped(outputs, work, cancel.cancel,
                                          "Stopping the scan; the pages already scanned are kept.")
    return EXIT_INTERRUPTED if interrupted and code != EXIT_FATAL else code
