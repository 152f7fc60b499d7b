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
from typing import Any, Iterable, Sequence

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
