"""Fixtures of the report tests: records of a known batch (every verdict, errors, reviews), PDF text.

The batch made by :func:`make_records` is fixed, so the tests can state its counts and totals by hand:
a cycle of 10 notes — 5 genuine, 2 suspect, 1 uncertain, 1 retake, 1 unknown — with the 10th note of
every second cycle replaced by an unreadable file.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from banknote_guard.history.records import NoteRecord, Review
from banknote_guard.reports.context import ReportContext

DENOMS = ["KRT/5", "KRT/10", "KRT/20", "VLM/10"]
COLOURS = {"KRT/5": (40, 140, 60), "KRT/10": (40, 80, 180), "KRT/20": (180, 120, 40), "VLM/10": (150, 60, 170)}
#: (verdict, denomination, reasons) of the notes of one cycle.
CYCLE = [
    ("genuine", "KRT/5", []),
    ("genuine", "KRT/10", []),
    ("suspect", "KRT/10", []),
    ("genuine", "KRT/20", []),
    ("uncertain", "KRT/20", ["The denomination is ambiguous: KRT/20 and KRT/10 are almost equally close."]),
    ("genuine", "VLM/10", []),
    ("retake", "KRT/5", ["The picture is blurred."]),
    ("suspect", "VLM/10", []),
    ("unknown", None, ["Far from every known denomination."]),
    ("genuine", "KRT/10", []),
]


def note_jpeg(denom: str, seed: int, size: tuple[int, int] = (224, 112)) -> bytes:
    """A small note-like JPEG: the denomination's colour, stripes and noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    xx = np.arange(w)[None, :, None]
    base = np.array(COLOURS.get(denom or "", (120, 120, 120)), np.float32)[None, None, :]
    img = base * (0.7 + 0.3 * np.sin(xx * 0.2)) + rng.normal(0, 6, (h, w, 3))
    img[h // 3 : h // 2] *= 0.6
    buf = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def make_records(n: int = 10, *, names: list[str] | None = None, images: bool = True, seed: int = 0,
                 batch: str = "shift-7", station: str = "desk 3", operator: str = "A. Teller") -> list[NoteRecord]:
    """``n`` records of the fixed cycle (see the module docstring); ``names`` replace the file names in turn."""
    out = []
    for i in range(n):
        verdict, denom, reasons = CYCLE[i % len(CYCLE)]
        error = i % 10 == 9 and (i // 10) % 2 == 1
        path = f"/scans/{batch}/note_{i:04d}.jpg"
        if names:
            path = names[i % len(names)]
        threshold = 1.8
        score = {"genuine": 0.9 + (i % 7) * 0.1, "suspect": 2.6 + (i % 3) * 0.5, "uncertain": 1.7,
                 "retake": 1.2, "unknown": 9.5}[verdict]
        distances = {d: round(0.3 + 0.15 * ((DENOMS.index(d) * 7 + i * 3 + seed) % 10), 3) for d in DENOMS}
        if denom:
            distances[denom] = round(0.1 * score, 3)
        record = NoteRecord(
            batch=batch, station=station, operator=operator, source="file", path=path,
            status="error" if error else "ok",
            error="Cannot read image: not an image file or damaged" if error else None,
            verdict=None if error else verdict, denomination=None if error else denom,
            counterfeit_score=None if error else score, threshold=None if error else threshold,
            distances={} if error else distances, reasons=[] if error else list(reasons),
            model_id="0123456789ab", model_sha256="0123456789ab" + "cd" * 26,
            image_sha256=f"{i:064x}",
            image=note_jpeg(denom or "", seed + i, (448, 260)) if images and not error else None,
            note_image=note_jpeg(denom or "", seed + i) if images and not error else None,
            created=f"2026-11-29T{8 + i // 3600:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000000+00:00",
        )
        out.append(record)
    return out


@pytest.fixture(name="make_records")
def _make_records_fixture():  # noqa: ANN202
    return make_records


@pytest.fixture(name="note_jpeg")
def _note_jpeg_fixture():  # noqa: ANN202
    return note_jpeg


@pytest.fixture
def records() -> list[NoteRecord]:
    """20 notes of the fixed cycle: 9 genuine, 4 suspect, 2 uncertain, 2 retake, 2 unknown, 1 error.

    Genuine value 80 KRT and 20 VLM; suspect value 20 KRT and 20 VLM.
    """
    return make_records(20)


@pytest.fixture
def context() -> ReportContext:
    return ReportContext(
        operator="A. Teller", station="desk 3", batch="shift-7",
        model={"id": "0123456789ab", "sha256": "0123456789ab" + "cd" * 26, "false_alarm_rate": 0.01},
        thresholds={"KRT/5": 1.8, "KRT/10": 1.8, "KRT/20": 1.8, "VLM/10": 1.8}, threshold_scale=1.0,
        generated="2026-11-29T17:00:00+00:00",
    )


@pytest.fixture
def review_of():  # noqa: ANN201
    def make(record: NoteRecord, decision: str = "confirmed", **kw: object) -> Review:
        kw.setdefault("created", "2026-11-29T12:00:00+00:00")
        kw.setdefault("reviewer", "B. Supervisor")
        return Review(record_id=record.id, decision=decision, **kw)  # type: ignore[arg-type]

    return make


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} (poppler-utils) is not installed; .ci/run installs it")
    return path


@pytest.fixture
def pdf_text():  # noqa: ANN201
    """``pdf_text(path) -> str``: the text of a PDF as pdftotext reads it (layout kept)."""

    def read(path: Path) -> str:
        out = subprocess.run([_need("pdftotext"), "-layout", str(path), "-"], capture_output=True, check=True)
        return out.stdout.decode("utf-8")

    return read


@pytest.fixture
def pdf_pages(tmp_path: Path):  # noqa: ANN201
    """``pdf_pages(path, dpi=40) -> list[Path]``: every page rendered to PNG by pdftoppm."""

    def render(path: Path, dpi: int = 40) -> list[Path]:
        prefix = tmp_path / f"{Path(path).stem}-page"
        subprocess.run([_need("pdftoppm"), "-r", str(dpi), "-png", str(path), str(prefix)], check=True,
                       capture_output=True)
        return sorted(tmp_path.glob(f"{prefix.name}-*.png"))

    return render
