"""Several desks, one history: each desk's SQLite outbox reaches the PostgreSQL server exactly once."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from banknote_guard.history.records import Review
from banknote_guard.history.server import ServerHistory
from banknote_guard.history.station import StationHistory
from banknote_guard.history.store import open_history

STATION = r"""
import sys, time
from banknote_guard.history.records import NoteRecord
from banknote_guard.history.station import StationHistory

url, outbox, name, n, ids_file = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
h = StationHistory(url, outbox, retry_s=0.3, connect_timeout_s=2)
offline_adds = 0
with open(ids_file, "w") as ids:
    for i in range(n):
        rec = NoteRecord(batch=f"{name}-shift", station=name, operator=f"op-{name}", source="camera",
                         path=f"frame {i}", verdict="suspect" if i % 7 == 0 else "genuine", denomination="EUR/10",
                         counterfeit_score=0.1 * i, threshold=3.0, distances={"EUR/10": 0.01 * i},
                         image=f"{name} frame {i}".encode() * 50)
        h.add(rec)  # committed to the outbox, then sent when the server answers
        offline_adds += not h.online
        ids.write(rec.id + "\n")
        ids.flush()
        time.sleep(0.05)  # slow enough that a loaded machine still notices the cut network mid-batch
deadline = time.monotonic() + 90
report = h.sync()
while report.waiting and time.monotonic() < deadline:
    time.sleep(0.3)
    report = h.sync()
h.close()
print(f"waiting={report.waiting} offline_adds={offline_adds}", flush=True)
"""


def _lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        return []


def _wait_for(path: Path, n: int, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(_lines(path)) < n:
        assert proc.poll() is None, f"the desk ended early: {proc.communicate()}"
        assert time.monotonic() < deadline, f"the desk wrote {len(_lines(path))} of {n} notes in time"
        time.sleep(0.02)


def test_two_desks_one_offline_for_a_while_every_record_arrives_exactly_once(
    pg_server: Any, pg_url: str, network_switch: Any, tmp_path: Path, child_env: dict[str, str]
) -> None:
    n = 60
    direct = pg_url
    through_switch = pg_server.url(pg_url.rsplit("/", 1)[1], port=network_switch.port)
    ServerHistory(direct).close()  # the schema exists before the desks start (they would create it too)
    desks = {}
    for name, url in (("desk-a", direct), ("desk-b", through_switch)):
        ids = tmp_path / f"{name}.ids"
        proc = subprocess.Popen([sys.executable, "-c", STATION, url, str(tmp_path / f"{name}.sqlite"), name, str(n),
                                 str(ids)], env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        desks[name] = (proc, ids)
    proc_b, ids_b = desks["desk-b"]
    _wait_for(ids_b, n // 4, proc_b)
    network_switch.cut()  # desk B loses the network mid-batch, connections dropped
    cut_at = time.monotonic()
    _wait_for(ids_b, 3 * n // 4, proc_b)
    time.sleep(max(0.0, 1.5 - (time.monotonic() - cut_at)))  # offline for a while, however fast desk B writes
    network_switch.restore()
    outputs = {}
    for name, (proc, _) in desks.items():
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        outputs[name] = out
    assert "waiting=0" in outputs["desk-a"] and "waiting=0" in outputs["desk-b"]
    offline_adds = int(outputs["desk-b"].split("offline_adds=")[1])
    assert offline_adds >= n // 4  # desk B really worked offline for part of the batch

    written = {name: _lines(ids) for name, (_, ids) in desks.items()}
    with ServerHistory(direct) as server:
        records = server.query(with_images=False)
        ids = [r.id for r in records]
        assert len(ids) == len(set(ids)) == 2 * n  # every note once, none twice
        assert set(ids) == set(written["desk-a"]) | set(written["desk-b"])
        for name in desks:
            got = [r.id for r in records if r.station == name]
            assert sorted(got) == sorted(written[name])
        with server.engine.connect() as conn:
            from sqlalchemy import text

            kinds = conn.execute(text("SELECT kind, COUNT(*), COUNT(DISTINCT subject) FROM events GROUP BY kind")).all()
        assert [tuple(k) for k in kinds] == [("record", 2 * n, 2 * n)]
        assert server.verify_chain().ok
        picture = server.get(written["desk-b"][n // 2])
        assert picture.image == f"desk-b frame {n // 2}".encode() * 50
    for name in desks:  # each outbox still holds its own desk's notes, and its chain is intact
        with open_history(tmp_path / f"{name}.sqlite") as outbox:
            assert len(outbox.query(with_images=False)) == n and outbox.verify_chain().ok


def test_a_desk_works_offline_and_sends_everything_when_the_server_answers(
    pg_server: Any, pg_url: str, network_switch: Any, tmp_path: Path, make_record: Any
) -> None:
    url = pg_server.url(pg_url.rsplit("/", 1)[1], port=network_switch.port)
    network_switch.cut()
    desk = StationHistory(url, tmp_path / "outbox.sqlite", retry_s=60, connect_timeout_s=2)
    try:
        assert not desk.online and "NOT REACHED" in desk.status()
        records = [make_record(i, station="desk-x") for i in range(8)]
        for r in records:
            desk.add(r)
        desk.review(Review(record_id=records[1].id, decision="confirmed", reviewer="Bob"))
        assert [r.id for r in desk.query()] == [r.id for r in records]  # read from the outbox meanwhile
        assert desk.sync().waiting == 9
        network_switch.restore()
        report = desk.sync()
        assert report.online and report.sent == 9 and report.new_on_server == 9 and report.waiting == 0
        assert desk.sync().sent == 0  # nothing is sent twice
        assert len(desk.query()) == 8 and desk.reviews(records[1].id)[0].reviewer == "Bob"
        assert desk.verify_chain().ok
    finally:
        desk.close()
    # a second desk reviews a note of the first one: it is fetched from the server, reviewed, sent
    other = StationHistory(pg_url, tmp_path / "other.sqlite")
    try:
        other.review(Review(record_id=records[2].id, decision="released", reviewer="Chief"))
        assert [v.reviewer for v in other.reviews(records[2].id)] == ["Chief"]
        assert other.status().startswith("server") and "connected" in other.status()
    finally:
        other.close()
    with ServerHistory(pg_url) as server:
        assert len(server.query()) == 8 and len(server.reviews()) == 2 and server.verify_chain().ok


def test_resending_after_a_lost_acknowledgement_is_harmless(pg_url: str, tmp_path: Path, make_record: Any) -> None:
    desk = StationHistory(pg_url, tmp_path / "outbox.sqlite")
    try:
        for i in range(5):
            desk.add(make_record(i))
        assert desk.sync().waiting == 0
        server_id = desk._server.history_id  # noqa: SLF001 - forget the acknowledgement, as a crash would
        raw = desk.local._conn  # noqa: SLF001
        raw.execute("DELETE FROM sync_state WHERE target = ?", (server_id,))
        report = desk.sync()
        assert report.sent == 5 and report.new_on_server == 0
    finally:
        desk.close()
    with ServerHistory(pg_url) as server:
        assert len(server.query()) == 5 and server.verify_chain().checked == 5


def test_an_unreachable_server_never_stops_a_desk(tmp_path: Path, make_record: Any) -> None:
    import socket

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    desk = open_history(f"postgresql://bg:secret@127.0.0.1:{port}/history", outbox=tmp_path / "outbox.sqlite")
    try:
        desk.add(make_record(1))
        desk.add(make_record(2))
        assert len(desk.query()) == 2
        status = desk.status()
        assert "NOT REACHED" in status and "2 item(s) waiting" in status and "secret" not in status
    finally:
        desk.close()
    assert time.monotonic() - started < 30


def test_desks_starting_together_set_up_the_server_once(pg_url: str) -> None:
    import threading

    ids: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            with ServerHistory(pg_url) as server:
                ids.append(server.history_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(ids) == 4 and len(set(ids)) == 1
    with ServerHistory(pg_url) as server:
        assert server.schema_revision() == "0001"


def test_a_server_set_up_by_a_newer_version_is_left_untouched(pg_url: str, make_record: Any) -> None:
    from sqlalchemy import text

    from banknote_guard.history.errors import HistoryVersionError

    with ServerHistory(pg_url) as server:
        server.add(make_record(1))
        with server.engine.begin() as conn:
            conn.execute(text("UPDATE banknote_guard_schema SET version_num = '0099'"))
    with pytest.raises(HistoryVersionError, match="newer version"):
        ServerHistory(pg_url)
    with ServerHistory(pg_url, migrate=False) as server:
        assert len(server.query()) == 1
