"""``banknote-guard verify MODEL PATH...``: verify note images and print (or write) the verdicts."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from banknote_guard.commands.exit_codes import (
    EXIT_ALL_GENUINE,
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_NEEDS_A_LOOK,
    EXIT_OUTPUT_FAILED,
    EXIT_UNREADABLE,
)
from banknote_guard.commands.device_args import add_device_argument, apply_device
from banknote_guard.commands.history import add_recording_arguments, finish_recording, recording_verifier
from banknote_guard.errors import OutputError, ParameterError
from banknote_guard.progress import CancelToken, TerminalProgress

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import ModelBundle, VerificationResult

#: Verdict words counted in the summary line and the ``--json`` summary, in order.
SUMMARY_KEYS = ("genuine", "suspect", "uncertain", "unknown", "retake", "error")
#: Report formats this command writes itself (PDF and HTML come from the reports package when present).
TEXT_REPORTS = (".csv", ".json")
#: Report formats laid out by the reports package: a batch report with thumbnails and suspect-note details.
RENDERED_REPORTS = (".pdf", ".html", ".htm")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify`` sub-command."""
    p = subparsers.add_parser(
        "verify",
        help="verify note images: genuine, suspect or unknown",
        description="Verify image files, folders (searched recursively) and glob patterns (quote them; ** "
        "matches sub-folders) with MODEL. A file that cannot be read is reported and the rest go on. "
        "Ctrl+C stops the batch and still prints and writes what was verified.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("model", help="model file (.bgm), or a station folder: its model in use, after the station "
                   "checked its shared folder for a newer one (see 'banknote-guard model')")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image file, folder or glob pattern")
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT.json",
                   help='write {"model": {...}, "summary": {...}, "results": [...]} to this file')
    p.add_argument("--report", default=None, metavar="OUT.pdf",
                   help="write a report; the format follows the file name: .pdf or .html (a batch report with "
                   "thumbnails and the details of every suspect note), .csv or .json (one row per file)")
    p.add_argument("--batch-size", type=int, default=32, help="notes per forward pass (default 32)")
    p.add_argument("--threshold-scale", type=float, default=1.0, metavar="X",
                   help="multiply every threshold of the model by X, 0.5 to 2.0 (default 1.0 = as calibrated; "
                   "below 1 flags more notes as suspect)")
    p.add_argument("--quiet", "-q", action="store_true", help="print no table and no progress")
    add_device_argument(p)
    add_recording_arguments(p)
    p.set_defaults(func=run)


def results_document(bundle: "ModelBundle", results: Sequence["VerificationResult"]) -> dict[str, Any]:
    """The ``--json`` document: ``{"model": ..., "summary": ..., "results": [...]}`` (DESIGN.md §5)."""
    return {"model": bundle.describe(), "summary": summarize(results), "results": [r.to_json() for r in results]}


def summarize(results: Sequence["VerificationResult"]) -> dict[str, int]:
    """Counts of verdicts and errors."""
    out = {"total": len(results), **{k: 0 for k in SUMMARY_KEYS}}
    for r in results:
        out["error" if not r.ok else str(r.verdict)] += 1
    return out


def exit_code(results: Sequence["VerificationResult"]) -> int:
    """0 all genuine, 1 any note needing a look, 3 unreadable files (and no note needing a look)."""
    s = summarize(results)
    if any(s[k] for k in SUMMARY_KEYS if k not in ("genuine", "error")):
        return EXIT_NEEDS_A_LOOK
    if s["error"] or s["total"] == 0:
        return EXIT_UNREADABLE
    return EXIT_ALL_GENUINE


def format_table(results: Sequence["VerificationResult"]) -> str:
    """A plain-text table: path, verdict, denomination, score / threshold."""
    rows = [("PATH", "VERDICT", "DENOMINATION", "SCORE / THRESHOLD")]
    for r in results:
        if r.ok:
            score = (f"{r.counterfeit_score:.2f} / {r.threshold:.2f}"
                     if r.counterfeit_score is not None and r.threshold is not None else "-")
            if r.reasons:
                score += "  (" + "; ".join(r.reasons) + ")"
            rows.append((r.path, str(r.verdict).upper() if r.verdict != "genuine" else "genuine",
                         r.denomination or "-", score))
        else:
            rows.append((r.path, "ERROR", "-", r.error or ""))
    width = [min(w, 60) for w in (max(len(row[i]) for row in rows) for i in range(3))]
    return "\n".join(f"{a:<{width[0]}}  {b:<{width[1]}}  {c:<{width[2]}}  {d}" for a, b, c, d in rows)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_paths(outputs: Sequence[tuple[str, str]], model: str, inputs: Sequence[str]) -> None:
    """Refuse an output that is a folder, the model, one of the inputs or an image among them.

    ``outputs`` are (option, path) pairs. Raises ParameterError before anything is verified, so a typo
    can never destroy a model or a note picture.
    """
    from banknote_guard.api import is_image_file

    seen: dict[str, str] = {}
    for option, raw in outputs:
        out = Path(raw)
        if out.is_dir():
            raise ParameterError(f"{option} {raw!r} is a folder; give a file name such as results.json.")
        if _same_file(out, Path(model)) or os.path.abspath(out) == os.path.abspath(model):
            raise ParameterError(f"{option} {raw!r} is the model file; writing there would destroy the model.")
        for given in inputs:
            g = Path(given)
            if _same_file(out, g) or os.path.abspath(out) == os.path.abspath(g):
                raise ParameterError(f"{option} {raw!r} is one of the inputs; choose another file name.")
            if g.is_dir() and out.exists() and is_image_file(out) and Path(os.path.abspath(out)).is_relative_to(
                os.path.abspath(g)
            ):
                raise ParameterError(f"{option} {raw!r} is an image in the folder being verified; "
                                     "choose another file name.")
        key = os.path.abspath(out)
        if key in seen:
            raise ParameterError(f"{option} and {seen[key]} name the same file {raw!r}.")
        seen[key] = option


def _report_kind(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in TEXT_REPORTS or suffix in RENDERED_REPORTS:
        return suffix
    raise ParameterError(f"--report {path!r}: the file name must end in .pdf, .html, .csv or .json.")


class _Interrupts:
    """First Ctrl+C: stop the batch after the current notes and keep the results; second: abort."""

    def __init__(self, cancel: CancelToken) -> None:
        self.cancel = cancel
        self.previous: Any = None
        self.active = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> "_Interrupts":
        if self.active:
            self.previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self.previous)

    def _on_interrupt(self, signum: int, frame: object) -> None:
        if self.cancel.cancelled:
            signal.signal(signal.SIGINT, self.previous)
            raise KeyboardInterrupt
        self.cancel.cancel()
        print("\nStopping the batch; the notes verified so far will be printed and written "
              "(Ctrl+C again to abort)...", file=sys.stderr)


def write_outputs(args: argparse.Namespace, bundle: "ModelBundle", results: Sequence["VerificationResult"],
                  recorder: Any = None) -> list[str]:
    """Write --json and --report; returns one readable line per output that could not be written.

    A .pdf or .html report names the batch, station and operator the history ``recorder`` used (when
    the notes were recorded), else those of ``--batch-id``, ``--station`` and ``--operator``.
    """
    from banknote_guard.api import results_csv
    from banknote_guard.fileio import atomic_write_text

    failures: list[str] = []
    doc_text = None
    if args.json_out or (args.report and _report_kind(args.report) == ".json"):
        doc_text = json.dumps(results_document(bundle, results), indent=2, allow_nan=False)
    targets = []
    if args.json_out:
        targets.append((args.json_out, doc_text))
    if args.report and _report_kind(args.report) in RENDERED_REPORTS:
        failures += _write_rendered_report(args, bundle, results, recorder)
    elif args.report:
        targets.append((args.report, doc_text if _report_kind(args.report) == ".json" else results_csv(results)))
    for path, text in targets:
        try:
            atomic_write_text(path, text)  # type: ignore[arg-type]
        except OutputError as exc:
            failures.append(str(exc))
    return failures


def _write_rendered_report(args: argparse.Namespace, bundle: "ModelBundle", results: Sequence["VerificationResult"],
                           recorder: Any) -> list[str]:
    """The PDF or HTML batch report of ``--report``; returns the failure line, if any."""
    from banknote_guard.api import report_from_results
    from banknote_guard.errors import BanknoteGuardError

    who = {key: getattr(recorder, key, None) or getattr(args, option, None)
           for key, option in (("batch", "batch_id"), ("station", "station"), ("operator", "operator"))}
    try:
        report_from_results(results, out=args.report, model=bundle, **who)
    except OutputError as exc:
        return [str(exc)]
    except BanknoteGuardError as exc:  # nothing to report, no font, ...
        return [f"the report {args.report!r} was not written: {exc}"]
    return []


def run(args: argparse.Namespace) -> int:
    """Verify and report; see :data:`~banknote_guard.cli_exit.EXIT_CODES_HELP` for the exit codes."""
    from banknote_guard.api import check_threshold_scale, open_model
    from banknote_guard.errors import parameter_error

    if args.report is not None:
        _report_kind(args.report)
    if args.batch_size < 1:
        raise parameter_error("--batch-size", "verify", "an integer >= 1", args.batch_size)
    scale = check_threshold_scale(args.threshold_scale, "verify --threshold-scale")
    outputs = [(o, p) for o, p in (("--json", args.json_out), ("--report", args.report)) if p]
    check_output_paths(outputs, args.model, args.paths)
    apply_device(args)
    bundle = open_model(args.model)
    verifier = recording_verifier(args, bundle, batch_size=args.batch_size, threshold_scale=scale)
    cancel = CancelToken()
    with _Interrupts(cancel):
        results = verifier.verify_paths(
            args.paths, progress=None if args.quiet else TerminalProgress(), cancel=cancel, keep_partial=True
        )
    failures = write_outputs(args, bundle, results, getattr(verifier, "recorder", None))
    if not args.quiet:
        print(format_table(results))
        s = summarize(results)
        counts = ", ".join(f"{s[k]} {k}" + ("(s)" if k == "error" else "") for k in SUMMARY_KEYS if s[k] or k in (
            "genuine", "suspect", "unknown", "error"))
        print(f"\n{s['total']} file(s): {counts}.")
    failures += finish_recording(verifier, args.quiet)
    for r in results:
        if not r.ok and args.quiet:
            print(f"error: {r.error}", file=sys.stderr)
    for line in failures:
        print(f"banknote-guard: error: {line}", file=sys.stderr)
    if cancel.cancelled:
        print("banknote-guard: the batch was stopped; the notes not reached are listed as not verified.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    if failures:
        return EXIT_OUTPUT_FAILED
    return exit_code(results)
