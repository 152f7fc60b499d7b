"""HTML reports: one self-contained file (pictures as data URIs, charts as inline SVG, no script).

The page is made from a Jinja2 template with autoescaping on, so every text that comes from a
record (file names, operators, stations, reasons, review comments) is escaped: a file named
``<script>...`` shows as those characters and runs nothing. A Content-Security-Policy in the page
forbids scripts and outside resources besides.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import jinja2

from banknote_guard.reports.content import (
    SERIAL_BOXES,
    VERDICT_STYLES,
    ReportDocument,
    certificate_statement,
    format_date,
    format_time,
    handover_circumstances,
    missing_text,
    verdict_style,
)
from banknote_guard.reports.images import Pictures, data_uri

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every {{ value }} is HTML-escaped, whatever the file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["time"] = format_time
    env.filters["date"] = format_date
    env.filters["pct"] = lambda f: f"{100.0 * float(f):.2f}"
    return env


def _uri(jpeg: bytes | None) -> str | None:
    return data_uri(jpeg) if jpeg is not None else None


def html_report(doc: ReportDocument, pictures: Pictures, step: Callable[[], None]) -> str:
    """The HTML page of ``doc``."""
    views: list[dict[str, Any]] = []
    detail_numbers = {e.number for e in doc.details}
    for e in doc.notes:
        view: dict[str, Any] = {"e": e, "thumb": _uri(pictures.thumbnail(e.record))}
        if e.number in detail_numbers:
            note, caption = pictures.scored(e.record)
            view["note"] = _uri(note)
            view["note_caption"] = caption
            view["original"] = _uri(pictures.original(e.record)) if doc.kind != "batch" else None
        views.append(view)
        step()
    by_number = {v["e"].number: v for v in views}
    model_id = (doc.context.model or {}).get("id")
    return environment().get_template("report.html.j2").render(
        doc=doc,
        header=doc.header,
        summary=doc.summary,
        views=views,
        details=[by_number[e.number] for e in doc.details],
        styles=VERDICT_STYLES,
        style_of=verdict_style,
        statement=certificate_statement,
        circumstances=handover_circumstances,
        model_id=model_id,
        serial_boxes=SERIAL_BOXES,
        missing_text=missing_text,
    )
