"""Fixtures of the history tests: records to store, a real PostgreSQL server, a switchable network path."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import threading
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from banknote_guard.history.records import NoteRecord

HERE = Path(__file__).resolve().parent


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"history_tests_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pgserver = _load("pgserver")


def make_record(i: int = 0, **fields: Any) -> NoteRecord:
    """A record with small stored pictures; every field can be overridden."""
    verdicts = ("genuine", "suspect", "genuine", "uncertain", "genuine", "unknown")
    base: dict[str, Any] = dict(
        batch=f"batch-{i // 10}", station="desk-1", operator="Ann", source="file", path=f"notes/n{i:04d}.jpg",
        verdict=verdicts[i % len(verdicts)], denomination=("EUR/20", "EUR/50", "KRT/10")[i % 3],
        counterfeit_score=0.5 + 0.37 * (i % 9), threshold=2.5, distances={"EUR/20": 0.1 * (i % 7), "EUR/50": 1.25},
        reasons=["Its denomination is not clear."] if i % 6 == 3 else [], model_id="abc123def456",
        model_sha256="ab" * 32, image=(f"picture {i} ".encode() * 40), note_image=f"note {i}".encode() * 20,
        created=f"2026-06-{1 + i // 100:02d}T{8 + (i // 10) % 10:02d}:{i % 60:02d}:00.000000+00:00",
    )
    base["image_sha256"] = hashlib.sha256(base["image"]).hexdigest()
    base.update(fields)
    return NoteRecord(**base)


@pytest.fixture(name="make_record")
def _make_record() -> Callable[..., NoteRecord]:
    return make_record


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A PostgreSQL server for the session (skipped only where no server binary exists)."""
    if pgserver.find_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: apt-get install postgresql")
    server = pgserver.PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.create_database(f"h_{uuid.uuid4().hex[:12]}")


class NetworkSwitch:
    """A TCP relay to a server that can be cut (refusing and dropping connections) and restored."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.online = True
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.online:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open.update({client, upstream})
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        """The network fails: new connections are dropped, open ones are cut."""
        self.online = False
        with self._lock:
            for s in self._open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self._open.clear()

    def restore(self) -> None:
        self.online = True

    def close(self) -> None:
        self._stop = True
        self.cut()
        self.listener.close()


@pytest.fixture
def network_switch(pg_server: Any) -> Iterator[NetworkSwitch]:
    switch = NetworkSwitch(pg_server.port)
    try:
        yield switch
    finally:
        switch.close()


def child_env() -> dict[str, str]:
    """Environment for a child Python process that imports banknote_guard from this checkout."""
    root = str(HERE.parents[1])
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.fixture(name="child_env")
def _child_env() -> dict[str, str]:
    return child_env()
