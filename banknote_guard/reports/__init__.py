"""banknote_guard.reports: verification reports rendered from records (the history) or a live batch.

Kinds (:data:`~banknote_guard.reports.content.REPORT_KINDS`): a batch/shift report, a single-note
certificate, a suspect-note hand-over form. Formats (:data:`~banknote_guard.reports.render.REPORT_FORMATS`):
PDF (fpdf2, bundled Unicode font), HTML (one self-contained, autoescaped file), CSV (RFC 4180,
formulas neutralised) and JSON.

Modules: ``context`` (:class:`ReportContext`: who, where, when, which model), ``content`` (the
format-neutral document: header, summary, notes, details), ``charts`` (score gauge and distance
chart geometry), ``images`` (thumbnails, JPEG, data URIs), ``pdf``, ``html``, ``csv_export``,
``json_export``, ``render`` (:func:`render_report`, :func:`report_from_results`), ``preview``
(PDF pages as pictures for the GUI), ``fonts``.
"""
