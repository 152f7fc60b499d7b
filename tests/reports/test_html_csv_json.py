"""HTML, CSV and JSON reports: hostile names are escaped (HTML) or neutralised (CSV); numbers stay numbers."""

from __future__ import annotations

import csv
import html
import io
import json
import math
from html.parser import HTMLParser

import pytest

from banknote_guard.reports.context import ReportContext
from banknote_guard.reports.render import render_report, report_bytes

HOSTILE = [
    "/in/<script>alert('x')</script>.jpg",
    '/in/"><img src=x onerror=alert(1)>.jpg',
    "/in/two\nlines\r\nthree.jpg",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "plain.jpg",
]


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001, ANN201
        self.tags.append((tag, attrs))

    def handle_data(self, data):  # noqa: ANN001, ANN201
        self.text.append(data)


def _parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


def _hostile_report(tmp_path, make_records, review_of, kind, hostile: bool) -> str:  # noqa: ANN001
    names = HOSTILE if hostile else [f"/in/name{i}.jpg" for i in range(len(HOSTILE))]
    notes = make_records(10, names=names, operator="<b>Mallory</b> & co" if hostile else "Mallory",
                         station='desk "3" <i>' if hostile else "desk 3")
    notes[2].reasons = ["<iframe src=//evil></iframe> reason" if hostile else "a reason"]
    reviews = [review_of(notes[2], "confirmed", comment="<script>steal()</script>" if hostile else "steal",
                         reviewer="<svg onload=x>" if hostile else "svg", serial_number="<b>SN</b>" if hostile else "SN")]
    ctx = ReportContext(title="<h1>Report</h1>" if hostile else "Report", batch="b<1>" if hostile else "b1")
    out = render_report(kind, notes, ctx, fmt="html", out=tmp_path / f"{kind}-{hostile}.html", reviews=reviews)
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["batch", "certificate", "handover"])
def test_html_escapes_every_hostile_text(tmp_path, make_records, review_of, kind) -> None:
    page = _hostile_report(tmp_path, make_records, review_of, kind, hostile=True)
    plain = _hostile_report(tmp_path, make_records, review_of, kind, hostile=False)
    parsed = _parse(page)
    # the hostile names added no element: the page has exactly the structure of the same report with plain names
    assert [t for t, _ in parsed.tags] == [t for t, _ in _parse(plain).tags]
    for tag, attrs in parsed.tags:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)  # no event handler came through
            if tag == "img" and name == "src":
                assert value is not None and value.startswith("data:image/jpeg;base64,")
    text = "".join(parsed.text)
    # the hostile text is shown as text, exactly
    assert "<b>Mallory</b> & co" in text and "<h1>Report</h1>" in text
    if kind == "batch":
        assert '"><img src=x onerror=alert(1)>.jpg' in text  # a row's file name
        assert "/in/two\nlines" in text  # the full path of a suspect note, in its detail section
    else:
        assert "<iframe src=//evil></iframe> reason" in text
    if kind == "handover":
        assert "<script>steal()</script>" in text
    # one self-contained file: no outside resource is referenced, scripts are forbidden
    assert "http://" not in page and "https://" not in page and "src=\"/" not in page
    assert "default-src 'none'" in page


def test_html_batch_has_header_summary_rows_and_details(tmp_path, records, context) -> None:
    out = render_report("batch", records, context, fmt="html", out=tmp_path / "batch.html")
    page = out.read_text(encoding="utf-8")
    text = " ".join(" ".join(_parse(page).text).split())
    assert "Genuine value 80 KRT, 20 VLM" in text
    assert "Suspect value 20 KRT, 20 VLM (withheld; not counted)" in text
    for r in records:
        assert html.escape(r.path.rsplit("/", 1)[-1]) in page
    assert "Suspect and uncertain notes (6)" in text
    for r in records:
        if r.verdict in ("suspect", "uncertain"):
            assert r.id in text
    assert page.count("<svg") == 19 + 2 * 6  # a mini gauge per scored row; gauge and distances per detail
    assert page.count('class="thumb"') == 19  # the unreadable file has no picture


def test_csv_is_rfc4180_with_formulas_neutralised_and_numbers_numeric(tmp_path, make_records, review_of) -> None:
    notes = make_records(10, names=HOSTILE, operator="=HYPERLINK(\"http://x\")")
    notes[0].counterfeit_score = -0.25  # a negative number is a number, not a formula
    reviews = [review_of(notes[2], "confirmed", comment="-minus first\nsecond line", serial_number="@A1")]
    out = render_report("batch", notes, None, fmt="csv", out=tmp_path / "batch.csv", reviews=reviews)
    raw = out.read_bytes().decode("utf-8")
    assert raw.endswith("\r\n") and "\r\n" in raw.splitlines(keepends=True)[0]
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    assert len(rows) == 10
    for row, name in zip(rows, HOSTILE):
        expected = "'" + name if name.startswith(("=", "+", "-", "@", "\t", "\r")) else name
        assert row["path"] == expected
        assert row["operator"].startswith("'=")
        for key, cell in row.items():
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), (key, cell)
            if cell.startswith("-"):
                float(cell)  # only a number may start with a minus
    assert rows[0]["counterfeit_score"] == "-0.25"
    assert float(rows[1]["counterfeit_score"]) == pytest.approx(notes[1].counterfeit_score)
    assert rows[2]["comment"] == "'-minus first\nsecond line" and rows[2]["serial_number"] == "'@A1"
    assert rows[2]["review"] == "confirmed"
    # numbers are written bare (unquoted), so a spreadsheet reads them as numbers
    first_line = raw.split("\r\n")[1]
    assert ",-0.25,1.8," in first_line


def test_csv_handover_has_form_numbers_and_serial_column(tmp_path, records) -> None:
    out = render_report("handover", records, None, fmt="csv", out=tmp_path / "h.csv")
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert len(rows) == 4 and all(r["form_number"].startswith("HO-20261129-") for r in rows)
    assert all(r["verdict"] == "suspect" for r in rows) and "serial_number" in rows[0]


def test_json_document(records, context, review_of) -> None:
    records[0].counterfeit_score = math.nan
    reviews = [review_of(records[2], "confirmed", handover_ref="POL-9")]
    doc = json.loads(report_bytes("batch", records, context, fmt="json", reviews=reviews))
    assert doc["kind"] == "batch" and doc["report_version"] == 1
    assert doc["summary"]["verdicts"] == {"genuine": 9, "suspect": 4, "uncertain": 2, "unknown": 2, "retake": 2, "error": 1}
    assert doc["summary"]["genuine_value"] == {"KRT": 80.0, "VLM": 20.0}
    assert doc["summary"]["suspect_value"] == {"KRT": 20.0, "VLM": 20.0}
    assert doc["context"]["model"]["id"] == "0123456789ab"
    assert len(doc["notes"]) == 20 and doc["notes"][0]["counterfeit_score"] is None  # NaN -> null
    assert doc["notes"][2]["review"]["handover_ref"] == "POL-9"
    assert "image" not in doc["notes"][0] and "note_image" not in doc["notes"][0]


def test_html_report_shows_the_heat_map_of_a_suspect_note_and_json_keeps_its_regions(tmp_path, make_records,
                                                                                      context) -> None:
    from banknote_guard.reports.images import WHY_CAPTION

    notes = make_records(3)
    suspect = notes[2]
    suspect.heatmap = [[0.0] * 8 for _ in range(4)]
    suspect.heatmap[0][1] = 8.0
    suspect.regions = [{"score": 8.0, "box": [32, 0, 64, 32], "box_fraction": [0.125, 0.0, 0.25, 0.25],
                        "name": "numeral"}]
    for kind in ("batch", "certificate"):
        page = render_report(kind, notes, context, fmt="html", out=tmp_path / f"{kind}.html").read_text("utf-8")
        parser = _Tags()
        parser.feed(page)
        assert WHY_CAPTION in " ".join(parser.text), kind
    data = json.loads(render_report("batch", notes, context, fmt="json", out=tmp_path / "b.json").read_text("utf-8"))
    (rec,) = [r for r in data["notes"] if r["id"] == suspect.id]
    assert rec["regions"][0]["name"] == "numeral" and rec["heatmap"][0][1] == 8.0
