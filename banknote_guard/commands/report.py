"""``banknote-guard report``: a batch report, certificates or hand-over forms from the verification history."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from banknote_guard.commands.exit_codes import EXIT_ALL_GENUINE
from banknote_guard.commands.history import _common, _filters, _open
from banknote_guard.errors import ParameterError
from banknote_guard.progress import TerminalProgress

KINDS = ("batch", "certificate", "handover")
FORMATS = ("pdf", "html", "csv", "json")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``report`` sub-command."""
    p = subparsers.add_parser(
        "report",
        parents=[_common(), _filters()],
        help="write a batch report, certificates or suspect-note hand-over forms (PDF, HTML, CSV, JSON)",
        description="Write a report of notes in the verification history: choose them with --batch, a time span "
        "(--since/--until) or --record, narrow them with the other filters. Kinds: 'batch' (header, counts and "
        "value totals, one row per note, details of every suspect note), 'certificate' (one page per note), "
        "'handover' (one form per suspect note not released after review, to hand the note to the authorities).",
    )
    p.add_argument("--record", action="append", default=None, metavar="ID",
                   help="a record id (its first 8 characters are enough); repeat for several notes")
    p.add_argument("--kind", default="batch", choices=KINDS, help="what to write (default: batch)")
    p.add_argument("--format", default=None, choices=FORMATS, help="default: from the file name of --out")
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file to write (.pdf, .html, .csv, .json)")
    p.add_argument("--title", default=None, metavar="TEXT", help="the report's title (default: one per kind)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from banknote_guard.api import ReportContext, render_report, report_format_for

    if not (args.batch or args.since or args.record):
        raise ParameterError("Say which notes to report: --batch ID, --since TIME (with --until TIME) or --record ID.")
    if args.out.is_dir():
        raise ParameterError(f"--out {str(args.out)!r} is a folder; give a file name such as report.pdf.")
    fmt = args.format or report_format_for(args.out)
    filters = {k: getattr(args, k) for k in ("batch", "since", "until", "verdict", "denomination", "operator", "station")}
    images = fmt in ("pdf", "html")
    with _open(args) as history:
        if args.record:
            chosen = [history.find(rid, with_images=images) for rid in args.record]
            records = sorted({r.id: r for r in chosen}.values(), key=lambda r: r.created)
        else:
            records = history.query(**filters, with_images=images)
        ids = {r.id for r in records}
        reviews = [v for v in history.reviews() if v.record_id in ids]
    context = ReportContext(title=args.title, batch=args.batch, operator=args.operator, station=args.station,
                            since=args.since, until=args.until)
    progress = None if args.quiet else TerminalProgress()
    out = render_report(args.kind, records, context, fmt=fmt, out=args.out, reviews=reviews, progress=progress)
    if not args.quiet:
        suspects = sum(1 for r in records if r.status == "ok" and r.verdict == "suspect")
        what = {"batch": f"the batch report of {len(records)} note(s) ({suspects} suspect)",
                "certificate": f"{len(records)} certificate(s)",
                "handover": f"the hand-over forms of {suspects} suspect note(s), less any released after review"}
        print(f"Wrote {what[args.kind]} to {out}.", file=sys.stderr)
    return EXIT_ALL_GENUINE
