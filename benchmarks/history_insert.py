"""How fast verified notes go into the history: records per second for a batch of 1,000 notes.

Run:  .venv/bin/python benchmarks/history_insert.py [--quick] [--notes 1000] [--no-server]

Setup (not timed): ``--notes`` records are built from the bundled sample notes the way the recorder
builds them (the picture's SHA-256, a JPEG copy of the picture at most 1600 px on its longest side, a
JPEG of the straightened note); each record's pictures are made unique, as real pictures are, so the
content-addressed picture store never saves work by finding a picture it already has.

Measured, each on a fresh, empty history:

* recording cost per note (:meth:`HistoryRecorder.make_record`: hash the file, decode it, write the two
  JPEG copies), the CPU work the recorder adds to a verification, without the database;
* SQLite file (WAL, ``synchronous=FULL``): ``add`` one note per transaction (what ``verify`` and the
  desktop application do: a crash loses at most the note being written) and ``add_many`` of the whole
  batch in one transaction;
* PostgreSQL (a local server started for the run, ``fsync=on``, over TCP on 127.0.0.1): the same two;
* a desk of that server (``StationHistory``: each note committed to the desk's SQLite outbox and sent
  to the server at most a second later, together with the notes written meanwhile), one note at a
  time; the same desk while the server cannot be reached (outbox only), and the time it then takes to
  send the whole waiting batch when the server answers again;
* ``verify_chain`` over the finished 1,000-note history (every hash, row and stored picture re-checked),
  and opening that SQLite file again (its ``quick_check`` reads the whole file).

The PostgreSQL server comes from the Debian ``postgresql`` package (``tests/history/pgserver.py``
starts it on a temporary folder); ``--no-server`` or a machine without it measures SQLite only.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _benchutil import machine_header  # noqa: E402

from banknote_guard import api  # noqa: E402
from banknote_guard.history.recorder import HistoryRecorder  # noqa: E402
from banknote_guard.history.records import NoteRecord  # noqa: E402
from banknote_guard.history.server import ServerHistory  # noqa: E402
from banknote_guard.history.station import StationHistory  # noqa: E402
from banknote_guard.history.store import open_history  # noqa: E402
from banknote_guard.verify.result import VerificationResult  # noqa: E402


def _pgserver() -> Any:
    spec = importlib.util.spec_from_file_location("pgserver", ROOT / "tests" / "history" / "pgserver.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_results(n: int) -> list[VerificationResult]:
    """``n`` results on the bundled sample notes (cycled), each with a straightened note of model size."""
    files = sorted(Path(api.sample_notes_dir()).glob("*.jpg"))
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        rectified = rng.integers(0, 255, (128, 256, 3), dtype=np.uint8)
        rectified[:, :, 1] = np.linspace(0, 255, 256, dtype=np.uint8)[None, :]  # some structure, like a note
        out.append(VerificationResult(path=str(files[i % len(files)]), denomination="KRT/10", verdict="genuine",
                                      counterfeit_score=1.2, threshold=3.3, distances={"KRT/10": 0.5, "KRT/20": 1.4},
                                      rectified=rectified))
    return out


def build_records(n: int) -> tuple[list[NoteRecord], float]:
    """``n`` records made by the recorder; returns them and the recorder's seconds per note."""
    recorder = HistoryRecorder(history=None, station="bench-desk", operator="bench", batch="bench")  # type: ignore[arg-type]
    results = sample_results(n)
    start = time.perf_counter()
    records = [recorder.make_record(r) for r in results]
    per_note = (time.perf_counter() - start) / n
    for i, rec in enumerate(records):  # unique pictures, as real ones are
        tag = f"#{i}".encode()
        rec.image = (rec.image or b"") + tag
        rec.note_image = (rec.note_image or b"") + tag
    return records, per_note


def fresh(records: list[NoteRecord]) -> list[NoteRecord]:
    """Copies with new ids (each measurement starts from records no store has seen)."""
    out = []
    for r in records:
        c = NoteRecord(**{**r.__dict__, "id": str(uuid.uuid4())})
        out.append(c)
    return out


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def one_by_one(store: Any, records: list[NoteRecord]) -> float:
    return timed(lambda: [store.add(r) for r in records])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--notes", type=int, default=1000)
    p.add_argument("--quick", action="store_true", help="100 notes")
    p.add_argument("--no-server", action="store_true", help="measure SQLite only")
    args = p.parse_args()
    n = 100 if args.quick else args.notes
    print(machine_header("history insert rate", torch_threads=0))
    records, recorder_s = build_records(n)
    sizes = [len(r.image or b"") + len(r.note_image or b"") for r in records]
    print(f"notes: {n}; stored pictures per note: {statistics.mean(sizes) / 1024:.0f} KiB on average "
          f"(picture copy {statistics.mean(len(r.image or b'') for r in records) / 1024:.0f} KiB)")
    rows: list[tuple[str, float, str]] = [("recorder: hash + picture copies (no database)", recorder_s, "per note")]
    work = Path(tempfile.mkdtemp(prefix="bg-bench-history-"))
    try:
        measure(args, records, rows, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    width = max(len(r[0]) for r in rows) + 1
    print(f"{'what':<{width}} {'time':>14} {'records/s':>10}")
    for what, seconds, unit in rows:
        rate = f"{1 / seconds:,.0f}" if unit == "per note" else ""
        shown = f"{seconds * 1000:.2f} ms" if unit == "per note" else f"{seconds:.2f} s"
        print(f"{what:<{width}} {shown + (' /note' if unit == 'per note' else ''):>14} {rate:>10}")


def measure(args: argparse.Namespace, records: list[NoteRecord], rows: list[tuple[str, float, str]],
            work: Path) -> None:
    """Append (what, seconds, "per note" or "total") rows for every store."""
    n = len(records)

    h = open_history(work / "one.sqlite")
    rows.append(("SQLite: add, one transaction per note", one_by_one(h, fresh(records)) / n, "per note"))
    rows.append(("SQLite: verify_chain, whole history", timed(lambda: h.verify_chain()), "total"))
    h.close()
    size_mib = (work / "one.sqlite").stat().st_size / 2**20
    rows.append((f"SQLite: open the {size_mib:.0f} MiB file (quick_check; file in the disk cache)",
                 timed(lambda: open_history(work / "one.sqlite").close()), "total"))
    h = open_history(work / "many.sqlite")
    rows.append(("SQLite: add_many, one transaction per batch", timed(lambda: h.add_many(fresh(records))) / n,
                 "per note"))
    h.close()

    server = None
    if not args.no_server:
        pg = _pgserver()
        if pg.find_bin_dir() is None:
            print("PostgreSQL server binaries not found: server figures skipped (apt-get install postgresql)")
        else:
            server = pg.PostgresServer(fsync=True).start()
    if server is not None:
        try:
            s = ServerHistory(server.create_database("one"))
            rows.append(("PostgreSQL: add, one transaction per note", one_by_one(s, fresh(records)) / n, "per note"))
            rows.append(("PostgreSQL: verify_chain, whole history", timed(lambda: s.verify_chain()), "total"))
            s.close()
            s = ServerHistory(server.create_database("many"))
            rows.append(("PostgreSQL: add_many, one transaction per batch",
                         timed(lambda: s.add_many(fresh(records))) / n, "per note"))
            s.close()
            desk_url = server.create_database("desk")
            desk = StationHistory(desk_url, work / "outbox.sqlite")
            rows.append(("desk of the server: add (outbox commit, sent each second)",
                         timed(lambda: ([desk.add(r) for r in fresh(records)], desk.sync())) / n, "per note"))
            desk.close()
            offline = StationHistory(pg.PostgresServer.url(server, "desk", port=pg.free_port()),
                                     work / "outbox2.sqlite", connect_timeout_s=1)
            rows.append(("desk, server unreachable: add (outbox commit only)", one_by_one(offline, fresh(records)) / n,
                         "per note"))
            offline.close()
            opened: list[StationHistory] = []  # the server answers again: opening the desk sends what waits
            seconds = timed(lambda: opened.append(StationHistory(desk_url, work / "outbox2.sqlite")))
            assert opened[0].sync().waiting == 0
            rows.append((f"desk back online: send the {n} waiting notes", seconds / n, "per note"))
            opened[0].close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
