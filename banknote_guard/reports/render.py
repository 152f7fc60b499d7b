"""Make a report: :func:`render_report` from records (the history), :func:`report_from_results` from a live batch.

Both write the file atomically (a reader sees the old file or the whole new one) and return its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from banknote_guard.errors import ParameterError, parameter_error
from banknote_guard.fileio import atomic_write_bytes
from banknote_guard.history.location import default_operator, default_station
from banknote_guard.history.records import NoteRecord, Review, Source
from banknote_guard.progress import CancelToken, ProgressCallback, check_cancel, report
from banknote_guard.reports.content import REPORT_KINDS, ReportDocument, build_document
from banknote_guard.reports.context import ReportContext
from banknote_guard.reports.images import Pictures

#: The file formats a report can be written in.
REPORT_FORMATS = ("pdf", "html", "csv", "json")
#: File-name endings and the format each one means.
SUFFIXES = {".pdf": "pdf", ".html": "html", ".htm": "html", ".csv": "csv", ".json": "json"}


def format_for_path(path: str | Path) -> str:
    """The report format a file name asks for (``.pdf``, ``.html``/``.htm``, ``.csv``, ``.json``)."""
    fmt = SUFFIXES.get(Path(path).suffix.lower())
    if fmt is None:
        raise ParameterError(
            f"The report file name {str(path)!r} must end in .pdf, .html, .csv or .json (or give the format)."
        )
    return fmt


def _check(kind: str, fmt: str) -> None:
    if kind not in REPORT_KINDS:
        raise parameter_error("kind", "the report", f"one of {', '.join(REPORT_KINDS)}", kind)
    if fmt not in REPORT_FORMATS:
        raise parameter_error("format", "the report", f"one of {', '.join(REPORT_FORMATS)}", fmt)


def document_bytes(
    doc: ReportDocument,
    fmt: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> bytes:
    """The file contents of ``doc`` in ``fmt``."""
    _check(doc.kind, fmt)
    check_cancel(cancel)
    if fmt == "csv":
        from banknote_guard.reports.csv_export import document_csv

        return document_csv(doc).encode("utf-8")
    if fmt == "json":
        from banknote_guard.reports.json_export import document_json_text

        return document_json_text(doc).encode("utf-8")
    pictures = Pictures()
    total = len(doc.notes)
    done = 0

    def step() -> None:
        nonlocal done
        check_cancel(cancel)
        done += 1
        if progress is not None and (done == total or done % 25 == 0):
            report(progress, "report", f"Laying out note {done} of {total}", done, total)

    if fmt == "pdf":
        from banknote_guard.reports.pdf import pdf_report

        return pdf_report(doc, pictures, step)
    from banknote_guard.reports.html import html_report

    return html_report(doc, pictures, step).encode("utf-8")


def report_bytes(
    kind: str,
    records: Sequence[NoteRecord],
    context: ReportContext | None = None,
    *,
    fmt: str,
    reviews: Iterable[Review] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> bytes:
    """The report's file contents, in memory (previews; :func:`render_report` writes them to a file)."""
    _check(kind, fmt)
    doc = build_document(kind, records, context, reviews)
    return document_bytes(doc, fmt, progress=progress, cancel=cancel)


def render_report(
    kind: str,
    records: Sequence[NoteRecord],
    context: ReportContext | None = None,
    *,
    fmt: str | None = None,
    out: str | Path,
    reviews: Iterable[Review] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Write a report of ``records`` to ``out`` and return its path.

    Args:
        kind: "batch" (header, summary, one row per note, details of suspect and uncertain notes),
            "certificate" (one certificate per note) or "handover" (one form per suspect note).
        records: the notes, oldest first (:class:`~banknote_guard.history.records.NoteRecord`).
        context: operator, station, time span, model and thresholds (what is left out comes from
            the records).
        fmt: "pdf", "html", "csv" or "json"; by default the ending of ``out`` decides.
        out: the file to write (atomically; nothing is overwritten when writing fails).
        reviews: operators' reviews of the notes (the latest per note is shown).

    Raises:
        ParameterError: an unknown kind or format.
        ReportError: nothing to report (no notes; for "handover": no suspect note).
        OutputError: the file cannot be written there.
    """
    fmt = fmt or format_for_path(out)
    data = report_bytes(kind, records, context, fmt=fmt, reviews=reviews, progress=progress, cancel=cancel)
    check_cancel(cancel)
    atomic_write_bytes(out, data)
    return Path(out)


def records_from_results(
    results: Sequence[Any],
    *,
    batch: str,
    station: str,
    operator: str,
    model: Any = None,
    source: Source = "file",
    hash_files: bool = False,
    cancel: CancelToken | None = None,
) -> list[NoteRecord]:
    """Records of verification results; each straightened note (``rectified``) is stored as a JPEG.

    ``hash_files``: also record the SHA-256 of each file that is still there (the picture as read now).
    """
    from banknote_guard.history.recorder import jpeg_bytes, model_identity

    model_id, model_sha256 = model_identity(model)
    out = []
    for r in results:
        check_cancel(cancel)
        note = jpeg_bytes(r.rectified, max_side=None) if getattr(r, "rectified", None) is not None else None
        out.append(NoteRecord.from_result(
            r, batch=batch, station=station, operator=operator, source=source, model_id=model_id,
            model_sha256=model_sha256, note_image=note, image_sha256=_file_sha256(r.path) if hash_files else None,
        ))
    return out


def _file_sha256(path: str) -> str | None:
    from banknote_guard.history.recorder import file_sha256

    try:
        return file_sha256(path) if Path(path).is_file() else None
    except OSError:
        return None


def report_from_results(
    results: Sequence[Any],
    *,
    out: str | Path,
    fmt: str | None = None,
    kind: str = "batch",
    model: Any = None,
    context: ReportContext | None = None,
    batch: str | None = None,
    station: str | None = None,
    operator: str | None = None,
    source: Source = "file",
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Write a report of a live batch (``VerificationResult`` list, e.g. ``verify --report OUT.pdf``).

    The results become :class:`NoteRecord` s (their straightened notes encoded as JPEG); the model, when
    given, names itself and its thresholds in the header (at the results' threshold scale). Station and
    operator default to this computer and the logged-in user; the batch to a new batch id.
    """
    from banknote_guard.history.recorder import new_batch_id

    fmt = fmt or format_for_path(out)
    _check(kind, fmt)
    station = station or default_station()
    operator = operator or default_operator()
    batch = batch or new_batch_id(station)
    if context is None:
        scale = next((float(r.threshold_scale) for r in results if getattr(r, "ok", False)), 1.0)
        fields = {"operator": operator, "station": station, "batch": batch}
        context = ReportContext.from_model(model, threshold_scale=scale, **fields) if model is not None \
            else ReportContext(threshold_scale=scale, **fields)
    records = records_from_results(results, batch=batch, station=station, operator=operator, model=model,
                                   source=source, hash_files=True, cancel=cancel)
    return render_report(kind, records, context, fmt=fmt, out=out, progress=progress, cancel=cancel)
