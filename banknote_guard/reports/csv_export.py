"""CSV that spreadsheets open safely: RFC 4180 quoting, formulas neutralised, numbers kept numeric.

A spreadsheet treats a text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula: a note file named ``=cmd|' /C calc'!A0.jpg`` would run a command when
the report is opened. :func:`safe_cell` prefixes such text with ``'``, which spreadsheets show as
text; numbers stay numbers (a negative number is a number, not a formula).
"""

from __future__ import annotations

import csv
import io
import math
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.reports.content import ReportDocument

#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The columns of a verification results CSV, in order.
RESULT_COLUMNS = (
    "path", "status", "verdict", "denomination", "counterfeit_score", "threshold", "note_found", "reasons",
    "seconds", "error",
)


def safe_cell(value: Any) -> Any:
    """A CSV cell value: None -> "", finite numbers as they are, text with a formula start prefixed by '."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else ""
    text = "; ".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def rows_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A whole CSV document (RFC 4180 quoting, CRLF line ends) with every cell passed through :func:`safe_cell`."""
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def results_csv(results: Iterable[Any]) -> str:
    """One row per verification result (columns :data:`RESULT_COLUMNS`)."""
    rows = []
    for r in results:
        j = r.to_json()
        rows.append([j.get(c) for c in RESULT_COLUMNS])
    return rows_csv(RESULT_COLUMNS, rows)


#: The columns of a report's CSV (one row per note of the report), in order; a hand-over report
#: puts ``form_number`` first.
NOTE_COLUMNS = (
    "number", "id", "created", "batch", "station", "operator", "source", "path", "status", "verdict",
    "denomination", "counterfeit_score", "threshold", "reasons", "error", "model_id", "model_sha256",
    "image_sha256", "review", "reviewer", "reviewed", "handover_ref", "serial_number", "comment",
)


def document_csv(doc: "ReportDocument") -> str:
    """One row per note of a report (columns :data:`NOTE_COLUMNS`; hand-over forms add ``form_number``)."""
    handover = doc.kind == "handover"
    header = (("form_number",) if handover else ()) + NOTE_COLUMNS
    rows = []
    for e in doc.notes:
        r, rv = e.record, e.review
        row = [e.number, r.id, r.created, r.batch, r.station, r.operator, r.source, r.path, r.status, r.verdict,
               r.denomination, r.counterfeit_score, r.threshold, list(r.reasons), r.error, r.model_id,
               r.model_sha256, r.image_sha256,
               rv.decision if rv else None, rv.reviewer if rv else None, rv.created if rv else None,
               rv.handover_ref if rv else None, rv.serial_number if rv else None, rv.comment if rv else None]
        rows.append(([e.form_number] if handover else []) + row)
    return rows_csv(header, rows)
