"""``banknote-guard report`` from a history, ``verify --report OUT.pdf|.html``, and reports of live results."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from banknote_guard import api
from banknote_guard.cli import main


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def history(tmp_path, make_records) -> Path:
    """A history file with batch shift-7 (20 notes) and batch shift-8 (3 notes, one suspect)."""
    path = tmp_path / "history.sqlite"
    with api.open_history(path) as h:
        h.add_many(make_records(20))
        h.add_many(make_records(3, batch="shift-8", station="desk 4", seed=9))
    return path


def test_report_of_a_batch_in_every_kind_and_format(history, tmp_path, pdf_text, capsys) -> None:
    for kind in ("batch", "certificate", "handover"):
        for fmt in ("pdf", "html", "csv", "json"):
            out = tmp_path / f"{kind}.{fmt}"
            assert main(["report", "--history", str(history), "--batch", "shift-7", "--kind", kind, "-q",
                         "--out", str(out)]) == 0, (kind, fmt)
            assert out.stat().st_size > 0
    flat = _flat(pdf_text(tmp_path / "batch.pdf"))
    assert "Batch shift-7" in flat and "Genuine value 80 KRT, 20 VLM" in flat
    assert "note_0019.jpg" in flat and "shift-8" not in flat
    doc = json.loads((tmp_path / "handover.json").read_text(encoding="utf-8"))
    assert len(doc["notes"]) == 4 and {n["verdict"] for n in doc["notes"]} == {"suspect"}
    rows = list(csv.DictReader((tmp_path / "certificate.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == 20
    assert capsys.readouterr().err == ""


def test_report_of_a_time_span_and_of_chosen_records(history, tmp_path, capsys) -> None:
    out = tmp_path / "span.json"
    assert main(["report", "--history", str(history), "--since", "2026-11-29T08:00:10Z", "--until",
                 "2026-11-29T08:00:15Z", "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    # notes 10..14 of shift-7 (shift-8's notes are at 08:00:00..02)
    assert [n["path"].rsplit("/", 1)[-1] for n in doc["notes"]] == [f"note_{i:04d}.jpg" for i in range(10, 15)]
    assert doc["context"]["since"] == "2026-11-29T08:00:10Z"
    assert "Wrote the batch report of 5 note(s)" in capsys.readouterr().err
    with api.open_history(history) as h:
        first, second = h.query(batch="shift-8", with_images=False)[:2]
    cert = tmp_path / "cert.json"
    assert main(["report", "--history", str(history), "--record", first.id[:8], "--record", second.id,
                 "--kind", "certificate", "--out", str(cert), "-q"]) == 0
    assert [n["id"] for n in json.loads(cert.read_text(encoding="utf-8"))["notes"]] == [first.id, second.id]


def test_report_errors_are_one_readable_line(history, tmp_path, capsys) -> None:
    assert main(["report", "--history", str(history), "--out", str(tmp_path / "x.pdf")]) == 2
    assert "Say which notes to report" in capsys.readouterr().err
    assert main(["report", "--history", str(history), "--batch", "no-such-batch", "--out", str(tmp_path / "x.pdf")]) == 2
    assert "no notes to report" in capsys.readouterr().err
    assert main(["report", "--history", str(history), "--batch", "shift-7", "--out", str(tmp_path / "x.docx")]) == 2
    assert "must end in .pdf, .html, .csv or .json" in capsys.readouterr().err
    assert main(["report", "--history", str(history), "--batch", "shift-7", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    genuine_only = ["report", "--history", str(history), "--batch", "shift-7", "--verdict", "genuine",
                    "--kind", "handover", "--out", str(tmp_path / "h.pdf")]
    assert main(genuine_only) == 2
    assert "no suspect note to hand over" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "h.pdf").exists()
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code = main(["report", "--history", str(history), "--batch", "shift-7", "-q", "--out", str(locked / "r.pdf")])
        err = capsys.readouterr().err
        if code != 0:  # (root may write anywhere)
            assert code == 4 and "Nothing was overwritten" in err
    finally:
        locked.chmod(0o700)


@pytest.fixture
def model_and_notes(tmp_path, tiny_bundle, pattern_dataset) -> tuple[Path, list[Path]]:
    root, _records = pattern_dataset
    images = sorted(root.glob("TST/*/*/*.png"))[::7][:6]
    return tiny_bundle.save(tmp_path / "m.bgm"), images


def test_verify_writes_pdf_and_html_reports(model_and_notes, tmp_path, pdf_text, capsys) -> None:
    model, images = model_and_notes
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not a picture")
    pdf, page = tmp_path / "out.pdf", tmp_path / "out.html"
    for out in (pdf, page):
        code = main(["verify", "-q", str(model), *map(str, images), str(broken), "--report", str(out), "--no-history",
                     "--station", "desk <9>", "--operator", "Zoë", "--batch-id", "shift-42"])
        assert code in (0, 1, 3) and out.stat().st_size > 0
    flat = _flat(pdf_text(pdf))
    bundle = api.load_model(model)
    for fact in ("Batch report", "desk <9>", "Zoë", "shift-42", f"Model {bundle.identity}", "ERROR 1"):
        assert fact in flat, fact
    for image in images:
        assert image.name in flat
    html = page.read_text(encoding="utf-8")
    assert "desk &lt;9&gt;" in html and html.count('class="thumb"') == len(images)


def test_verify_report_names_the_recorded_batch(model_and_notes, tmp_path, capsys) -> None:
    model, images = model_and_notes
    hist = tmp_path / "h.sqlite"
    out = tmp_path / "r.html"
    main(["verify", "-q", str(model), *map(str, images[:2]), "--report", str(out), "--history", str(hist),
          "--station", "desk 2"])
    with api.open_history(hist) as h:
        (batch,) = h.batches()
    assert batch.id in out.read_text(encoding="utf-8") and batch.station == "desk 2"


def test_report_from_results_stores_the_straightened_notes(tiny_bundle, pattern_dataset, tmp_path) -> None:
    root, _ = pattern_dataset
    tiny_bundle = api.load_model(tiny_bundle.save(tmp_path / "m.bgm"))  # saved: it has an identity
    results = api.verify_paths(tiny_bundle, sorted(root.glob("TST/0/genuine/*.png"))[:3])
    records = api.records_from_results(results, batch="b", station="s", operator="o", model=tiny_bundle,
                                       hash_files=True)
    assert all(r.note_image and r.note_image[:2] == b"\xff\xd8" for r in records)
    assert all(r.image is None and len(r.image_sha256 or "") == 64 for r in records)
    out = api.report_from_results(results, out=tmp_path / "r.json", model=tiny_bundle, station="s", operator="o")
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["context"]["model"]["id"] == tiny_bundle.identity and len(tiny_bundle.identity) == 12
    assert {n["model_id"] for n in doc["notes"]} == {tiny_bundle.identity}
    assert set(doc["context"]["thresholds"]) == set(tiny_bundle.denominations)
    assert doc["summary"]["total"] == 3
