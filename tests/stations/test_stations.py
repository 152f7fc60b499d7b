"""Central models: publish to a shared folder, station check/update at start, hash checks, roll-back,
withdrawal, repair of a damaged model in use, and the ``banknote-guard model`` command."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from banknote_guard.cli import main
from banknote_guard.errors import ModelFileError
from banknote_guard.stations.shared import SharedModels, StationError
from banknote_guard.stations.station import Station, is_station, open_model


@pytest.fixture(autouse=True)
def _no_device_preference(monkeypatch: pytest.MonkeyPatch) -> None:
    """``--device`` sets a process-wide inference device; each test starts and ends without one."""
    from banknote_guard.model import devices

    monkeypatch.setattr(devices, "_requested", None)


@pytest.fixture
def models(tiny_bundle, tmp_path: Path) -> list[Path]:
    """Three different valid model files (the tiny model with three different notes in its summary)."""
    out = []
    for i in range(3):
        tiny_bundle.summary["station_test"] = i  # another summary: another file and SHA-256
        out.append(tiny_bundle.save(tmp_path / f"m{i}.bgm"))
    return out


@pytest.fixture
def desk(tmp_path: Path) -> tuple[SharedModels, Station]:
    """An empty shared folder and a station that reads it."""
    shared = SharedModels(tmp_path / "shared")
    return shared, Station(tmp_path / "station", shared=shared.root)


def flip_byte(path: Path, offset: int = -100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


# --- publishing -------------------------------------------------------------------------------------


def test_publish_numbers_versions_and_records_hashes(models: list[Path], tmp_path: Path) -> None:
    from banknote_guard.api import load_model

    shared = SharedModels(tmp_path / "shared")
    e1, new1 = shared.publish(models[0], note="first")
    e2, new2 = shared.publish(models[1])
    again, new3 = shared.publish(models[0])
    assert (e1.version, e2.version, new1, new2) == (1, 2, True, True)
    assert again.version == 1 and not new3  # the same model is not published twice
    assert e1.sha256 == load_model(models[0]).sha256 and e1.identity == e1.sha256[:12]
    assert (shared.root / e1.file).read_bytes() == models[0].read_bytes() and e1.size == models[0].stat().st_size
    manifest = json.loads((shared.root / "manifest.json").read_text())
    assert [m["version"] for m in manifest["models"]] == [1, 2] and manifest["models"][0]["note"] == "first"
    assert shared.latest() == e2 and [e.version for e in shared.versions()] == [1, 2]
    assert e1.model["denominations"] == load_model(models[0]).denominations


def test_a_damaged_model_is_never_published(models: list[Path], tmp_path: Path) -> None:
    shared = SharedModels(tmp_path / "shared")
    flip_byte(models[0])
    with pytest.raises(ModelFileError, match="altered|damaged"):
        shared.publish(models[0])
    with pytest.raises(ModelFileError, match="does not exist"):
        shared.publish(tmp_path / "missing.bgm")
    assert not (shared.root / "manifest.json").exists()


def test_concurrent_publishers_lose_nothing(models: list[Path], tmp_path: Path) -> None:
    shared = SharedModels(tmp_path / "shared")
    errors: list[BaseException] = []

    def publish(path: Path) -> None:
        try:
            SharedModels(shared.root).publish(path)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    versions = shared.versions()
    assert sorted(e.version for e in versions) == [1, 2, 3]
    assert len({e.sha256 for e in versions}) == 3 and all((shared.root / e.file).exists() for e in versions)


def test_an_unreachable_or_damaged_shared_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StationError, match="cannot be reached"):
        SharedModels(tmp_path / "nowhere").versions()
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "manifest.json").write_text("{not json")
    with pytest.raises(StationError, match="damaged"):
        SharedModels(tmp_path / "s").versions()


# --- stations ---------------------------------------------------------------------------------------


def test_publish_update_rollback_round_trip(models: list[Path], desk: tuple[SharedModels, Station]) -> None:
    shared, station = desk
    e1, _ = shared.publish(models[0])
    assert station.check().offered == e1
    first = station.update()
    assert first.changed and first.current == e1 and first.previous is None
    assert is_station(station.folder) and station.current_path.read_bytes() == models[0].read_bytes()

    e2, _ = shared.publish(models[1])
    at_start = Station(station.folder).start()  # the shared folder is remembered
    assert at_start.update is not None and at_start.update.changed and at_start.warning is None
    assert at_start.bundle.sha256 == e2.sha256 and at_start.record["model_version"] == 2
    assert at_start.record["model_sha256"] == e2.sha256 and at_start.record["model_id"] == e2.identity

    back = station.rollback()
    assert back.changed and back.current == e1 and back.previous == e2
    assert station.current_model().sha256 == e1.sha256
    # The version rolled back from is not installed again by the next check ...
    assert not station.check().update_available and not station.update().changed
    # ... but a newer one is, and the rolled-back one can still be asked for by number.
    e3, _ = shared.publish(models[2])
    assert station.update().current == e3
    assert station.update(version=2).current == e2
    log = [x["action"] for x in station.status()["log"]]
    assert log == ["install", "install", "rollback", "install", "install"]
    assert sorted(p.name for p in (station.folder / "models").iterdir()) == sorted(
        Path(e.file).name for e in (e2, e3)
    )  # the current and the previous version only


def test_a_tampered_shared_file_is_refused_and_the_station_keeps_its_model(models: list[Path], desk: tuple[SharedModels, Station]) -> None:
    shared, station = desk
    e1, _ = shared.publish(models[0])
    station.update()
    e2, _ = shared.publish(models[1])
    flip_byte(shared.root / e2.file)
    with pytest.raises(StationError, match="does not match its published SHA-256"):
        station.update()
    assert station.installed()[0] == e1 and station.current_model().sha256 == e1.sha256
    # The file replaced by another valid model (new file hash recorded too): the content digest catches it.
    (shared.root / e2.file).write_bytes(models[2].read_bytes())
    manifest = json.loads((shared.root / "manifest.json").read_text())
    import hashlib

    data = models[2].read_bytes()
    manifest["models"][1].update(file_sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    (shared.root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StationError, match="holds another model"):
        station.update()


def test_start_without_the_shared_folder_keeps_the_installed_model(models: list[Path], tmp_path: Path, desk: tuple[SharedModels, Station]) -> None:
    shared, station = desk
    shared.publish(models[0])
    station.update()
    (tmp_path / "shared").rename(tmp_path / "unmounted")
    report = Station(station.folder).start()
    assert report.update is None and "cannot be reached" in (report.warning or "")
    assert report.bundle.sha256 == station.installed()[0].sha256  # type: ignore[union-attr]
    with pytest.raises(StationError, match="no model installed yet"):
        Station(tmp_path / "new_station", shared=tmp_path / "shared").start()
    with pytest.raises(StationError, match="does not know its shared model folder"):
        Station(tmp_path / "other").check()


def test_a_damaged_model_in_use_is_repaired_or_refused(models: list[Path], desk: tuple[SharedModels, Station]) -> None:
    shared, station = desk
    e1, _ = shared.publish(models[0])
    station.update()
    flip_byte(station.current_path)
    assert station.current_model().sha256 == e1.sha256  # rebuilt from the station's copy
    assert station.status()["log"][-1]["action"] == "repair"
    station.current_path.write_bytes(models[1].read_bytes())  # a valid model, but not the installed one
    assert station.current_model().sha256 == e1.sha256
    flip_byte(station.current_path)
    flip_byte(station.folder / "models" / Path(e1.file).name)
    with pytest.raises(StationError, match="cannot be trusted"):  # fail closed: no model, no verdicts
        station.current_model()
    with pytest.raises(StationError, match="no previous model"):
        station.rollback()


def test_a_withdrawn_version_is_left_for_the_newest_live_one(models: list[Path], desk: tuple[SharedModels, Station]) -> None:
    shared, station = desk
    e1, _ = shared.publish(models[0])
    e2, _ = shared.publish(models[1])
    assert station.update().current == e2
    with pytest.raises(StationError, match="Say why"):
        shared.withdraw(2, reason=" ")
    shared.withdraw(2, reason="too many false alarms")
    found = station.check()
    assert found.current_withdrawn and found.offered == e1 and "withdrawn" in found.message
    assert station.update().current == e1  # older, but not withdrawn
    assert shared.latest() == e1
    with pytest.raises(StationError, match="was withdrawn"):
        station.update(version=2)
    with pytest.raises(StationError, match="has not been published"):
        station.update(version=9)


def test_open_model_takes_a_model_file_or_a_station(models: list[Path], tmp_path: Path, desk: tuple[SharedModels, Station]) -> None:
    shared, station = desk
    shared.publish(models[0])
    station.update()
    e2, _ = shared.publish(models[1])
    assert open_model(models[0]).path == models[0]
    bundle = open_model(station.folder)  # checks at start: installs version 2
    assert bundle.sha256 == e2.sha256 and bundle.path == station.current_path


# --- the command line -----------------------------------------------------------------------------------


def test_model_command_and_verify_at_a_station(models: list[Path], tmp_path: Path, pattern_dataset, capsys) -> None:
    root, records = pattern_dataset
    shared, station = str(tmp_path / "shared"), str(tmp_path / "station")
    assert main(["model", "publish", str(models[0]), "--shared", shared, "--note", "first"]) == 0
    assert "as version 1" in capsys.readouterr().out
    assert main(["model", "check", "--station", station, "--shared", shared]) == 1  # update available
    capsys.readouterr()
    assert main(["model", "update", "--station", station, "--shared", shared]) == 0
    assert "Installed version 1" in capsys.readouterr().out
    assert main(["model", "check", "--station", station]) == 0
    assert "Up to date" in capsys.readouterr().out
    assert main(["model", "publish", str(models[1]), "--shared", shared]) == 0
    assert main(["model", "list", "--shared", shared]) == 0
    listing = capsys.readouterr().out
    assert "v1" in listing and "v2" in listing and "first" in listing

    # verify with the station folder: the station checks at start, installs version 2, and the JSON names it.
    out = tmp_path / "results.json"
    main(["verify", station, str(records[0].path), "--json", str(out), "--quiet", "--device", "cpu"])
    doc = json.loads(out.read_text())
    published = {e["version"]: e for e in json.loads(
        (tmp_path / "shared" / "manifest.json").read_text())["models"]}
    assert doc["model"]["sha256"] == published[2]["sha256"]
    assert len(doc["results"]) == 1 and doc["results"][0]["status"] == "ok"

    assert main(["model", "rollback", "--station", station]) == 0
    assert "Rolled back to version 1" in capsys.readouterr().out
    assert main(["model", "status", "--station", station, "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["current"]["version"] == 1 and status["previous"]["version"] == 2
    assert main(["model", "withdraw", "1", "--shared", shared, "--reason", "bad"]) == 0
    capsys.readouterr()
    assert main(["model", "rollback", "--station", str(tmp_path / "empty")]) == 2
    assert "no previous model" in capsys.readouterr().err


def test_device_flag_on_every_command_refuses_a_missing_gpu(models: list[Path], tmp_path: Path, pattern_dataset,
                                                             capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    root, records = pattern_dataset
    commands = [
        ["verify", str(models[0]), str(records[0].path), "--device", "cuda"],
        ["enroll", str(models[0]), str(root), "--out", str(tmp_path / "e.bgm"), "--device", "cuda"],
        ["evaluate", str(models[0]), str(root), "--device", "cuda", "--quiet"],
        ["train", str(root), "--out", str(tmp_path / "t.bgm"), "--device", "cuda"],
    ]
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "--device cuda asks for a CUDA GPU" in err and "Traceback" not in err, argv
    assert not (tmp_path / "e.bgm").exists() and not (tmp_path / "t.bgm").exists()
