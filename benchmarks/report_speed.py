"""Report generation time for a large batch: PDF, HTML, CSV and JSON of 1,000 notes.

Run:  .venv/bin/python benchmarks/report_speed.py [--notes 1000] [--repeats 3] [--quick] [--out DIR]

Setup (not timed): the bundled sample notes (assets/sample_notes) are verified once with the bundled
demo model, and their records are made as the history stores them: the picture as captured (the
file's JPEG), the straightened note (JPEG) and the verdict. A batch of ``--notes`` records is drawn
from them: genuine notes, with every 40th note a suspect one (2.5 %, each with a detail section in the
batch report), every record with its own id, time and straightened picture (faint noise of its own).

Timed, best and median of ``--repeats`` runs, each writing the file (atomically, as the product does):
the batch report in every format (``api.render_report``), the hand-over forms of the suspect notes
(PDF), and once the certificates of every note (PDF, one page per note). Printed: wall seconds (best,
median), the process's CPU seconds (best; less sensitive to other load on the machine), notes per
second, file size and pages; peak resident memory of the process at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _benchutil import machine_header, peak_rss_mib


def sample_records(notes: int):  # noqa: ANN201 - list[NoteRecord], imported lazily
    """``notes`` records drawn from the verified sample notes (see the module docstring)."""
    from banknote_guard import api

    model = api.load_model(api.demo_model_path())
    files = sorted(p for p in api.sample_notes_dir().iterdir() if p.suffix.lower() == ".jpg")
    results = api.verify_paths(model, files)
    base = api.records_from_results(results, batch="bench-1000", station="desk 3", operator="A. Teller",
                                    model=model, hash_files=True)
    for record, path in zip(base, files):
        record.image = path.read_bytes()
    genuine = [r for r in base if r.status == "ok" and r.verdict == "genuine"]
    suspect = [r for r in base if r.status == "ok" and r.verdict == "suspect"]
    if not genuine or not suspect:
        raise SystemExit("the demo model judged no sample note genuine (or none suspect); cannot build the batch")
    out = []
    for i in range(notes):
        pool = suspect if i % 40 == 39 else genuine
        source = pool[i % len(pool)]
        out.append(dataclasses.replace(source, id=str(uuid.uuid4()), note_image=_variant(source.note_image, i),
                                       created=f"2026-11-29T{8 + i // 3600:02d}:{(i // 60) % 60:02d}:{i % 60:02d}+00:00"))
    return model, out


def _variant(jpeg: bytes | None, seed: int) -> bytes | None:
    """The straightened note with faint noise of its own, so that no two notes share a picture (as in a
    real batch; identical pictures would be stored once in a PDF and make it look smaller than it is)."""
    import io

    import numpy as np
    from PIL import Image

    if jpeg is None:
        return None
    rgb = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"), dtype=np.int16)
    noise = np.random.default_rng(seed).integers(-3, 4, rgb.shape, dtype=np.int16)
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb + noise, 0, 255).astype(np.uint8)).save(buf, "JPEG", quality=88)
    return buf.getvalue()


def pages(path: Path) -> str:
    try:
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 notes, 1 run (a check that the script works)")
    parser.add_argument("--out", type=Path, default=None, help="keep the reports in this folder")
    args = parser.parse_args()
    if args.quick:
        args.notes, args.repeats = 100, 1
    from banknote_guard import api

    t0 = time.perf_counter()
    model, records = sample_records(args.notes)
    setup_s = time.perf_counter() - t0
    print(machine_header("Report generation speed"))
    suspects = sum(1 for r in records if r.verdict == "suspect")
    print(f"batch:   {len(records)} notes ({suspects} suspect, {len(records) - suspects} genuine) from the verified "
          f"sample notes; setup {setup_s:.1f} s")
    context = api.ReportContext.from_model(model, operator="A. Teller", station="desk 3", batch="bench-1000")
    out = args.out or Path(tempfile.mkdtemp(prefix="report_speed_"))
    out.mkdir(parents=True, exist_ok=True)

    jobs = [("batch", fmt, args.repeats) for fmt in ("pdf", "html", "csv", "json")]
    jobs += [("handover", "pdf", args.repeats), ("certificate", "pdf", 1)]
    print(f"{'report':<18}{'best':>9}{'median':>9}{'cpu':>9}{'notes/s':>9}{'size':>11}{'pages':>7}")
    for kind, fmt, repeats in jobs:
        target = out / f"{kind}.{fmt}"
        times, cpu = [], []
        for _ in range(max(1, repeats)):
            t, c = time.perf_counter(), time.process_time()
            api.render_report(kind, records, context, fmt=fmt, out=target)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        best, median = min(times), statistics.median(times)
        size = target.stat().st_size / 1024
        size_text = f"{size / 1024:.1f} MiB" if size >= 1024 else f"{size:.0f} KiB"
        print(f"{kind + ' ' + fmt.upper():<18}{best:>8.2f}s{median:>8.2f}s{min(cpu):>8.2f}s{len(records) / median:>9.0f}"
              f"{size_text:>11}{pages(target) if fmt == 'pdf' else '':>7}")
    print(f"memory:  peak RSS {peak_rss_mib():.0f} MiB (verification of the sample notes included)")
    print(f"files:   {out}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
