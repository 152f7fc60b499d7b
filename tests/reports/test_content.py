"""The format-neutral report: counts, value totals (fail closed), header facts, kinds, charts."""

from __future__ import annotations

import math

import pytest

from banknote_guard.errors import ParameterError
from banknote_guard.history.records import NoteRecord
from banknote_guard.reports.charts import distance_chart, score_gauge
from banknote_guard.reports.content import ReportError, build_document, file_name, format_time, one_line
from banknote_guard.reports.context import ReportContext


def test_counts_and_value_totals_of_the_fixed_batch(records, context) -> None:
    doc = build_document("batch", records, context)
    s = doc.summary
    assert s.total == 20
    assert dict(s.verdicts) == {"genuine": 9, "suspect": 4, "uncertain": 2, "unknown": 2, "retake": 2, "error": 1}
    assert s.genuine_value == [("KRT", "80"), ("VLM", "20")]
    assert s.suspect_value == [("KRT", "20"), ("VLM", "20")]
    per = {d: c for d, c, _ in s.denominations}
    assert per["KRT/10"] == {"genuine": 3, "suspect": 2}
    assert per["KRT/20"] == {"genuine": 2, "uncertain": 2}
    worth = {d: w for d, _, w in s.denominations}
    assert worth["KRT/10"] == "30 KRT" and worth["VLM/10"] == "20 VLM"
    # details: every suspect and uncertain note, in order
    assert [e.key for e in doc.details] == ["suspect", "uncertain", "suspect"] * 2
    assert [e.number for e in doc.notes] == list(range(1, 21))


def test_only_a_clear_genuine_adds_to_the_genuine_value() -> None:
    base = dict(batch="b", station="s", operator="o", source="file", denomination="KRT/100", counterfeit_score=0.5,
                threshold=1.0)
    notes = [
        NoteRecord(path="ok.jpg", verdict="genuine", **base),
        NoteRecord(path="uncertain.jpg", verdict="uncertain", **base),
        NoteRecord(path="retake.jpg", verdict="retake", **base),
        NoteRecord(path="unknown.jpg", verdict="unknown", **base),
        NoteRecord(path="broken.jpg", status="error", verdict="genuine", **base),  # an error is never genuine
        NoteRecord(path="none.jpg", verdict=None, **base),  # no verdict at all: counted as an error
        NoteRecord(path="odd.jpg", verdict="recount", **base),  # a verdict this version does not know
    ]
    s = build_document("batch", notes).summary
    assert s.genuine_value == [("KRT", "100")]
    assert s.suspect_value == []
    counts = dict(s.verdicts)
    assert counts["genuine"] == 1 and counts["error"] == 2 and counts["recount"] == 1
    assert counts["uncertain"] == counts["retake"] == counts["unknown"] == 1


def test_header_takes_what_the_context_leaves_out_from_the_records(make_records) -> None:
    a = make_records(3, operator="Ann", station="desk 1", batch="b1")
    b = make_records(3, operator="Bob", station="desk 2", batch="b2", seed=5)
    doc = build_document("batch", a + b, ReportContext())
    facts = dict(doc.header.facts)
    assert facts["Operator"] == "Ann, Bob"
    assert facts["Station"] == "desk 1, desk 2"
    assert facts["Batch"] == "b1, b2"
    assert facts["Model"] == "0123456789ab"
    assert facts["Time span"] == "2026-11-29 08:00:00 UTC \u2013 2026-11-29 08:00:02 UTC"
    # thresholds seen on the notes, per denomination
    assert dict(doc.header.thresholds) == {"KRT/10": "1.80", "KRT/5": "1.80"}


def test_context_facts_win_and_are_made_one_line(records) -> None:
    ctx = ReportContext(operator="Eve\nEvil", station="desk\t9", since="2026-11-29T00:00:00Z",
                        until="2026-11-30T00:00:00Z", thresholds={"KRT/5": 2.0}, threshold_scale=0.9)
    facts = dict(build_document("batch", records, ctx).header.facts)
    assert facts["Operator"] == "Eve Evil" and facts["Station"] == "desk 9"
    assert facts["Time span"] == "2026-11-29 00:00:00 UTC \u2013 2026-11-30 00:00:00 UTC"
    assert facts["Threshold scale"] == "0.9"


def test_handover_forms_only_for_suspect_notes_not_released(records, review_of) -> None:
    suspects = [r for r in records if r.verdict == "suspect"]
    reviews = [review_of(suspects[0], "released"), review_of(suspects[1], "confirmed", handover_ref="POL-2026-77")]
    doc = build_document("handover", records, None, reviews)
    assert [e.record.id for e in doc.notes] == [r.id for r in suspects[1:]]
    assert doc.notes[0].form_number == "POL-2026-77"
    assert doc.notes[1].form_number.startswith("HO-20261129-")
    # the same note gets the same number every time
    again = build_document("handover", records, None, reviews)
    assert [e.form_number for e in again.notes] == [e.form_number for e in doc.notes]
    assert doc.summary.reviews == {"released": 1, "confirmed": 1}


def test_the_latest_review_of_a_note_counts(records, review_of) -> None:
    s = next(r for r in records if r.verdict == "suspect")
    reviews = [review_of(s, "released", created="2026-11-29T13:00:00+00:00"),
               review_of(s, "confirmed", created="2026-11-29T12:00:00+00:00")]
    doc = build_document("batch", records, None, reviews)
    assert next(e for e in doc.notes if e.record.id == s.id).review.decision == "released"


def test_nothing_to_report_is_a_clear_error(records) -> None:
    with pytest.raises(ReportError, match="no notes to report"):
        build_document("batch", [])
    with pytest.raises(ReportError, match="no suspect note to hand over"):
        build_document("handover", [r for r in records if r.verdict == "genuine"])
    with pytest.raises(ParameterError, match="kind"):
        build_document("invoice", records)


def test_score_gauge() -> None:
    g = score_gauge(2.5, 2.0)
    assert g is not None and g.over
    assert g.scale_max == pytest.approx(2.5 * 1.25)
    assert g.score_at == pytest.approx(0.8) and g.threshold_at == pytest.approx(0.64)
    low = score_gauge(0.5, 2.0)
    assert low is not None and not low.over and low.score_at < low.threshold_at
    assert score_gauge(None, 2.0) is None and score_gauge(math.nan, 2.0) is None and score_gauge(1.0, math.inf) is None
    zero = score_gauge(0.0, 0.0)
    assert zero is not None and zero.scale_max == 1.0


def test_distance_chart_nearest_first_matched_always_shown() -> None:
    distances = {f"D/{i}": float(i) for i in range(1, 13)}
    chart = distance_chart(distances, "D/12", limit=8)
    labels = [b.label for b in chart.bars]
    assert labels[:7] == [f"D/{i}" for i in range(1, 8)] and labels[-1] == "D/12"
    assert chart.more == 4
    assert [b.matched for b in chart.bars] == [False] * 7 + [True]
    assert max(b.length for b in chart.bars) <= 1.0
    broken = distance_chart({"A": math.nan, "B": 0.5}, "A")
    assert [(b.label, b.value, b.text) for b in broken.bars] == [("B", 0.5, "0.500"), ("A", None, "n/a")]
    assert distance_chart({}, None).empty


def test_text_helpers() -> None:
    assert one_line("a\r\nb\nc\td\x00e") == "a b c d e"
    assert file_name("C:\\notes\\x.jpg") == "x.jpg" and file_name("/a/b.png") == "b.png"
    assert file_name("camera 0") == "camera 0"
    assert format_time("2026-11-29T10:04:12.5+01:00") == "2026-11-29 09:04:12 UTC"
    assert format_time("not a time\n") == "not a time "
    assert format_time(None) == "\u2014"
