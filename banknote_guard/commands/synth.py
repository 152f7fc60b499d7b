"""``banknote-guard synth OUT``: write a synthetic dataset of fictional banknotes."""

from __future__ import annotations

import argparse

from banknote_guard.progress import TerminalProgress


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``synth`` sub-command."""
    p = subparsers.add_parser(
        "synth",
        help="generate a synthetic dataset (fictional currencies, genuine and counterfeit captures)",
        description="Write OUT/<CURRENCY>/<DENOMINATION>/{genuine,counterfeit}/*.jpg, manifest.csv, "
        "corners.csv and contact_sheet.png. The same options and seed give the same images.",
    )
    p.add_argument("out", help="output folder (empty, or an earlier synth output)")
    p.add_argument("--currencies", type=int, default=2, help="number of fictional currencies, 1-6 (default 2)")
    p.add_argument("--denominations", type=int, default=4, help="denominations per currency, 1-5 (default 4)")
    p.add_argument("--genuine", type=int, default=40, help="genuine images per denomination (default 40)")
    p.add_argument("--counterfeit", type=int, default=20, help="counterfeit images per denomination (default 20)")
    p.add_argument("--width", type=int, default=640, help="note width in pixels in the captures (default 640)")
    p.add_argument("--difficulty", choices=("easy", "normal", "hard"), default="normal",
                   help="how subtle the counterfeit cues are (default normal)")
    p.add_argument("--photo-fraction", type=float, default=0.5,
                   help="share of phone/webcam photos; the rest are flatbed scans (default 0.5)")
    p.add_argument("--methods", default=None,
                   help="comma-separated counterfeit methods (default all): inkjet, laser, colour_shift, "
                   "flat_hologram, missing_security, raised_denomination, high_quality")
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all CPU cores)")
    p.add_argument("--format", dest="image_format", default="jpg", help="image format: jpg or png (default jpg)")
    p.add_argument("--no-contact-sheet", action="store_true", help="skip contact_sheet.png")
    p.add_argument("--overwrite", action="store_true", help="write into a non-empty folder that is not a synth output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the dataset and print a one-line summary."""
    from banknote_guard.api import SynthOptions, generate_synthetic

    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip()) if args.methods else None
    options = SynthOptions(
        currencies=args.currencies,
        denominations_per_currency=args.denominations,
        genuine_per_denomination=args.genuine,
        counterfeit_per_denomination=args.counterfeit,
        methods=methods,
        note_width=args.width,
        difficulty=args.difficulty,
        photo_fraction=args.photo_fraction,
        seed=args.seed,
        jobs=args.jobs,
        contact_sheet=not args.no_contact_sheet,
        image_format=args.image_format,
    )
    summary = generate_synthetic(args.out, options, progress=TerminalProgress(), overwrite=args.overwrite)
    print(f"Wrote {summary.images} images ({summary.per_label['genuine']} genuine, "
          f"{summary.per_label['counterfeit']} counterfeit) to {summary.out} in {summary.seconds:.1f} s "
          f"({summary.images_per_second:.1f} images/s).")
    if summary.failed:
        print(f"{summary.failed} images could not be made; see the log.")
    if summary.contact_sheet:
        print(f"Contact sheet: {summary.contact_sheet}")
    return 0 if summary.failed == 0 else 1
