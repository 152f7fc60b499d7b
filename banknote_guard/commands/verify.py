"""``banknote-guard verify MODEL PATH...``: verify note images and print (or write) the verdicts."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from banknote_guard.progress import TerminalProgress

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import ModelBundle, VerificationResult

#: Exit codes of ``verify`` (also shown in ``--help``).
EXIT_ALL_GENUINE = 0
EXIT_SUSPECT = 1
EXIT_FATAL = 2
EXIT_UNREADABLE = 3

CSV_COLUMNS = (
    "path", "status", "verdict", "denomination", "counterfeit_score", "threshold", "note_found", "seconds", "error",
)

EPILOG = """exit codes:
  0  every note was verified and found genuine
  1  at least one note is suspect or unknown (whatever else happened)
  2  fatal error (model file unusable, bad arguments, ...)
  3  some files could not be read (or only errors) and no note is suspect
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify`` sub-command."""
    p = subparsers.add_parser(
        "verify",
        help="verify note images: genuine, suspect or unknown",
        description="Verify image files, folders (searched recursively) and glob patterns (quote them; ** "
        "matches sub-folders) with MODEL. A file that cannot be read is reported and the rest go on.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="model file (.bgm)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image file, folder or glob pattern")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT.json",
                   help='write {"model": {...}, "results": [...]} to this file')
    p.add_argument("--report", default=None, metavar="OUT.csv",
                   help="write a report; .csv and .json are available in this version")
    p.add_argument("--batch-size", type=int, default=32, help="notes per forward pass (default 32)")
    p.add_argument("--threshold-scale", type=float, default=1.0, metavar="X",
                   help="multiply every threshold of the model by X, 0.5 to 2.0 (default 1.0 = as calibrated; "
                   "below 1 flags more notes as suspect)")
    p.add_argument("--quiet", "-q", action="store_true", help="print no table and no progress")
    p.set_defaults(func=run)


def results_document(bundle: "ModelBundle", results: Sequence["VerificationResult"]) -> dict[str, Any]:
    """The ``--json`` document: ``{"model": ..., "summary": ..., "results": [...]}`` (DESIGN.md §5)."""
    return {"model": bundle.describe(), "summary": summarize(results), "results": [r.to_json() for r in results]}


def summarize(results: Sequence["VerificationResult"]) -> dict[str, int]:
    """Counts of verdicts and errors."""
    out = {"total": len(results), "genuine": 0, "suspect": 0, "unknown": 0, "error": 0}
    for r in results:
        out["error" if not r.ok else str(r.verdict)] += 1
    return out


def exit_code(results: Sequence["VerificationResult"]) -> int:
    """0 all genuine, 1 any suspect/unknown, 3 unreadable files (and none suspect)."""
    s = summarize(results)
    if s["suspect"] or s["unknown"]:
        return EXIT_SUSPECT
    if s["error"] or s["total"] == 0:
        return EXIT_UNREADABLE
    return EXIT_ALL_GENUINE


def results_csv(results: Sequence["VerificationResult"]) -> str:
    """One CSV row per result (columns :data:`CSV_COLUMNS`)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in results:
        j = r.to_json()
        w.writerow(["" if j.get(c) is None else j.get(c) for c in CSV_COLUMNS])
    return buf.getvalue()


def format_table(results: Sequence["VerificationResult"]) -> str:
    """A plain-text table: path, verdict, denomination, score / threshold."""
    rows = [("PATH", "VERDICT", "DENOMINATION", "SCORE / THRESHOLD")]
    for r in results:
        if r.ok:
            rows.append((r.path, str(r.verdict).upper() if r.verdict != "genuine" else "genuine",
                         r.denomination or "-", f"{r.counterfeit_score:.2f} / {r.threshold:.2f}"))
        else:
            rows.append((r.path, "ERROR", "-", r.error or ""))
    width = [min(w, 60) for w in (max(len(row[i]) for row in rows) for i in range(3))]
    return "\n".join(f"{a:<{width[0]}}  {b:<{width[1]}}  {c:<{width[2]}}  {d}" for a, b, c, d in rows)


def run(args: argparse.Namespace) -> int:
    """Verify and report; see :data:`EPILOG` for the exit codes."""
    from banknote_guard.api import Verifier, check_threshold_scale, load_model
    from banknote_guard.errors import ParameterError, parameter_error
    from banknote_guard.fileio import atomic_write_text

    if args.report is not None:
        suffix = Path(args.report).suffix.lower()
        if suffix in (".pdf", ".html", ".htm"):
            raise ParameterError(
                f"{suffix[1:].upper()} reports are not available in this version; use --report OUT.csv or --json OUT.json."
            )
        if suffix not in (".csv", ".json"):
            raise parameter_error("--report", "verify", "a file name ending in .csv or .json", args.report)
    if args.batch_size < 1:
        raise parameter_error("--batch-size", "verify", "an integer >= 1", args.batch_size)
    scale = check_threshold_scale(args.threshold_scale, "verify --threshold-scale")
    bundle = load_model(args.model)
    verifier = Verifier(bundle, batch_size=args.batch_size, threshold_scale=scale)
    results = verifier.verify_paths(args.paths, progress=None if args.quiet else TerminalProgress())
    doc_text = None
    if args.json_out or (args.report and args.report.lower().endswith(".json")):
        doc_text = json.dumps(results_document(bundle, results), indent=2, allow_nan=False)
    if args.json_out:
        atomic_write_text(args.json_out, doc_text)  # type: ignore[arg-type]
    if args.report:
        atomic_write_text(args.report, doc_text if args.report.lower().endswith(".json") else results_csv(results))
    if not args.quiet:
        print(format_table(results))
        s = summarize(results)
        print(f"\n{s['total']} file(s): {s['genuine']} genuine, {s['suspect']} suspect, {s['unknown']} unknown, "
              f"{s['error']} error(s).")
    for r in results:
        if not r.ok and args.quiet:
            print(f"error: {r.error}", file=sys.stderr)
    return exit_code(results)
