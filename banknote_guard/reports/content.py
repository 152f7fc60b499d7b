"""What a report says, independent of its format: header, summary, one entry per note, details.

:func:`build_document` turns records (from the history or a live batch), reviews and a
:class:`~banknote_guard.reports.context.ReportContext` into a :class:`ReportDocument`; the PDF, HTML,
CSV and JSON writers only lay it out. Counts and value totals come from
:mod:`banknote_guard.verify.summary` (the same numbers as the Verify page): only a note whose
verdict is "genuine" adds to the genuine value; suspect notes are totalled apart as withheld, and
every other verdict (uncertain, unknown, retake) and every error adds to no value at all.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from dataclasses import dataclass, field
from pathlib import PurePath, PureWindowsPath
from typing import Any, Iterable, Sequence

from banknote_guard.errors import BanknoteGuardError, parameter_error
from banknote_guard.history.records import NoteRecord, Review
from banknote_guard.reports.charts import DistanceChart, Gauge, distance_chart, score_gauge
from banknote_guard.reports.context import ReportContext
from banknote_guard.verify.result import VerificationResult
from banknote_guard.verify.summary import BatchSummary, denomination_value

#: The kinds of report: a batch (shift) report, one certificate per note, one hand-over form per suspect note.
REPORT_KINDS = ("batch", "certificate", "handover")
#: Verdict keys in the order reports list them ("error": the picture could not be used).
VERDICT_ORDER = ("genuine", "suspect", "uncertain", "unknown", "retake", "error")
#: Notes that get a detail section (straightened image, distance chart) in a batch report.
DETAIL_VERDICTS = ("suspect", "uncertain")
#: Default titles, per kind.
TITLES = {"batch": "Batch report", "certificate": "Verification certificate", "handover": "Suspect note hand-over form"}


class ReportError(BanknoteGuardError):
    """A report cannot be made from what was given (no notes, no suspect note to hand over, ...)."""


@dataclass(frozen=True)
class VerdictStyle:
    """How a verdict is shown: symbol and word (never colour alone), colours, the operator's action."""

    key: str
    symbol: str
    word: str
    foreground: str
    background: str
    action: str

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.word}"


VERDICT_STYLES: dict[str, VerdictStyle] = {
    "genuine": VerdictStyle("genuine", "\u2714", "GENUINE", "#14532d", "#dcfce7", "accept"),
    "suspect": VerdictStyle("suspect", "\u2716", "SUSPECT", "#ffffff", "#b91c1c", "withhold, hand to the authorities"),
    "uncertain": VerdictStyle("uncertain", "!", "UNCERTAIN", "#713f12", "#fef08a", "withhold, check by hand"),
    "unknown": VerdictStyle("unknown", "?", "UNKNOWN", "#1e3a8a", "#dbeafe", "return / check"),
    "retake": VerdictStyle("retake", "\u21bb", "RETAKE", "#581c87", "#f3e8ff", "capture again"),
    "error": VerdictStyle("error", "\u26a0", "ERROR", "#ffffff", "#4b5563", "the picture could not be used"),
}


def verdict_key(record: NoteRecord) -> str:
    """The record's verdict key: its verdict, or "error" when the picture could not be used."""
    if record.status != "ok" or not record.verdict:
        return "error"
    return str(record.verdict)


def verdict_style(key: str) -> VerdictStyle:
    """The style of a verdict key; a verdict this version does not know is shown as itself, in grey."""
    style = VERDICT_STYLES.get(key)
    if style is None:
        style = VerdictStyle(key, "\u2022", key.upper(), "#111827", "#e5e7eb", "check by hand")
    return style


# --- text --------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def one_line(text: Any) -> str:
    """Text for a single line: line breaks and control characters become spaces."""
    return _CONTROL.sub(" ", str(text).replace("\r\n", " ").replace("\n", " ").replace("\t", " "))


def file_name(path: str) -> str:
    """The last part of a path (POSIX or Windows), or the whole text for names such as "camera 0"."""
    name = PureWindowsPath(path).name if "\\" in path else PurePath(path).name
    return name or path


def format_time(iso: str | None) -> str:
    """``2026-11-29T10:04:12.123456+00:00`` -> ``2026-11-29 10:04:12 UTC``; text that is no time stays as it is."""
    if not iso:
        return "\u2014"
    try:
        t = _dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return one_line(iso)
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.timezone.utc)
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_date(iso: str | None) -> str:
    """The date part of :func:`format_time`."""
    return format_time(iso).split(" ")[0]


def format_number(value: float | None, digits: int = 2) -> str:
    """A score or distance for a person; "n/a" for a missing or non-finite number."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "n/a"
    return f"{value:.{digits}f}"


def format_money(value: float) -> str:
    """``1234.0`` -> ``1,234``; ``12.5`` -> ``12.50``."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def score_text(record: NoteRecord) -> str:
    """``"2.31 / 1.80"``: the counterfeit score and the threshold it was judged against."""
    if record.counterfeit_score is None and record.threshold is None:
        return "\u2014"
    return f"{format_number(record.counterfeit_score)} / {format_number(record.threshold)}"


#: Boxes for the serial number on a hand-over form (serial numbers are usually 8 to 12 characters).
SERIAL_BOXES = 18


def missing_text(stored: bytes | None) -> str:
    """What an empty picture frame says: nothing was stored, or what was stored is not a picture."""
    return "picture damaged" if stored else "no picture stored"


# --- the document ------------------------------------------------------------------------------------


@dataclass
class NoteEntry:
    """One note as a report shows it."""

    number: int
    record: NoteRecord
    key: str
    style: VerdictStyle
    review: Review | None
    name: str
    score: str
    gauge: Gauge | None
    chart: DistanceChart
    form_number: str | None = None

    @property
    def reasons(self) -> list[str]:
        return [one_line(r) for r in self.record.reasons]

    @property
    def reasons_text(self) -> str:
        """The reasons as one text: sentences follow each other, other items are separated by "; "."""
        out = ""
        for r in self.reasons:
            if out:
                out += " " if out.rstrip().endswith((".", "!", "?", ")")) and r[:1].isupper() else "; "
            out += r
        return out

    @property
    def error(self) -> str | None:
        return one_line(self.record.error) if self.record.error else None

    @property
    def value(self) -> tuple[str, float] | None:
        return denomination_value(self.record.denomination)


@dataclass
class Header:
    """The report's header lines, ready to show (label, value) plus the thresholds table."""

    title: str
    kind: str
    facts: list[tuple[str, str]]
    thresholds: list[tuple[str, str]]
    generated: str


@dataclass
class Summary:
    """Counts per verdict and denomination, value totals per currency, reviews."""

    total: int
    verdicts: list[tuple[str, int]]
    denominations: list[tuple[str, dict[str, int], str]]
    genuine_value: list[tuple[str, str]]
    suspect_value: list[tuple[str, str]]
    reviews: dict[str, int] = field(default_factory=dict)
    raw: BatchSummary | None = None

    def counts(self) -> dict[str, int]:
        return dict(self.verdicts)


@dataclass
class ReportDocument:
    """Everything a report shows; the writers only lay it out."""

    kind: str
    context: ReportContext
    header: Header
    summary: Summary
    notes: list[NoteEntry]
    details: list[NoteEntry]


def latest_reviews(reviews: Iterable[Review] | None) -> dict[str, Review]:
    """record id -> its latest review (by time; a later event overrides an earlier one)."""
    out: dict[str, Review] = {}
    for r in sorted(reviews or (), key=lambda r: str(r.created)):
        out[r.record_id] = r
    return out


def summarise_records(records: Sequence[NoteRecord], reviews: dict[str, Review] | None = None) -> Summary:
    """The :class:`Summary` of ``records`` (counts and totals by :class:`BatchSummary`)."""
    batch = BatchSummary()
    for r in records:
        batch.add(VerificationResult(path=r.path, status="ok" if r.status == "ok" else "error",
                                     verdict=r.verdict if r.status == "ok" else None,  # type: ignore[arg-type]
                                     denomination=r.denomination))
    verdicts = [(k, batch.verdicts.get(k, 0)) for k in VERDICT_ORDER]
    verdicts += [(k, n) for k, n in sorted(batch.verdicts.items()) if k not in VERDICT_ORDER]
    denominations = []
    for denom in sorted(batch.per_denomination):
        counts = dict(batch.per_denomination[denom])
        value = denomination_value(denom)
        worth = f"{format_money(value[1] * counts.get('genuine', 0))} {value[0]}" if value else "\u2014"
        denominations.append((denom, counts, worth))
    decisions: dict[str, int] = {}
    ids = {r.id for r in records}
    for rid, review in (reviews or {}).items():
        if rid in ids:
            decisions[review.decision] = decisions.get(review.decision, 0) + 1
    return Summary(
        total=batch.total,
        verdicts=verdicts,
        denominations=denominations,
        genuine_value=[(c, format_money(v)) for c, v in sorted(batch.genuine_value.items())],
        suspect_value=[(c, format_money(v)) for c, v in sorted(batch.suspect_value.items())],
        reviews=decisions,
        raw=batch,
    )


def _distinct(values: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(one_line(v), None)
    return list(seen)


def _several(values: list[str], none: str = "not recorded", limit: int = 4) -> str:
    if not values:
        return none
    if len(values) <= limit:
        return ", ".join(values)
    return ", ".join(values[:limit]) + f" and {len(values) - limit} more"


def _thresholds(records: Sequence[NoteRecord], context: ReportContext) -> list[tuple[str, str]]:
    if context.thresholds:
        return [(one_line(d), format_number(t)) for d, t in sorted(context.thresholds.items())]
    seen: dict[str, set[float]] = {}
    for r in records:
        if r.denomination and r.threshold is not None and math.isfinite(r.threshold):
            seen.setdefault(r.denomination, set()).add(round(float(r.threshold), 2))
    rows = []
    for denom, values in sorted(seen.items()):
        lo, hi = min(values), max(values)
        rows.append((one_line(denom), format_number(lo) if lo == hi else f"{format_number(lo)}\u2013{format_number(hi)}"))
    return rows


def build_header(kind: str, records: Sequence[NoteRecord], context: ReportContext) -> Header:
    """The header facts: operator, station, batch, time span, model, thresholds."""
    times = sorted(str(r.created) for r in records if r.created)
    since = context.since or (times[0] if times else None)
    until = context.until or (times[-1] if times else None)
    model = context.model or {}
    model_ids = _distinct([model.get("id")] if model.get("id") else [r.model_id for r in records])
    facts = [
        ("Operator", one_line(context.operator) if context.operator else _several(_distinct(r.operator for r in records))),
        ("Station", one_line(context.station) if context.station else _several(_distinct(r.station for r in records))),
        ("Batch", one_line(context.batch) if context.batch else _several(_distinct(r.batch for r in records))),
        ("Time span", f"{format_time(since)} \u2013 {format_time(until)}"),
        ("Model", _several(model_ids)),
    ]
    sha = model.get("sha256") or next((r.model_sha256 for r in records if r.model_sha256), None)
    if sha and len(model_ids) <= 1:
        facts.append(("Model SHA-256", one_line(sha)))
    if isinstance(model.get("false_alarm_rate"), (int, float)):
        facts.append(("False-alarm rate", f"{100 * float(model['false_alarm_rate']):g} % of genuine notes"))
    if context.threshold_scale is not None:
        calibrated = " (as calibrated)" if context.threshold_scale == 1 else ""
        facts.append(("Threshold scale", f"{context.threshold_scale:g}{calibrated}"))
    if context.unknown_threshold is not None:
        facts.append(("Unknown above", format_number(context.unknown_threshold)))
    title = one_line(context.title) if context.title else TITLES[kind]
    return Header(title=title, kind=kind, facts=facts, thresholds=_thresholds(records, context),
                  generated=format_time(context.generated))


#: What a certificate says each verdict means.
STATEMENTS = {
    "genuine": "No counterfeit evidence was found: the note matched its denomination and every check passed.",
    "suspect": "Counterfeit evidence was found: the note must be withheld and handed to the authorities.",
    "uncertain": "The note could not be clearly authenticated: it must be withheld and checked by hand.",
    "unknown": "The picture does not show a note of a denomination the model knows: return it or check it by hand.",
    "retake": "The picture was not good enough to judge (see the reasons): the note must be captured again.",
    "error": "The picture could not be used, so the note was not judged.",
}


def certificate_statement(e: NoteEntry, model_id: str | None) -> str:
    """The certificate's closing statement: what was verified, when, where, by whom, and the result."""
    r = e.record
    return (f"This certificate records that the note pictured above was verified on {format_time(r.created)} "
            f"at station {one_line(r.station)} by operator {one_line(r.operator)} with model "
            f"{one_line(model_id or r.model_id or 'not recorded')}. Result: {e.style.word}. {STATEMENTS.get(e.key, '')} "
            "The result rests on the picture and the model named here; it is not a forensic examination of the note.")


def handover_circumstances(e: NoteEntry, model_id: str | None) -> str:
    """The circumstances a hand-over form states for a suspect note (the operator adds to them by hand)."""
    r = e.record
    text = (f"Presented at station {one_line(r.station)} and verified on {format_time(r.created)} by operator "
            f"{one_line(r.operator)} (batch {one_line(r.batch)}, {r.source} {e.name}). Banknote Guard (model "
            f"{one_line(model_id or r.model_id or 'not recorded')}) rated the note SUSPECT: counterfeit score "
            f"{format_number(r.counterfeit_score)} above the threshold {format_number(r.threshold)}.")
    if e.reasons:
        text += " " + " ".join(e.reasons)
    return text


def handover_number(record: NoteRecord, review: Review | None) -> str:
    """The hand-over form's number: the review's hand-over reference, else one made from the note.

    The made-up number (``HO-<date>-<first 8 characters of the record id>``) is the same every time
    the form is printed again, and unique like the record's UUID.
    """
    if review is not None and review.handover_ref:
        return one_line(review.handover_ref)
    day = format_date(record.created).replace("-", "")
    return f"HO-{day}-{record.id.replace('-', '')[:8].upper()}"


def build_document(
    kind: str,
    records: Sequence[NoteRecord],
    context: ReportContext | None = None,
    reviews: Iterable[Review] | None = None,
) -> ReportDocument:
    """The :class:`ReportDocument` of ``kind`` for ``records``.

    ``batch``: every note, with a detail section for each suspect or uncertain note.
    ``certificate``: one certificate per note. ``handover``: one form per suspect note that no
    review released.

    Raises:
        ParameterError: an unknown kind.
        ReportError: no notes, or (hand-over) no suspect note.
    """
    if kind not in REPORT_KINDS:
        raise parameter_error("kind", "the report", f"one of {', '.join(REPORT_KINDS)}", kind)
    context = context or ReportContext()
    records = list(records)
    if not records:
        raise ReportError("There are no notes to report: the batch or time span holds no verified note.")
    by_record = latest_reviews(reviews)
    entries = []
    for i, record in enumerate(records, 1):
        key = verdict_key(record)
        entries.append(NoteEntry(
            number=i, record=record, key=key, style=verdict_style(key), review=by_record.get(record.id),
            name=one_line(file_name(record.path)), score=score_text(record),
            gauge=score_gauge(record.counterfeit_score, record.threshold),
            chart=distance_chart(record.distances, record.denomination),
        ))
    summary = summarise_records(records, by_record)
    header = build_header(kind, records, context)
    if kind == "batch":
        return ReportDocument(kind, context, header, summary, entries, [e for e in entries if e.key in DETAIL_VERDICTS])
    if kind == "certificate":
        return ReportDocument(kind, context, header, summary, entries, entries)
    forms = [e for e in entries if e.key == "suspect" and not (e.review and e.review.decision == "released")]
    if not forms:
        raise ReportError("There is no suspect note to hand over among the notes chosen "
                          "(notes released after review are not handed over).")
    for e in forms:
        e.form_number = handover_number(e.record, e.review)
    return ReportDocument(kind, context, header, summary, forms, forms)
