"""Atomic writing (every failure is one clear OutputError, nothing is lost) and the file lock."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from banknote_guard import fileio
from banknote_guard.errors import BanknoteGuardError, DiskFullError, FileBusyError, OutputError
from banknote_guard.fileio import atomic_path, atomic_write_bytes, atomic_write_text, locked

ROOT = Path(__file__).resolve().parents[2]


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_atomic_write_replaces_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "model.bin"
    atomic_write_bytes(target, b"one")
    assert target.read_bytes() == b"one"
    os.chmod(target, 0o640)
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    if os.name != "nt":
        assert target.stat().st_mode & 0o777 == 0o640
    assert _only(target.parent) == ["model.bin"]  # no temporary file left


def _save_error(target: Path) -> OutputError:
    with pytest.raises(OutputError) as info:
        atomic_write_text(target, "new")
    err = info.value
    assert isinstance(err, BanknoteGuardError)
    text = str(err)
    assert str(target) in text and "Nothing was overwritten." in text and "\n" not in text
    assert "Errno" not in text and "Traceback" not in text
    return err


def test_target_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out.json").mkdir()
    (tmp_path / "out.json" / "keep.txt").write_text("keep")
    err = _save_error(tmp_path / "out.json")
    assert "folder of that name" in str(err)
    assert (tmp_path / "out.json" / "keep.txt").read_text() == "keep"
    assert _only(tmp_path) == ["out.json"]


def test_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "report").write_text("a file")
    assert "is a file, not a folder" in str(_save_error(tmp_path / "report" / "r.json"))
    assert "is a file, not a folder" in str(_save_error(tmp_path / "report" / "deeper" / "r.json"))
    assert (tmp_path / "report").read_text() == "a file"


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"old")
    os.chmod(folder, 0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: permissions do not stop writing")
        err = _save_error(folder / "model.bin")
        assert "permission denied" in str(err)
        assert _save_error(folder / "new" / "x.bin").reason is not None
    finally:
        os.chmod(folder, 0o755)
    assert (folder / "model.bin").read_bytes() == b"old"


@pytest.mark.parametrize(
    ("where", "code", "words", "cls"),
    [
        ("mkstemp", errno.EACCES, "permission denied", OutputError),
        ("mkstemp", errno.EROFS, "read-only", OutputError),
        ("mkdir", errno.EACCES, "permission denied", OutputError),
        ("write", errno.ENOSPC, "disk is full", DiskFullError),
        ("write", getattr(errno, "EDQUOT", errno.ENOSPC), "", DiskFullError),
        ("fsync", errno.EIO, "disk reported an error", OutputError),
        ("replace", errno.EACCES, "permission denied", OutputError),
        ("replace", errno.EXDEV, "", OutputError),
    ],
)
def test_every_os_error_on_the_way_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, code: int, words: str, cls: type
) -> None:
    target = tmp_path / "sub" / "model.bin"
    if where != "mkdir":
        atomic_write_bytes(target, b"old")

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    if where == "mkstemp":
        monkeypatch.setattr(tempfile, "mkstemp", fail)
    elif where == "mkdir":
        monkeypatch.setattr(Path, "mkdir", fail)
    elif where == "fsync":
        monkeypatch.setattr(os, "fsync", fail)
    elif where == "replace":
        monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(cls) as info:
        with atomic_path(target) as tmp:
            if where == "write":
                fail()
            tmp.write_bytes(b"new")
    err = info.value
    assert isinstance(err, OutputError) and err.path == target and err.reason
    assert words in str(err) and "Nothing was overwritten." in str(err)
    if where != "mkdir":
        assert target.read_bytes() == b"old"
        assert _only(target.parent) == ["model.bin"]


def test_errors_that_are_not_about_the_disk_pass_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    with pytest.raises(OSError, match="cannot write mode") as info:
        with atomic_path(target):
            raise OSError("cannot write mode RGBA as JPEG")  # what Pillow raises: no errno
    assert not isinstance(info.value, BanknoteGuardError)
    with pytest.raises(KeyError):
        with atomic_path(target):
            raise KeyError("x")
    assert _only(tmp_path) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_files_are_cleaned_up_safely(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    old = time.time() - fileio.STALE_TEMP_AGE_S - 60
    dead, alive = _dead_pid(), os.getppid()
    files = {
        "dead_old": f".model.bin.{dead}.abcd_123.tmp",  # killed long ago: removed
        "legacy_old": ".model.bin.k2j4h5g6.tmp",  # older version, no pid: removed when old
        "dead_young": f".model.bin.{dead}.zzzzzzzz.tmp",  # may belong to a writer on another machine
        "alive_old": f".model.bin.{alive}.qqqqqqqq.tmp",  # its writer still runs
        "other_target": f".model.bin.bak.{dead}.abcdefgh.tmp",  # temp of model.bin.bak
        "not_ours": ".model.bin.notes.tmp",
    }
    for key, name in files.items():
        (tmp_path / name).write_bytes(b"partial")
        if key != "dead_young":
            os.utime(tmp_path / name, (old, old))
    atomic_write_bytes(target, b"new")
    left = set(_only(tmp_path))
    assert files["dead_old"] not in left and files["legacy_old"] not in left
    for key in ("dead_young", "alive_old", "other_target", "not_ours"):
        assert files[key] in left, key
    assert target.read_bytes() == b"new"


def test_temporary_name_records_the_writer(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "a.json") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(f".a.json.{os.getpid()}.")
        assert tmp.name.endswith(".tmp")
        tmp.write_text("{}")


# --------------------------------------------------------------------------------------------------
# lock

_COUNTER_SCRIPT = r"""
import sys, time
from pathlib import Path
from banknote_guard.fileio import atomic_write_text, locked
counter = Path(sys.argv[1])
for _ in range(50):
    with locked(counter, timeout=60):
        n = int(counter.read_text())
        time.sleep(0.002)  # widen the window a lost update would need
        atomic_write_text(counter, str(n + 1))
"""


@pytest.mark.timeout(120)
def test_lock_serialises_read_modify_write_between_processes(tmp_path: Path) -> None:
    counter = tmp_path / "counter.txt"
    counter.write_text("0")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    procs = [
        subprocess.Popen([sys.executable, "-c", _COUNTER_SCRIPT, str(counter)], env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=100)
        assert p.returncode == 0, err.decode()
    assert counter.read_text() == "100"
    assert (tmp_path / "counter.txt.lock").exists()  # left in place on purpose


@pytest.mark.timeout(30)
def test_lock_timeout_gives_a_clear_error(tmp_path: Path) -> None:
    model = tmp_path / "demo.bgm"
    with locked(model):
        start = time.monotonic()
        with pytest.raises(FileBusyError) as info:
            with locked(model, timeout=0.3, what="the model"):
                pass  # pragma: no cover
        assert time.monotonic() - start >= 0.25
    text = str(info.value)
    assert text.startswith("The model ") and str(model) in text
    assert "being changed by another program; try again" in text
    with locked(model, timeout=0):  # free again
        pass


def test_lock_in_a_place_that_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        with locked(tmp_path / "file" / "model.bgm"):
            pass  # pragma: no cover
