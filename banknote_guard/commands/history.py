"""``banknote-guard history list|batches|show|review|verify-chain|export|sync``: the verification history.

Every sub-command takes ``--history PATH|URL`` (default: ``$BANKNOTE_GUARD_HISTORY``, else the history
file in the user's data folder, the one the desktop application uses). This module also gives
``verify`` its recording options (:func:`add_recording_arguments`, :func:`recording_verifier`,
:func:`finish_recording`).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from banknote_guard.commands.exit_codes import EXIT_ALL_GENUINE, EXIT_NEEDS_A_LOOK
from banknote_guard.errors import ParameterError
from banknote_guard.fileio import atomic_write_bytes, atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import History, HistoryRecorder, ModelBundle, NoteRecord, Review

#: Environment variable naming the history used when ``--history`` is not given.
HISTORY_ENV = "BANKNOTE_GUARD_HISTORY"
#: Records listed by ``history list`` when no ``--limit`` is given (the most recent ones).
DEFAULT_LIST_LIMIT = 200
VERDICT_CHOICES = ("genuine", "suspect", "uncertain", "unknown", "retake", "error")
EXPORT_FORMATS = ("json", "csv", "pdf", "html")
#: Columns of ``history export --format csv``.
CSV_COLUMNS = (
    "id", "created", "batch", "station", "operator", "source", "path", "status", "verdict", "denomination",
    "counterfeit_score", "threshold", "reasons", "model_id", "image_sha256", "review", "reviewer", "reviewed",
    "handover_ref", "serial_number", "error",
)


def history_location(value: str | None) -> str | None:
    """``--history`` as given, else ``$BANKNOTE_GUARD_HISTORY``, else None (the default file)."""
    if value is not None and value.strip():
        return value.strip()
    env = os.environ.get(HISTORY_ENV, "").strip()
    return env or None


def _open(args: argparse.Namespace) -> "History":
    from banknote_guard.api import open_history

    return open_history(history_location(args.history))


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--history", default=None, metavar="PATH|URL",
                   help=f"the history: a SQLite file or postgresql://user:password@host/database (default: "
                   f"${HISTORY_ENV}, else history.sqlite in the user's data folder)")
    return p


def _filters() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--batch", default=None, metavar="ID", help="only this batch")
    p.add_argument("--since", default=None, metavar="TIME", help="from this time on (ISO 8601, UTC unless a zone "
                   "is given: 2026-06-01 or 2026-06-01T08:00+02:00)")
    p.add_argument("--until", default=None, metavar="TIME", help="before this time (ISO 8601)")
    p.add_argument("--verdict", default=None, choices=VERDICT_CHOICES, help="only notes with this verdict")
    p.add_argument("--denomination", default=None, metavar="ID", help="only this denomination, e.g. EUR/20")
    p.add_argument("--operator", default=None, metavar="NAME", help="only notes verified by this operator")
    p.add_argument("--station", default=None, metavar="NAME", help="only notes verified at this desk")
    return p


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``history`` sub-command and its own sub-commands."""
    common, filters = _common(), _filters()
    p = subparsers.add_parser(
        "history",
        help="list, show, review and export verified notes; check the audit trail",
        description="The verification history: every note verified by `verify` or the desktop application, "
        "with its picture, verdict and the operator's review. Records are never changed; a review is added "
        "beside them, and every addition is a link of a hash chain that `verify-chain` checks.",
    )
    sub = p.add_subparsers(dest="history_command", metavar="ACTION")
    sub.required = True

    ls = sub.add_parser("list", parents=[common, filters], help=f"list verified notes (the {DEFAULT_LIST_LIMIT} "
                        "most recent, oldest first)")
    ls.add_argument("--limit", type=int, default=None, metavar="N",
                    help=f"at most the N most recent notes (default {DEFAULT_LIST_LIMIT}; 0 = all)")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.set_defaults(func=run_list)

    bt = sub.add_parser("batches", parents=[common], help="list batches with their counts")
    bt.add_argument("--since", default=None, metavar="TIME", help="batches with notes from this time on")
    bt.add_argument("--until", default=None, metavar="TIME", help="batches with notes before this time")
    bt.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bt.set_defaults(func=run_batches)

    sh = sub.add_parser("show", parents=[common], help="everything recorded about one note, with its reviews")
    sh.add_argument("record", metavar="ID", help="the record id (its first 8 characters are enough)")
    sh.add_argument("--images", type=Path, default=None, metavar="DIR",
                    help="also save the stored picture and straightened note into DIR")
    sh.add_argument("--json", action="store_true", help="print JSON")
    sh.set_defaults(func=run_show)

    rv = sub.add_parser("review", parents=[common], help="record the decision on a suspect note")
    rv.add_argument("record", metavar="ID", help="the record id (its first 8 characters are enough)")
    rv.add_argument("--decision", required=True, choices=("confirmed", "released"),
                    help="confirmed: a counterfeit, withheld and handed over; released: genuine after all")
    rv.add_argument("--by", default=None, metavar="NAME", help="who decided (default: the login name)")
    rv.add_argument("--handover-ref", default=None, metavar="REF", help="reference of the hand-over (police, "
                    "central bank)")
    rv.add_argument("--serial", default=None, metavar="SERIAL", help="the note's serial number")
    rv.add_argument("--comment", default=None, metavar="TEXT", help="circumstances, remarks")
    rv.set_defaults(func=run_review)

    vc = sub.add_parser("verify-chain", parents=[common], help="check the audit trail (exit 0 intact, 1 broken)")
    vc.add_argument("--no-images", action="store_true", help="do not re-hash the stored pictures (faster)")
    vc.add_argument("--json", action="store_true", help="print JSON")
    vc.set_defaults(func=run_verify_chain)

    ex = sub.add_parser("export", parents=[common, filters], help="write the selected notes to a file "
                        "(JSON, CSV; PDF and HTML reports)")
    ex.add_argument("--out", required=True, type=Path, metavar="FILE", help="the file to write")
    ex.add_argument("--format", default=None, choices=EXPORT_FORMATS, help="default: from the file name")
    ex.add_argument("--kind", default="batch", choices=("batch", "certificate", "handover"),
                    help="for PDF and HTML: batch report, one certificate per note, or hand-over forms "
                    "(default batch)")
    ex.set_defaults(func=run_export)

    sy = sub.add_parser("sync", parents=[common], help="send this desk's waiting notes to the history server now")
    sy.set_defaults(func=run_sync)


# --- helpers -------------------------------------------------------------------------------------


def local_time(utc_text: str | None) -> str:
    """A stored UTC time as this computer's local time, to the second."""
    if not utc_text:
        return ""
    try:
        return _dt.datetime.fromisoformat(utc_text).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return utc_text


def _score(r: "NoteRecord") -> str:
    if r.counterfeit_score is None or r.threshold is None:
        return "-"
    return f"{r.counterfeit_score:.2f} / {r.threshold:.2f}"


def _verdict(r: "NoteRecord") -> str:
    if r.status != "ok":
        return "ERROR"
    return "genuine" if r.verdict == "genuine" else str(r.verdict).upper()


def latest_reviews(reviews: Sequence["Review"]) -> dict[str, "Review"]:
    """record id -> its latest review."""
    out: dict[str, Review] = {}
    for rv in reviews:
        out[rv.record_id] = rv
    return out


def table(rows: Sequence[Sequence[str]], widths: Sequence[int]) -> str:
    """Plain-text columns, each cut to its width (the last one is not cut)."""
    lines = []
    for row in rows:
        cells = [str(c)[:w] if i < len(row) - 1 else str(c) for i, (c, w) in enumerate(zip(row, widths))]
        lines.append("  ".join(f"{c:<{w}}" for c, w in zip(cells[:-1], widths)) + "  " + cells[-1])
    return "\n".join(line.rstrip() for line in lines)


def _query_args(args: argparse.Namespace) -> dict[str, Any]:
    return {k: getattr(args, k) for k in ("batch", "since", "until", "verdict", "denomination", "operator", "station")}


# --- sub-commands ----------------------------------------------------------------------------------


def run_list(args: argparse.Namespace) -> int:
    limit = DEFAULT_LIST_LIMIT if args.limit is None else args.limit
    if limit < 0:
        raise ParameterError(f"--limit must be 0 (all) or more, not {limit}.")
    with _open(args) as h:
        records = h.query(**_query_args(args), limit=limit or None, with_images=False, newest_first=True)[::-1]
        reviews = latest_reviews(h.reviews()) if records else {}
        where = h.status()
    if args.json:
        print(json.dumps([{**r.to_json(), "review": reviews[r.id].decision if r.id in reviews else None}
                          for r in records], indent=2, ensure_ascii=False))
        return EXIT_ALL_GENUINE
    rows = [("TIME (local)", "ID", "BATCH", "VERDICT", "DENOMINATION", "SCORE / THRESHOLD", "REVIEW", "FILE")]
    for r in records:
        rv = reviews.get(r.id)
        rows.append((local_time(r.created), r.id[:8], r.batch, _verdict(r), r.denomination or "-", _score(r),
                     rv.decision if rv else "", r.path))
    print(table(rows, (19, 8, 30, 9, 12, 17, 9, 0)))
    more = f" (the most recent {limit}; --limit 0 lists all)" if limit and len(records) == limit else ""
    print(f"\n{len(records)} note(s){more}. History: {where}.")
    return EXIT_ALL_GENUINE


def run_batches(args: argparse.Namespace) -> int:
    with _open(args) as h:
        batches = h.batches(since=args.since, until=args.until)
        where = h.status()
    if args.json:
        print(json.dumps([b.to_json() for b in batches], indent=2, ensure_ascii=False))
        return EXIT_ALL_GENUINE
    rows = [("BATCH", "FIRST (local)", "LAST (local)", "NOTES", "STATION", "OPERATOR", "VERDICTS")]
    for b in batches:
        verdicts = ", ".join(f"{n} {v}" for v, n in sorted(b.verdicts.items()))
        rows.append((b.id, local_time(b.first), local_time(b.last), str(b.count), b.station, b.operator, verdicts))
    print(table(rows, (32, 19, 19, 6, 16, 16, 0)))
    print(f"\n{len(batches)} batch(es). History: {where}.")
    return EXIT_ALL_GENUINE


def run_show(args: argparse.Namespace) -> int:
    with _open(args) as h:
        r = h.find(args.record, with_images=True)
        reviews = h.reviews(r.id)
    saved: list[str] = []
    if args.images is not None:
        for name, data in (("picture", r.image), ("straightened", r.note_image)):
            if data:
                out = args.images / f"{r.id}_{name}.jpg"
                atomic_write_bytes(out, data)
                saved.append(str(out))
    if args.json:
        print(json.dumps({"record": r.to_json(), "reviews": [review_json(v) for v in reviews], "images": saved},
                         indent=2, ensure_ascii=False))
        return EXIT_ALL_GENUINE
    rows = [
        ("Record", r.id),
        ("Verdict", _verdict(r) + (f"  ({r.error})" if r.error else "")),
        ("Denomination", f"{r.denomination or '-'}   score / threshold {_score(r)}"),
        ("Time", f"{r.created} (UTC), {local_time(r.created)} local"),
        ("Batch", r.batch),
        ("Station", f"{r.station}    operator {r.operator}"),
        ("Source", f"{r.source}: {r.path}"),
        ("Picture", f"SHA-256 {r.image_sha256 or '-'}; stored copy {'yes' if r.image else 'no'}, "
                    f"straightened note {'yes' if r.note_image else 'no'}"),
        ("Model", f"{r.model_id or '-'} (SHA-256 {r.model_sha256 or '-'})"),
    ]
    if r.reasons:
        rows.append(("Reasons", "; ".join(r.reasons)))
    if r.distances:
        near = sorted(r.distances.items(), key=lambda kv: (kv[1] is None, kv[1]))[:5]
        rows.append(("Distances", ", ".join(f"{k} {v:.3f}" if v is not None else f"{k} -" for k, v in near)))
    for v in reviews:
        extra = "".join(f", {label} {val}" for label, val in (("hand-over", v.handover_ref),
                                                              ("serial", v.serial_number)) if val)
        rows.append(("Review", f"{v.decision} by {v.reviewer} at {local_time(v.created)}{extra}"
                     + (f": {v.comment}" if v.comment else "")))
    if not reviews and r.status == "ok" and r.verdict != "genuine":
        rows.append(("Review", "none yet (banknote-guard history review ID --decision confirmed|released)"))
    rows += [("Saved", p) for p in saved]
    print("\n".join(f"{label:<13}{value}" for label, value in rows))
    return EXIT_ALL_GENUINE


def review_json(v: "Review") -> dict[str, Any]:
    return {"id": v.id, "record_id": v.record_id, "decision": v.decision, "reviewer": v.reviewer,
            "created": v.created, "handover_ref": v.handover_ref, "serial_number": v.serial_number,
            "comment": v.comment}


def run_review(args: argparse.Namespace) -> int:
    from banknote_guard.api import Review, default_operator

    with _open(args) as h:
        r = h.find(args.record, with_images=False)
        review = Review(record_id=r.id, decision=args.decision, reviewer=(args.by or "").strip() or default_operator(),
                        handover_ref=args.handover_ref, serial_number=args.serial, comment=args.comment)
        h.review(review)
    print(f"Recorded: note {r.id[:8]} ({_verdict(r)}, {r.denomination or '-'}) {review.decision} by {review.reviewer}.")
    return EXIT_ALL_GENUINE


def run_verify_chain(args: argparse.Namespace) -> int:
    with _open(args) as h:
        report = h.verify_chain(check_images=not args.no_images)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(report.text())
    return EXIT_ALL_GENUINE if report.ok else EXIT_NEEDS_A_LOOK


def export_format(args: argparse.Namespace) -> str:
    if args.format:
        return str(args.format)
    suffix = args.out.suffix.lower().lstrip(".")
    fmt = {"htm": "html"}.get(suffix, suffix)
    if fmt not in EXPORT_FORMATS:
        raise ParameterError(f"--out {str(args.out)!r}: end the name in .json, .csv, .pdf or .html, or give --format.")
    return fmt


def export_csv(records: Sequence["NoteRecord"], reviews: dict[str, "Review"]) -> str:
    from banknote_guard.api import rows_csv

    rows = []
    for r in records:
        j = r.to_json()
        rv = reviews.get(r.id)
        j.update({"review": rv.decision if rv else None, "reviewer": rv.reviewer if rv else None,
                  "reviewed": rv.created if rv else None, "handover_ref": rv.handover_ref if rv else None,
                  "serial_number": rv.serial_number if rv else None})
        rows.append([j.get(c) for c in CSV_COLUMNS])
    return rows_csv(CSV_COLUMNS, rows)


def run_export(args: argparse.Namespace) -> int:
    from banknote_guard import api

    fmt = export_format(args)
    filters = _query_args(args)
    if fmt in ("pdf", "html") and "render_report" not in api.__all__:
        raise ParameterError(f"{fmt.upper()} reports need the reports package, which this installation lacks; "
                             "export as .json or .csv.")
    with _open(args) as h:
        records = h.query(**filters, with_images=fmt in ("pdf", "html"))
        all_reviews = h.reviews()
        where = h.location
    ids = {r.id for r in records}
    reviews = [v for v in all_reviews if v.record_id in ids]
    if fmt == "json":
        doc = {"history": where, "exported": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
               "filters": {k: v for k, v in filters.items() if v is not None},
               "records": [r.to_json() for r in records], "reviews": [review_json(v) for v in reviews]}
        atomic_write_text(args.out, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        atomic_write_text(args.out, export_csv(records, latest_reviews(reviews)))
    else:
        context = api.ReportContext(batch=args.batch, operator=args.operator, station=args.station,
                                    since=args.since, until=args.until)
        api.render_report(args.kind, records, context, fmt=fmt, out=args.out, reviews=reviews)
    print(f"Wrote {len(records)} note(s) and {len(reviews)} review(s) to {args.out}.")
    return EXIT_ALL_GENUINE


def run_sync(args: argparse.Namespace) -> int:
    with _open(args) as h:
        report = h.sync()
        where = h.status()
    if report is None:
        print(f"Nothing to send: the history {where} is not a desk of a server.")
        return EXIT_ALL_GENUINE
    print(report.text())
    return EXIT_ALL_GENUINE if report.online and report.waiting == 0 else EXIT_NEEDS_A_LOOK


# --- recording for ``verify`` ----------------------------------------------------------------------


def add_recording_arguments(p: argparse.ArgumentParser) -> None:
    """``verify``'s history options."""
    p.add_argument("--history", default=None, metavar="PATH|URL",
                   help="record every note in this history: a SQLite file or postgresql://user:password@host/db "
                   f"(default: ${HISTORY_ENV}, else history.sqlite in the user's data folder)")
    p.add_argument("--no-history", action="store_true", help="do not record the notes in a history")
    p.add_argument("--batch-id", default=None, metavar="ID", help="the batch the notes are recorded under "
                   "(default: a new id, printed at the end)")
    p.add_argument("--operator", default=None, metavar="NAME", help="operator recorded with the notes "
                   "(default: the login name)")
    p.add_argument("--station", default=None, metavar="NAME", help="desk recorded with the notes "
                   "(default: this computer's name)")


def recording_verifier(args: argparse.Namespace, bundle: "ModelBundle", **verifier_options: Any) -> Any:
    """A Verifier, recording into the history unless ``--no-history``; the history opens here, so a
    history that cannot be opened stops the command before any note is verified."""
    from banknote_guard.api import (
        HistoryDamagedError,
        HistoryError,
        HistoryRecorder,
        RecordingVerifier,
        Verifier,
        open_history,
    )

    if args.no_history:
        return Verifier(bundle, **verifier_options)
    location = history_location(args.history)
    try:
        try:
            history = open_history(location)
        except HistoryDamagedError as exc:  # moved aside, never lost: say so, and start a new file
            print(f"banknote-guard: warning: {exc}", file=sys.stderr)
            history = open_history(location)
    except HistoryError as exc:
        raise HistoryError(f"{exc} (Add --no-history to verify without recording.)") from None
    recorder = HistoryRecorder(history, station=args.station, operator=args.operator, model=bundle,
                               source="file", batch=args.batch_id)
    return RecordingVerifier(bundle, recorder, **verifier_options)


def finish_recording(verifier: Any, quiet: bool = False) -> list[str]:
    """Close the history of a recording verifier (a desk sends its outbox); returns failure lines."""
    recorder: HistoryRecorder | None = getattr(verifier, "recorder", None)
    if recorder is None:
        return []
    failures = []
    try:
        recorder.history.close()
    except Exception as exc:  # noqa: BLE001 - the notes are committed; closing is housekeeping
        failures.append(f"the history could not be closed cleanly: {exc}")
    text = recorder.failure_text()
    if text:
        failures.insert(0, text)
    if not quiet:
        print(f"History: {recorder.recorded} note(s) recorded as batch {recorder.batch} in "
              f"{recorder.history.location}.", file=sys.stderr)
    return failures
