"""PDF reports (fpdf2, A4 portrait, the bundled DejaVu Sans embedded): batch report, certificates, hand-over forms.

Everything is drawn with fpdf2's own primitives (text, rectangles, lines, JPEG pictures), so no
display, browser or plotting window is involved. Text is laid out to fit: table cells are shortened
with an ellipsis, longer text (paths, reasons, circumstances) wraps.
"""

from __future__ import annotations

import datetime as _dt
import io
from typing import Callable

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from banknote_guard.reports.charts import DistanceChart, Gauge
from banknote_guard.reports.content import (
    SERIAL_BOXES,
    VERDICT_STYLES,
    NoteEntry,
    ReportDocument,
    certificate_statement,
    format_date,
    format_time,
    handover_circumstances,
    missing_text,
    one_line,
    verdict_style,
)
from banknote_guard.reports.fonts import report_fonts
from banknote_guard.reports.images import Pictures, jpeg_size

FONT = "DejaVu"
MARGIN = 14.0
PAGE_W = 210.0
CONTENT_W = PAGE_W - 2 * MARGIN
INK = (17, 24, 39)
MUTED = (90, 98, 110)
RULE = (203, 208, 214)
PANEL = (243, 244, 246)
SAFE = (220, 252, 231)
DANGER = (254, 226, 226)
DANGER_INK = (185, 28, 28)

Step = Callable[[], None]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


class ReportPDF(FPDF):
    """An A4 page set with the report font, a footer naming the report and page numbers."""

    def __init__(self, title: str, generated: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        fonts = report_fonts()
        self.add_font(FONT, "", str(fonts.regular))
        self.add_font(FONT, "B", str(fonts.bold))
        self.report_title = title
        self.generated = generated
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=16)
        self.set_title(title)
        self.set_creator("Banknote Guard")
        self.set_author("Banknote Guard")
        try:
            when = _dt.datetime.strptime(generated, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=_dt.timezone.utc)
            self.set_creation_date(when)
        except ValueError:
            pass
        self.set_text_color(*INK)

    # --- page furniture ---------------------------------------------------------------------------

    def footer(self) -> None:
        self.set_y(-11)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y() - 1, PAGE_W - MARGIN, self.get_y() - 1)
        self.font(7)
        self.set_text_color(*MUTED)
        self.cell(CONTENT_W / 2, 4, self.fit(f"Banknote Guard \u00b7 {self.report_title}", CONTENT_W / 2))
        self.cell(CONTENT_W / 2, 4, f"generated {self.generated} \u00b7 page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)

    # --- text helpers -------------------------------------------------------------------------------

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)

    def fit(self, text: str, width: float) -> str:
        """``text`` on one line, shortened with an ellipsis to fit ``width`` mm in the current font."""
        text = one_line(text)
        if self.get_string_width(text) <= width - 1:
            return text
        lo, hi = 0, len(text)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.get_string_width(text[:mid] + "\u2026") <= width - 1:
                lo = mid
            else:
                hi = mid - 1
        return text[:lo] + "\u2026"

    def lines_for(self, text: str, width: float) -> list[str]:
        """How ``text`` wraps in ``width`` mm in the current font (long words are broken)."""
        if "\n" not in text and self.get_string_width(text) <= width - 2 * self.c_margin:
            return [text]  # one line: no need for fpdf's (slow) line breaking
        return self.multi_cell(width, 4, text, dry_run=True, output="LINES", wrapmode="CHAR" if " " not in text else "WORD")

    def room(self) -> float:
        """Millimetres left above the bottom margin."""
        return self.page_break_trigger - self.get_y()

    def need(self, height: float) -> bool:
        """Start a new page unless ``height`` mm fit; True when a page was added."""
        if self.room() < height:
            self.add_page()
            return True
        return False

    def heading(self, text: str, size: float = 12.5, space: float = 3) -> None:
        self.ln(space)
        self.need(14)
        self.font(size, bold=True)
        self.cell(CONTENT_W, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.line(MARGIN, self.get_y(), PAGE_W - MARGIN, self.get_y())
        self.ln(2)

    def title_block(self, title: str, subtitle: str) -> None:
        self.font(18, bold=True)
        self.cell(CONTENT_W, 9, self.fit(title, CONTENT_W), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(9)
        self.set_text_color(*MUTED)
        self.cell(CONTENT_W, 5, self.fit(subtitle, CONTENT_W), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.ln(2)

    def facts(self, rows: list[tuple[str, str]], x: float = MARGIN, width: float = CONTENT_W, label_w: float = 34,
              size: float = 9) -> None:
        """A label/value list; values wrap."""
        for label, value in rows:
            self.font(size)
            lines = self.lines_for(one_line(value), width - label_w) or [""]
            h = 4.6 * len(lines)
            self.need(h)
            y = self.get_y()
            self.set_xy(x, y)
            self.set_text_color(*MUTED)
            self.cell(label_w, 4.6, label)
            self.set_text_color(*INK)
            for i, line in enumerate(lines):
                self.set_xy(x + label_w, y + 4.6 * i)
                self.cell(width - label_w, 4.6, line)
            self.set_xy(x, y + h)

    def paragraph(self, text: str, size: float = 9, width: float = CONTENT_W, x: float = MARGIN,
                  colour: tuple[int, int, int] = INK, line_h: float = 4.4) -> None:
        self.font(size)
        self.set_text_color(*colour)
        self.set_x(x)
        text = one_line(text)
        self.multi_cell(width, line_h, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT,
                        wrapmode="CHAR" if " " not in text else "WORD", align="L")
        self.set_text_color(*INK)

    def chip(self, x: float, y: float, w: float, h: float, key: str, text: str, size: float = 9) -> None:
        """A filled box in a verdict's colours with its symbol and word (and ``text``)."""
        style = verdict_style(key)
        self.set_fill_color(*rgb(style.background))
        self.set_text_color(*rgb(style.foreground))
        self.rect(x, y, w, h, style="F")
        self.font(size, bold=True)
        self.set_xy(x, y)
        self.cell(w, h, self.fit(text, w), align="C")
        self.set_text_color(*INK)

    # --- pictures and charts -------------------------------------------------------------------

    def picture(self, jpeg: bytes | None, x: float, y: float, max_w: float, max_h: float, caption: str = "",
                missing: str = "no picture stored") -> float:
        """Place a JPEG within ``max_w`` x ``max_h`` mm (aspect kept); an empty frame when there is none.

        Returns the height used (picture plus caption).
        """
        if jpeg is None:
            self.set_draw_color(*RULE)
            self.set_fill_color(*PANEL)
            h = min(max_h, max_w / 2)
            self.rect(x, y, max_w, h, style="DF")
            self.font(7.5)
            self.set_text_color(*MUTED)
            self.set_xy(x, y + h / 2 - 2)
            self.cell(max_w, 4, missing, align="C")
            self.set_text_color(*INK)
            used = h
        else:
            pw, ph = jpeg_size(jpeg)
            scale = min(max_w / pw, max_h / ph)
            w, h = pw * scale, ph * scale
            self.image(io.BytesIO(jpeg), x=x, y=y, w=w, h=h)
            self.set_draw_color(*RULE)
            self.rect(x, y, w, h)
            used = h
        if caption:
            self.font(7.5)
            self.set_text_color(*MUTED)
            lines = self.lines_for(caption, max_w)[:2]
            for i, line in enumerate(lines):
                self.set_xy(x, y + used + 0.5 + 3.5 * i)
                self.cell(max_w, 3.5, line)
            self.set_text_color(*INK)
            used += 1 + 3.5 * len(lines)
        return used

    def gauge(self, g: Gauge | None, x: float, y: float, w: float, bar_h: float = 5) -> float:
        """Score against threshold: a scale with a safe and a suspect zone and the score marked; returns height."""
        self.font(7.5)
        if g is None:
            self.set_text_color(*MUTED)
            self.set_xy(x, y)
            self.cell(w, 4, "no score (the picture could not be judged)")
            self.set_text_color(*INK)
            return 5
        t_x = x + w * g.threshold_at
        self.set_fill_color(*SAFE)
        self.rect(x, y, t_x - x, bar_h, style="F")
        self.set_fill_color(*DANGER)
        self.rect(t_x, y, x + w - t_x, bar_h, style="F")
        self.set_draw_color(*RULE)
        self.rect(x, y, w, bar_h)
        self.set_draw_color(*MUTED)
        self.set_line_width(0.4)
        self.line(t_x, y - 1, t_x, y + bar_h + 1)
        s_x = x + w * g.score_at
        marker = DANGER_INK if g.over else (21, 128, 61)
        self.set_fill_color(*marker)
        self.rect(s_x - 0.9, y - 0.8, 1.8, bar_h + 1.6, style="F")
        self.set_line_width(0.2)
        self.set_text_color(*MUTED)
        label_t = f"threshold {g.threshold:.2f}"
        label_s = f"score {g.score:.2f}"
        self.font(7.5)
        tw, sw = self.get_string_width(label_t) + 1, self.get_string_width(label_s) + 1
        # the threshold label under the bar, the score label above it, each kept inside the scale
        self.set_xy(min(max(x, t_x - tw / 2), x + w - tw), y + bar_h + 1)
        self.cell(tw, 3.5, label_t)
        self.set_text_color(*marker)
        self.font(7.5, bold=True)
        self.set_xy(min(max(x, s_x - sw / 2), x + w - sw - 1), y - 4.6)
        self.cell(sw + 1, 3.5, label_s)
        self.set_text_color(*INK)
        return bar_h + 5

    def bars(self, chart: DistanceChart, x: float, y: float, w: float, colour: tuple[int, int, int]) -> float:
        """Horizontal bars, one per denomination; returns the height used."""
        label_w, value_w, row = 22.0, 13.0, 4.6
        bar_w = w - label_w - value_w
        if chart.empty:
            self.font(7.5)
            self.set_text_color(*MUTED)
            self.set_xy(x, y)
            self.cell(w, 4, "no distances recorded")
            self.set_text_color(*INK)
            return 5
        for i, bar in enumerate(chart.bars):
            yy = y + i * row
            self.font(7.5, bold=bar.matched)
            self.set_xy(x, yy)
            self.cell(label_w, row, self.fit(bar.label, label_w))
            self.set_fill_color(*PANEL)
            self.rect(x + label_w, yy + 0.8, bar_w, row - 1.6, style="F")
            if bar.length > 0:
                self.set_fill_color(*(colour if bar.matched else (148, 163, 184)))
                self.rect(x + label_w, yy + 0.8, max(0.4, bar_w * bar.length), row - 1.6, style="F")
            self.set_xy(x + label_w + bar_w, yy)
            self.cell(value_w, row, bar.text, align="R")
        used = len(chart.bars) * row
        if chart.more:
            self.font(7)
            self.set_text_color(*MUTED)
            self.set_xy(x, y + used)
            self.cell(w, 3.5, f"{chart.more} farther denomination{'s' if chart.more != 1 else ''} not shown")
            self.set_text_color(*INK)
            used += 4
        return used

    def charts(self, entry: NoteEntry, x: float, y: float, w: float, side_by_side: bool = False) -> float:
        """Score gauge and distance chart at (x, y), stacked or side by side; returns the height used."""
        colour = rgb(entry.style.background) if entry.key != "genuine" else (21, 128, 61)
        gauge_w = (w - 8) / 2 if side_by_side else w
        self.font(8, bold=True)
        self.set_xy(x, y)
        self.cell(gauge_w, 4, "Counterfeit score against threshold")
        gauge_h = 10 + self.gauge(entry.gauge, x, y + 10, gauge_w)
        bx, by = (x + gauge_w + 8, y) if side_by_side else (x, y + gauge_h + 1)
        bw = w - gauge_w - 8 if side_by_side else w
        self.font(8, bold=True)
        self.set_xy(bx, by)
        self.cell(bw, 4, "Distance to each denomination\u2019s genuine centre")
        bars_h = 5 + self.bars(entry.chart, bx, by + 5, bw, colour)
        return max(gauge_h, bars_h) if side_by_side else gauge_h + 1 + bars_h


def bars_height(chart: DistanceChart) -> float:
    """The height :meth:`ReportPDF.bars` uses for ``chart``."""
    return 5.0 if chart.empty else 4.6 * len(chart.bars) + (4 if chart.more else 0)


def charts_height(entry: NoteEntry, side_by_side: bool = False) -> float:
    """The height :meth:`ReportPDF.charts` uses for ``entry``."""
    gauge_h = 10 + (10 if entry.gauge is not None else 5)
    bars_h = 5 + bars_height(entry.chart)
    return max(gauge_h, bars_h) if side_by_side else gauge_h + 1 + bars_h


# --- batch report ------------------------------------------------------------------------------------


def _header_section(pdf: ReportPDF, doc: ReportDocument) -> None:
    pdf.facts(doc.header.facts)
    if doc.header.thresholds:
        text = "   ".join(f"{d}: {t}" for d, t in doc.header.thresholds)
        pdf.facts([("Thresholds", text)])


def _summary_section(pdf: ReportPDF, doc: ReportDocument) -> None:
    s = doc.summary
    pdf.heading("Summary")
    keys = [(k, n) for k, n in s.verdicts if n or k in VERDICT_STYLES]
    w = (CONTENT_W - 2 * (len(keys) - 1)) / max(1, len(keys))
    y = pdf.get_y()
    for i, (key, n) in enumerate(keys):
        pdf.chip(MARGIN + i * (w + 2), y, w, 9, key, f"{verdict_style(key).label}  {n}", size=8.5)
    pdf.set_y(y + 11)
    rows = [("Notes", f"{s.total}")]
    rows.append(("Genuine value", ", ".join(f"{v} {c}" for c, v in s.genuine_value) or "0"))
    rows.append(("Suspect value", (", ".join(f"{v} {c}" for c, v in s.suspect_value) or "0")
                 + "  (withheld; not counted)"))
    if s.reviews:
        rows.append(("Reviewed", ", ".join(f"{n} {d}" for d, n in sorted(s.reviews.items()))))
    pdf.facts(rows, label_w=34, size=9.5)
    if s.denominations:
        pdf.ln(2)
        cols = [("Denomination", 40.0), ("Genuine", 24.0), ("Suspect", 24.0), ("Uncertain", 24.0),
                ("Retake", 24.0), ("Genuine value", CONTENT_W - 136.0)]
        pdf.need(12)
        pdf.font(8.5, bold=True)
        pdf.set_fill_color(*PANEL)
        for label, cw in cols:
            pdf.cell(cw, 6, label, fill=True, align="L" if label == "Denomination" else "R")
        pdf.ln(6)
        pdf.font(8.5)
        for denom, counts, worth in s.denominations:
            pdf.need(5.5)
            values = [denom, *(str(counts.get(k, 0)) for k in ("genuine", "suspect", "uncertain", "retake")), worth]
            for (label, cw), value in zip(cols, values):
                pdf.cell(cw, 5.2, pdf.fit(value, cw), align="L" if label == "Denomination" else "R")
            pdf.ln(5.2)
            pdf.set_draw_color(*RULE)
            pdf.line(MARGIN, pdf.get_y(), PAGE_W - MARGIN, pdf.get_y())


#: Notes table columns: (title, width in mm).
TABLE = [("#", 9.0), ("Picture", 27.0), ("File, time and reasons", 61.0), ("Denomination", 24.0),
         ("Verdict", 26.0), ("Score / threshold", CONTENT_W - 147.0)]
THUMB_W, THUMB_H = 25.0, 12.5


def _table_head(pdf: ReportPDF) -> None:
    pdf.font(8, bold=True)
    pdf.set_fill_color(*PANEL)
    for title, w in TABLE:
        pdf.cell(w, 6, title, fill=True)
    pdf.ln(6)


def _note_row(pdf: ReportPDF, e: NoteEntry, pictures: Pictures) -> None:
    widths = [w for _, w in TABLE]
    text_w = widths[2] - 2
    pdf.font(7)
    notes = [format_time(e.record.created)]
    notes += [f"\u2022 {r}" for r in e.reasons]
    if e.error:
        notes.append(e.error)
    if e.review is not None:
        notes.append(f"reviewed: {e.review.decision} by {e.review.reviewer}")
    lines: list[str] = []
    for n in notes:
        lines.extend(pdf.lines_for(one_line(n), text_w))
    if len(lines) > 6:
        lines = lines[:5] + ["\u2026 (more in the JSON and CSV exports)"]
    pdf.font(8, bold=True)
    names = pdf.lines_for(e.name, text_w)
    if len(names) > 2:
        names = [names[0], pdf.fit("".join(names[1:]), text_w)]
    name_h = 4.2 * len(names)
    row_h = max(THUMB_H + 2.5, 1 + name_h + 3.4 * len(lines) + 1.5)
    if pdf.need(row_h):
        _table_head(pdf)
    x, y = MARGIN, pdf.get_y()
    pdf.font(8)
    pdf.set_xy(x, y + 1)
    pdf.cell(widths[0], 4.5, str(e.number))
    x += widths[0]
    thumb = pictures.thumbnail(e.record)
    pdf.picture(thumb, x, y + 1.2, THUMB_W, THUMB_H, missing=missing_text(e.record.note_image or e.record.image))
    x += widths[1]
    pdf.font(8, bold=True)
    for i, line in enumerate(names):
        pdf.set_xy(x, y + 1 + 4.2 * i)
        pdf.cell(widths[2], 4.5, line)
    pdf.font(7)
    pdf.set_text_color(*MUTED)
    for i, line in enumerate(lines):
        pdf.set_xy(x, y + 1.3 + name_h + 3.4 * i)
        pdf.cell(widths[2], 3.4, line)
    pdf.set_text_color(*INK)
    x += widths[2]
    pdf.font(8)
    pdf.set_xy(x, y + 1)
    pdf.cell(widths[3], 4.5, pdf.fit(e.record.denomination or "\u2014", widths[3]))
    x += widths[3]
    pdf.chip(x, y + 1.2, widths[4] - 2, 6, e.key, e.style.label, size=7.5)
    x += widths[4]
    pdf.font(8)
    pdf.set_xy(x, y + 1)
    pdf.cell(widths[5], 4.5, e.score, align="R")
    if e.gauge is not None:
        _mini_gauge(pdf, e.gauge, x + 2, y + 7, widths[5] - 2)
    pdf.set_draw_color(*RULE)
    pdf.line(MARGIN, y + row_h, PAGE_W - MARGIN, y + row_h)
    pdf.set_xy(MARGIN, y + row_h)


def _mini_gauge(pdf: ReportPDF, g: Gauge, x: float, y: float, w: float) -> None:
    t_x = x + w * g.threshold_at
    pdf.set_fill_color(*SAFE)
    pdf.rect(x, y, t_x - x, 2.6, style="F")
    pdf.set_fill_color(*DANGER)
    pdf.rect(t_x, y, x + w - t_x, 2.6, style="F")
    pdf.set_fill_color(*(DANGER_INK if g.over else (21, 128, 61)))
    s_x = x + w * g.score_at
    pdf.rect(s_x - 0.6, y - 0.6, 1.2, 3.8, style="F")


def _detail(pdf: ReportPDF, e: NoteEntry, pictures: Pictures) -> None:
    pdf.need(_detail_height(pdf, e, pictures))
    y = pdf.get_y()
    pdf.chip(MARGIN, y, CONTENT_W, 7, e.key, "", size=9)
    pdf.set_text_color(*rgb(e.style.foreground))
    pdf.font(9.5, bold=True)
    pdf.set_xy(MARGIN + 2, y)
    pdf.cell(CONTENT_W - 4, 7, pdf.fit(f"#{e.number}   {e.style.label}   {e.record.denomination or 'no denomination'}"
                                       f"   \u2014   {e.name}", CONTENT_W - 4))
    pdf.set_text_color(*INK)
    y += 9
    note, caption = pictures.scored(e.record)
    used = pdf.picture(note, MARGIN, y, DETAIL_IMG_W, DETAIL_IMG_H, caption=caption,
                       missing=missing_text(e.record.note_image))
    chart_h = pdf.charts(e, MARGIN + DETAIL_IMG_W + 8, y, CONTENT_W - DETAIL_IMG_W - 8)
    pdf.set_xy(MARGIN, y + max(used, chart_h) + 1)
    pdf.facts(_detail_facts(e), label_w=30, size=8.5)
    pdf.ln(4)


DETAIL_IMG_W, DETAIL_IMG_H = 84.0, 52.0


def _detail_height(pdf: ReportPDF, e: NoteEntry, pictures: Pictures) -> float:
    note = pictures.note(e.record)
    img_h = DETAIL_IMG_H
    if note is not None:
        pw, ph = jpeg_size(note)
        img_h = min(DETAIL_IMG_H, DETAIL_IMG_W * ph / pw)
    else:
        img_h = DETAIL_IMG_W / 2
    pdf.font(8.5)
    fact_h = sum(4.6 * len(pdf.lines_for(v, CONTENT_W - 30) or [""]) for _, v in _detail_facts(e))
    caption_h = 3.5 * len(pdf.lines_for(pictures.scored(e.record)[1], DETAIL_IMG_W)[:2]) + 1
    return 9 + max(img_h + caption_h, charts_height(e)) + 1 + fact_h + 4


def _detail_facts(e: NoteEntry) -> list[tuple[str, str]]:
    r = e.record
    rows = [("Verified", format_time(r.created)), ("File", r.path.replace("\n", " ")), ("Record", r.id)]
    if r.image_sha256:
        rows.append(("Image SHA-256", r.image_sha256))
    rows.append(("Score / threshold", f"{e.score}   (operator action: {e.style.action})"))
    if e.reasons:
        rows.append(("Reasons", e.reasons_text))
    if e.error:
        rows.append(("Error", e.error))
    if e.review is not None:
        rv = e.review
        text = f"{rv.decision} by {rv.reviewer}, {format_time(rv.created)}"
        if rv.handover_ref:
            text += f"; hand-over reference {rv.handover_ref}"
        if rv.comment:
            text += f"; {rv.comment}"
        rows.append(("Review", text.replace("\n", " ")))
    return rows


def batch_pdf(doc: ReportDocument, pictures: Pictures, step: Step) -> bytes:
    pdf = ReportPDF(doc.header.title, doc.header.generated)
    pdf.add_page()
    pdf.title_block(doc.header.title, f"{doc.summary.total} note{'s' if doc.summary.total != 1 else ''} \u00b7 "
                                      f"generated {doc.header.generated}")
    _header_section(pdf, doc)
    _summary_section(pdf, doc)
    pdf.heading("Notes")
    _table_head(pdf)
    for e in doc.notes:
        _note_row(pdf, e, pictures)
        step()
    if doc.details:
        pdf.ln(4)
        pdf.need(22 + _detail_height(pdf, doc.details[0], pictures))
        pdf.heading(f"Suspect and uncertain notes ({len(doc.details)})", space=0)
        pdf.paragraph("Each note set aside: the straightened picture that was scored (red where it differs from "
                      "genuine notes, when the model compares regions), its counterfeit score "
                      "against the threshold (right of the line: suspect), and its distance to every "
                      "denomination's genuine centre (shortest: the denomination it was taken for).",
                      size=8, colour=MUTED)
        pdf.ln(2)
        for e in doc.details:
            _detail(pdf, e, pictures)
    return bytes(pdf.output())


# --- certificate ------------------------------------------------------------------------------------



def _pictures_and_charts(pdf: ReportPDF, e: NoteEntry, pictures: Pictures, max_h: float = 55,
                         charts: bool = True) -> None:
    """The picture as captured and the straightened note side by side, then the charts side by side.

    A record without the picture as captured (a live batch) shows the straightened note with the
    charts beside it instead of an empty frame.
    """
    original = pictures.original(e.record)
    note, caption = pictures.scored(e.record)
    half = (CONTENT_W - 6) / 2
    if original is None:
        img_w = DETAIL_IMG_W if charts else CONTENT_W * 0.62
        pdf.need(max(max_h, charts_height(e) if charts else 0) + 6)
        y = pdf.get_y()
        lost = "was not stored" if not e.record.image else "could not be decoded"
        used = pdf.picture(note, MARGIN, y, img_w, max_h, missing=missing_text(e.record.note_image),
                           caption=f"{caption} (the picture as captured {lost})")
        chart_h = pdf.charts(e, MARGIN + img_w + 8, y, CONTENT_W - img_w - 8) if charts else 0
        pdf.set_xy(MARGIN, y + max(used, chart_h) + 2)
        return
    pdf.need(max_h + 6)
    y = pdf.get_y()
    a = pdf.picture(original, MARGIN, y, half, max_h, caption="picture as captured")
    b = pdf.picture(note, MARGIN + half + 6, y, half, max_h, caption=caption,
                    missing=missing_text(e.record.note_image))
    pdf.set_xy(MARGIN, y + max(a, b) + 3)
    if charts:
        pdf.need(charts_height(e, side_by_side=True) + 2)
        y = pdf.get_y()
        pdf.set_xy(MARGIN, y + pdf.charts(e, MARGIN, y, CONTENT_W, side_by_side=True) + 2)


def _banner(pdf: ReportPDF, e: NoteEntry, text: str) -> None:
    pdf.need(16)
    y = pdf.get_y()
    pdf.chip(MARGIN, y, CONTENT_W, 13, e.key, pdf.fit(text, CONTENT_W), size=13)
    pdf.set_y(y + 16)


def _certificate(pdf: ReportPDF, doc: ReportDocument, e: NoteEntry, pictures: Pictures) -> None:
    r = e.record
    pdf.add_page()
    pdf.title_block(doc.header.title, f"Certificate no. {r.id} \u00b7 generated {doc.header.generated}")
    _banner(pdf, e, f"{e.style.label} \u2014 {e.style.action}")
    model = doc.context.model.get("id") if doc.context.model else None
    rows = [
        ("Verified", format_time(r.created)), ("Station", r.station), ("Operator", r.operator),
        ("Batch", r.batch), ("Source", f"{r.source}: {r.path}".replace("\n", " ")),
        ("Denomination", r.denomination or "\u2014"), ("Score / threshold", e.score),
        ("Model", model or r.model_id or "not recorded"), ("Model SHA-256", r.model_sha256 or "not recorded"),
        ("Image SHA-256", r.image_sha256 or "not recorded"),
    ]
    if e.reasons:
        rows.append(("Reasons", e.reasons_text))
    if e.error:
        rows.append(("Error", e.error))
    pdf.facts([(k, str(v)) for k, v in rows], label_w=32)
    pdf.ln(3)
    _pictures_and_charts(pdf, e, pictures)
    if e.review is not None:
        pdf.facts(_detail_facts(e)[-1:], label_w=32)
    pdf.ln(2)
    pdf.paragraph(certificate_statement(e, model), size=9)
    _signatures(pdf, [("Operator (name, signature)", r.operator), ("Date", format_date(doc.context.generated))])


def certificate_pdf(doc: ReportDocument, pictures: Pictures, step: Step) -> bytes:
    pdf = ReportPDF(doc.header.title, doc.header.generated)
    for e in doc.notes:
        _certificate(pdf, doc, e, pictures)
        step()
    return bytes(pdf.output())


# --- hand-over form ---------------------------------------------------------------------------------


def _signatures(pdf: ReportPDF, boxes: list[tuple[str, str]]) -> None:
    """Signature lines side by side: room to sign above each line, its label and a pre-filled name below."""
    w = (CONTENT_W - 8 * (len(boxes) - 1)) / len(boxes)
    pdf.font(7.5)
    label_lines = [pdf.lines_for(label, w) for label, _ in boxes]
    below = 3.6 * max(len(lines) for lines in label_lines) + 6
    pdf.need(22 + below)
    pdf.ln(4)
    y = pdf.get_y() + SIGNING_ROOM
    for i, ((_, prefill), lines) in enumerate(zip(boxes, label_lines)):
        x = MARGIN + i * (w + 8)
        pdf.set_draw_color(*INK)
        pdf.line(x, y, x + w, y)
        pdf.font(7.5)
        pdf.set_text_color(*MUTED)
        for j, line in enumerate(lines):
            pdf.set_xy(x, y + 0.5 + 3.6 * j)
            pdf.cell(w, 3.6, line)
        pdf.set_text_color(*INK)
        pdf.font(9)
        pdf.set_xy(x, y + 1 + 3.6 * len(lines))
        pdf.cell(w, 5, pdf.fit(prefill, w))
    pdf.set_xy(MARGIN, y + below + 1)


#: Height left above a signature line to sign in (mm).
SIGNING_ROOM = 18.0


def _serial_boxes(pdf: ReportPDF, serial: str | None) -> None:
    pdf.need(16)
    pdf.font(9, bold=True)
    pdf.cell(CONTENT_W, 5, "Serial number of the note (to be filled in by the operator)",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y = pdf.get_y() + 1
    n, gap = SERIAL_BOXES, 1.2
    box = (CONTENT_W - gap * (n - 1)) / n
    chars = list((serial or "")[:n])
    pdf.set_draw_color(*INK)
    for i in range(n):
        x = MARGIN + i * (box + gap)
        pdf.rect(x, y, box, 9)
        if i < len(chars):
            pdf.font(11, bold=True)
            pdf.set_xy(x, y)
            pdf.cell(box, 9, chars[i], align="C")
    pdf.set_y(y + 11)
    if serial and len(serial) > n:
        pdf.paragraph(f"Serial number in full: {serial}", size=8.5)
    pdf.ln(1)


#: Ruled lines for handwritten circumstances on a hand-over form.
RULED_LINES = 5


def _circumstances(pdf: ReportPDF, doc: ReportDocument, e: NoteEntry) -> None:
    auto = handover_circumstances(e, (doc.context.model or {}).get("id"))
    pdf.font(9, bold=True)
    pdf.need(62)
    pdf.cell(CONTENT_W, 5, "Circumstances", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    y0 = pdf.get_y()
    pdf.set_y(y0 + 1.5)
    pdf.paragraph(auto.replace("\n", " "), size=8.5, width=CONTENT_W - 4, x=MARGIN + 2)
    if e.review is not None and e.review.comment:
        pdf.paragraph("Operator's note: " + e.review.comment.replace("\n", " "), size=8.5, width=CONTENT_W - 4,
                      x=MARGIN + 2)
    pdf.set_draw_color(*RULE)
    y = pdf.get_y() + 1
    for i in range(RULED_LINES):  # for handwriting
        pdf.line(MARGIN + 2, y + 7 * (i + 1), PAGE_W - MARGIN - 2, y + 7 * (i + 1))
    bottom = y + 7 * RULED_LINES + 3
    pdf.set_draw_color(*INK)
    pdf.rect(MARGIN, y0, CONTENT_W, bottom - y0)
    pdf.set_xy(MARGIN, bottom + 3)


def _handover(pdf: ReportPDF, doc: ReportDocument, e: NoteEntry, k: int, n: int, pictures: Pictures) -> None:
    r = e.record
    pdf.add_page()
    pdf.font(18, bold=True)
    y = pdf.get_y()
    pdf.cell(CONTENT_W - 62, 9, pdf.fit(doc.header.title, CONTENT_W - 62))
    pdf.set_draw_color(*INK)
    pdf.rect(PAGE_W - MARGIN - 60, y, 60, 16)
    pdf.font(7.5)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(PAGE_W - MARGIN - 59, y + 0.8)
    pdf.cell(58, 4, f"Form no. (form {k} of {n})")
    pdf.set_text_color(*INK)
    pdf.font(11, bold=True)
    pdf.set_xy(PAGE_W - MARGIN - 59, y + 6)
    pdf.cell(58, 8, pdf.fit(e.form_number or "", 58))
    pdf.set_xy(MARGIN, y + 10)
    pdf.font(9)
    pdf.set_text_color(*MUTED)
    pdf.cell(CONTENT_W - 62, 5, "Counterfeit suspected \u2014 to be handed to the police or the central bank")
    pdf.set_text_color(*INK)
    pdf.set_y(y + 20)
    value = e.value
    rows = [
        ("Date", format_date(doc.context.generated)),
        ("Station", r.station), ("Operator", r.operator),
        ("Denomination", (r.denomination or "\u2014") + (f"  (face value {value[1]:g} {value[0]})" if value else "")),
        ("Verified", format_time(r.created)), ("Batch", r.batch), ("Record", r.id),
    ]
    if r.image_sha256:
        rows.append(("Image SHA-256", r.image_sha256))
    if e.review is not None:
        rows.append(("Review", f"{e.review.decision} by {e.review.reviewer}, {format_time(e.review.created)}"))
    pdf.facts(rows, label_w=32, size=9.5)
    pdf.ln(3)
    _serial_boxes(pdf, e.review.serial_number if e.review is not None else None)
    _circumstances(pdf, doc, e)
    _pictures_and_charts(pdf, e, pictures, max_h=62, charts=False)
    _signatures(pdf, [("Handed over by (name, signature)", r.operator),
                      ("Received by (name, authority, signature)", ""), ("Date, stamp", "")])


def handover_pdf(doc: ReportDocument, pictures: Pictures, step: Step) -> bytes:
    pdf = ReportPDF(doc.header.title, doc.header.generated)
    for k, e in enumerate(doc.notes, 1):
        _handover(pdf, doc, e, k, len(doc.notes), pictures)
        step()
    return bytes(pdf.output())


WRITERS = {"batch": batch_pdf, "certificate": certificate_pdf, "handover": handover_pdf}


def pdf_report(doc: ReportDocument, pictures: Pictures, step: Step) -> bytes:
    """The PDF of ``doc`` (its kind chooses the layout)."""
    return WRITERS[doc.kind](doc, pictures, step)
