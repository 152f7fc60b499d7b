"""JSON reports: the whole document (header, summary, every note with its review) as plain JSON values."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from banknote_guard.jsonable import to_jsonable
from banknote_guard.reports.content import ReportDocument

#: Version of the JSON report layout; raised when a field changes meaning (fields are only added).
JSON_REPORT_VERSION = 1


def document_json(doc: ReportDocument) -> dict[str, Any]:
    """``{"kind", "title", "generated", "context", "header", "summary", "notes"}`` of a report."""
    ctx = doc.context
    s = doc.summary
    raw = s.raw
    notes = []
    for e in doc.notes:
        item: dict[str, Any] = {"number": e.number}
        if e.form_number is not None:
            item["form_number"] = e.form_number
        item.update(e.record.to_json())
        item["review"] = asdict(e.review) if e.review is not None else None
        notes.append(item)
    return to_jsonable({
        "report_version": JSON_REPORT_VERSION,
        "kind": doc.kind,
        "title": doc.header.title,
        "generated": ctx.generated,
        "context": {
            "operator": ctx.operator, "station": ctx.station, "batch": ctx.batch, "since": ctx.since,
            "until": ctx.until, "model": ctx.model, "thresholds": ctx.thresholds,
            "threshold_scale": ctx.threshold_scale, "unknown_threshold": ctx.unknown_threshold,
        },
        "header": {"facts": dict(doc.header.facts), "thresholds": dict(doc.header.thresholds)},
        "summary": {
            "total": s.total,
            "verdicts": dict(s.verdicts),
            "denominations": {d: counts for d, counts, _ in s.denominations},
            "genuine_value": dict(raw.genuine_value) if raw is not None else {},
            "suspect_value": dict(raw.suspect_value) if raw is not None else {},
            "reviews": dict(s.reviews),
        },
        "notes": notes,
    })


def document_json_text(doc: ReportDocument) -> str:
    return json.dumps(document_json(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
