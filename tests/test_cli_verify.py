"""The train, enroll and verify commands: exit codes, output files, and one end-to-end run."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from banknote_guard.cli import main
from banknote_guard.verify.bundle import ModelBundle


def _model(tmp_path: Path, threshold: float | None = None) -> Path:
    """A tiny model file built from the verify tests' pattern images, with thresholds forced if asked."""
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.verify.calibration import CalibrationConfig
    from banknote_guard.workflows.training import build_bundle

    root = tmp_path / "data"
    records = _pattern_records(root)
    net, cfg = _tiny_net()
    bundle, _ = build_bundle(net, cfg, TrainConfig(model=cfg), records[::2], records[1::2],
                             calibration=CalibrationConfig(false_alarm_rate=0.05))
    if threshold is not None:
        for d in bundle.calibration.thresholds:
            bundle.calibration.thresholds[d] = threshold
        bundle.calibration.unknown_threshold = float("inf")
    return bundle.save(tmp_path / "m.bgm")


def _pattern_records(root: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("tests_conftest", Path(__file__).parent / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.write_pattern_dataset(root, denoms=(0, 1), genuine=6, counterfeit=2)


def _tiny_net():
    import torch

    from banknote_guard.model.config import ModelConfig
    from banknote_guard.model.network import EmbeddingNet

    torch.manual_seed(0)
    cfg = ModelConfig(backbone="small_cnn", embedding_dim=8, image_height=32, image_width=64)
    return EmbeddingNet(cfg).eval(), cfg


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    genuine_model = _model(tmp / "g", threshold=1e9)  # every note genuine
    suspect_model = _model(tmp / "s", threshold=0.0)  # every note suspect
    images = sorted((tmp / "g" / "data" / "TST" / "0" / "genuine").glob("*.png"))[:2]
    broken = tmp / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff garbage")
    return {"genuine": genuine_model, "suspect": suspect_model, "images": images, "broken": broken, "tmp": tmp}


def test_exit_codes(files, capsys) -> None:
    g, s, imgs, broken = files["genuine"], files["suspect"], files["images"], files["broken"]
    assert main(["verify", str(g), *map(str, imgs)]) == 0
    out = capsys.readouterr().out
    assert "genuine" in out and "TST/0" in out and "2 file(s): 2 genuine" in out
    assert main(["verify", str(s), *map(str, imgs)]) == 1
    assert main(["verify", "-q", str(g), str(imgs[0]), str(broken)]) == 3
    assert "error:" in capsys.readouterr().err
    assert main(["verify", "-q", str(g), str(broken)]) == 3
    assert main(["verify", "-q", str(s), str(imgs[0]), str(broken)]) == 1
    assert main(["verify", str(files["tmp"] / "no_model.bgm"), str(imgs[0])]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_json_and_csv_outputs(files, tmp_path) -> None:
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    code = main(["verify", "-q", str(files["suspect"]), str(files["images"][0]), str(files["broken"]),
                 "--json", str(out_json), "--report", str(out_csv)])
    assert code == 1
    doc = json.loads(out_json.read_text())
    assert set(doc) >= {"model", "results"}
    assert doc["model"]["denominations"] == ["TST/0", "TST/1"]
    first, second = doc["results"]
    assert first["status"] == "ok" and first["verdict"] == "suspect" and first["denomination"] == "TST/0"
    assert set(first["distances"]) == set(first["probabilities"]) == {"TST/0", "TST/1"}
    assert second["status"] == "error" and second["verdict"] is None and "broken.jpg" in second["error"]
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert float(rows[0]["counterfeit_score"]) == pytest.approx(first["counterfeit_score"])


def test_an_unknown_report_format_is_refused_clearly(files, capsys) -> None:
    assert main(["verify", str(files["genuine"]), str(files["images"][0]), "--report", "x.xlsx"]) == 2
    assert "--report 'x.xlsx'" in capsys.readouterr().err


def test_enroll_command_writes_a_new_model(files, tmp_path, capsys) -> None:
    data = tmp_path / "new"
    src = files["tmp"] / "g" / "data" / "TST" / "1"
    shutil.copytree(src, data / "ABC" / "9")
    out = tmp_path / "enrolled.bgm"
    assert main(["enroll", str(files["genuine"]), str(data), "--out", str(out), "--k", "3"]) == 0
    captured = capsys.readouterr()
    assert "added ABC/9: k=3" in captured.out
    assert "too few to calibrate" in captured.err
    assert ModelBundle.load(out).denominations == ["ABC/9", "TST/0", "TST/1"]
    assert ModelBundle.load(files["genuine"]).denominations == ["TST/0", "TST/1"]  # original untouched
    assert main(["enroll", str(files["genuine"]), str(data), "--k", "0"]) == 2


@pytest.mark.slow
def test_train_enroll_verify_end_to_end(tmp_path, capsys) -> None:
    from banknote_guard.synth.generator import SynthOptions, generate_dataset

    data = tmp_path / "synth"
    generate_dataset(data, SynthOptions(currencies=1, denominations_per_currency=4, genuine_per_denomination=10,
                                        counterfeit_per_denomination=3, note_width=200, jobs=1, contact_sheet=False))
    (currency,) = [p.name for p in data.iterdir() if p.is_dir()]
    held_out = tmp_path / "unseen"
    shutil.move(str(data / currency / "20"), str(held_out / currency / "20"))
    model = tmp_path / "model.bgm"
    code = main(["train", str(data), "--out", str(model), "--epochs", "2", "--steps-per-epoch", "0",
                 "--backbone", "small_cnn", "--image-size", "32x64",
                 "--embedding-dim", "16", "--classes-per-batch", "4", "--images-per-class", "4", "--threads", "2",
                 "--far", "0.05"])
    assert code == 0
    out = capsys.readouterr().out
    assert "Model saved to" in out and "ROC AUC" in out
    bundle = ModelBundle.load(model)
    assert bundle.denominations == sorted(f"{currency}/{d}" for d in ("5", "10", "50"))
    assert bundle.summary["epochs_trained"] == 2 and bundle.calibration.false_alarm_rate == 0.05
    assert main(["enroll", str(model), str(held_out), "--k", "5"]) == 0
    assert f"{currency}/20" in ModelBundle.load(model).denominations
    report = tmp_path / "r.json"
    code = main(["verify", "-q", str(model), str(held_out / "**" / "*.jpg"), "--json", str(report)])
    assert code in (0, 1)
    results = json.loads(report.read_text())["results"]
    assert len(results) == 13 and all(r["status"] == "ok" for r in results)
    # Every note is scored against the enrolled denomination too (quality needs a longer training:
    # see benchmarks/quality.py).
    assert all(f"{currency}/20" in r["distances"] and f"{currency}/20" in r["probabilities"] for r in results)
    assert {r["verdict"] for r in results} <= {"genuine", "suspect", "unknown", "uncertain", "retake"}
