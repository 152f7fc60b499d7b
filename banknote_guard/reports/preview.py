"""Pictures of a PDF report's pages, for an on-screen preview of exactly what will be printed.

The pages are rasterised with PDFium (``pypdfium2``), in memory: no viewer, browser or display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from banknote_guard.history.records import NoteRecord, Review
from banknote_guard.progress import CancelToken, ProgressCallback, check_cancel
from banknote_guard.reports.content import ReportError
from banknote_guard.reports.context import ReportContext

#: Resolution of preview pages (dots per inch); an A4 page is then 827 x 1169 pixels.
PREVIEW_DPI = 100


@dataclass
class ReportPreview:
    """A rendered PDF report held in memory: its bytes and its pages as pictures, drawn on demand.

    Attributes:
        pdf: the PDF file's bytes (what an export to PDF writes).
        pages: number of pages.
    """

    pdf: bytes
    pages: int
    dpi: int = PREVIEW_DPI
    _cache: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def page(self, index: int) -> np.ndarray:
        """Page ``index`` (0-based) as an (H, W, 3) uint8 RGB picture."""
        if not 0 <= index < self.pages:
            raise IndexError(f"page {index + 1} of a {self.pages}-page report")
        if index not in self._cache:
            self._cache[index] = rasterize_page(self.pdf, index, self.dpi)
        return self._cache[index]


def _document(pdf: bytes) -> Any:
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise ReportError(f"The report could not be opened for the preview: {exc}.") from None


def page_count(pdf: bytes) -> int:
    doc = _document(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def rasterize_page(pdf: bytes, index: int, dpi: int = PREVIEW_DPI) -> np.ndarray:
    """One page of a PDF as an (H, W, 3) uint8 RGB picture at ``dpi``."""
    doc = _document(pdf)
    try:
        page = doc[index]
        try:
            bitmap = page.render(scale=dpi / 72.0)
            try:
                arr = np.array(bitmap.to_numpy(), copy=True)
                mode = bitmap.mode
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        doc.close()
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if mode in ("BGR", "BGRA", "BGRX"):
        arr = arr[:, :, [2, 1, 0]]
    return np.ascontiguousarray(arr[:, :, :3])


def preview_report(
    kind: str,
    records: Sequence[NoteRecord],
    context: ReportContext | None = None,
    *,
    reviews: Iterable[Review] | None = None,
    dpi: int = PREVIEW_DPI,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ReportPreview:
    """The PDF report of ``records`` in memory, with its pages ready to be drawn for a preview."""
    from banknote_guard.reports.render import report_bytes

    pdf = report_bytes(kind, records, context, fmt="pdf", reviews=reviews, progress=progress, cancel=cancel)
    check_cancel(cancel)
    return ReportPreview(pdf=pdf, pages=page_count(pdf), dpi=dpi)
