"""The demo: dataset split into views, and the whole pipeline end to end through the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image

from banknote_guard.cli import main
from banknote_guard.data.dataset import discover_dataset
from banknote_guard.data.records import Dataset, ImageRecord
from banknote_guard.errors import ParameterError
from banknote_guard.workflows.demo import choose_held_out, split_dataset, write_view

METHODS = ("inkjet", "laser", "high_quality")


def _records(root: Path) -> list[ImageRecord]:
    out = []
    for cur in ("AAA", "BBB"):
        for den in ("5", "10", "20"):
            for i in range(12):
                out.append(ImageRecord(root / cur / den / "genuine" / f"g{i:02d}.png", cur, den, "genuine"))
            for i in range(9):
                out.append(ImageRecord(root / cur / den / "counterfeit" / f"c{i:02d}.png", cur, den, "counterfeit",
                                       method=METHODS[i % 3]))
    return out


def test_held_out_denominations_are_the_highest_of_each_currency() -> None:
    ids = ["AAA/5", "AAA/10", "AAA/20", "BBB/1", "BBB/50", "CCC/5"]
    assert choose_held_out(ids, 1) == ["AAA/20", "BBB/50"]  # CCC keeps its only denomination
    assert choose_held_out(ids, 2) == ["AAA/10", "AAA/20", "BBB/50"]


def test_split_keeps_held_out_denominations_and_test_notes_out_of_training(tmp_path: Path) -> None:
    ds = Dataset(tmp_path, _records(tmp_path))
    parts = split_dataset(ds, held_out=["AAA/20", "BBB/20"], test_fraction=0.3, enroll_shots=5)
    train, enroll, test = parts["train"], parts["enroll"], parts["test"]
    assert {r.denom_id for r in train} == {"AAA/5", "AAA/10", "BBB/5", "BBB/10"}
    assert sorted(r.denom_id for r in enroll) == ["AAA/20"] * 5 + ["BBB/20"] * 5
    assert all(r.is_genuine for r in enroll)
    paths = [r.path for r in train + enroll + test]
    assert len(paths) == len(set(paths)) == len(ds.records)  # a partition: nothing lost, nothing twice
    for denom in ("AAA/5", "BBB/10"):
        g = [r for r in test if r.denom_id == denom and r.is_genuine]
        c = [r for r in test if r.denom_id == denom and not r.is_genuine]
        assert len(g) == round(12 * 0.3) and len(c) == round(9 * 0.3)
        assert {r.method for r in c} == set(METHODS)  # the test split spans every method
    held_test = [r for r in test if r.denom_id == "AAA/20"]
    assert sum(r.is_genuine for r in held_test) == 7 and sum(not r.is_genuine for r in held_test) == 9
    again = split_dataset(ds, held_out=["AAA/20", "BBB/20"], test_fraction=0.3)
    assert [r.path for r in again["test"]] == [r.path for r in test]  # deterministic


def test_write_view_links_files_and_filters_the_manifest(tmp_path: Path) -> None:
    root = tmp_path / "data"
    records = _records(root)[:30]
    for r in records:
        r.path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 4), (200, 10, 10)).save(r.path)
    with open(root / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "currency", "denomination", "side", "label", "method", "seed"])
        for r in records:
            w.writerow([r.path.relative_to(root).as_posix(), r.currency, r.denomination, "front", r.label,
                        r.method or "", 0])
    ds = discover_dataset(root)
    chosen = [r for r in ds.records if r.is_genuine][:3] + [r for r in ds.records if not r.is_genuine][:4]
    view = write_view(ds, chosen, tmp_path / "view")
    seen = discover_dataset(view)
    assert sorted(r.path.relative_to(view) for r in seen.records) == sorted(r.path.relative_to(root) for r in chosen)
    assert [r.method for r in seen.records if not r.is_genuine] == [r.method for r in chosen if not r.is_genuine]
    with open(view / "manifest.csv", newline="") as fh:
        assert len(list(csv.reader(fh))) == 1 + len(chosen)
    write_view(ds, chosen[:2], tmp_path / "view")  # an earlier view is replaced
    assert len(discover_dataset(view).records) == 2
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("precious")
    with pytest.raises(ParameterError, match="not a dataset view"):
        write_view(ds, chosen, tmp_path / "mine")
    assert (tmp_path / "mine" / "keep.txt").read_text() == "precious"


@pytest.mark.slow
def test_quick_demo_runs_end_to_end_then_evaluate_reads_its_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    for stage in ("synth", "train", "enroll", "verify", "evaluate"):
        assert stage in captured.err, f"no progress for stage {stage!r}"
    assert "Demo finished" in captured.out and "ROC AUC" in captured.out

    for name in ("model.bgm", "results.json", "evaluation.json", "roc.png", "embeddings.png", "summary.txt"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    with Image.open(out / "embeddings.png") as im:
        assert im.format == "PNG" and im.size[0] > 600

    demo = json.loads((out / "demo.json").read_text())
    enrolled, trained = demo["enrolled_denominations"], demo["trained_denominations"]
    assert enrolled and trained and not set(enrolled) & set(trained)
    # The network never saw the enrolled denominations nor any test note.
    train_view = discover_dataset(out / "views" / "train")
    test_view = discover_dataset(out / "views" / "test")
    assert not {r.denom_id for r in train_view.records} & set(enrolled)
    assert not {r.path.name for r in train_view.records} & {r.path.name for r in test_view.records}
    assert set(enrolled) <= {r.denom_id for r in test_view.records}

    results = json.loads((out / "results.json").read_text())
    assert set(results) == {"model", "results"}
    assert set(enrolled) <= set(results["model"]["denominations"])
    assert len(results["results"]) == len(test_view.records)
    assert {r["status"] for r in results["results"]} == {"ok"}
    assert {"path", "verdict", "counterfeit_score", "distances", "probabilities", "threshold"} <= set(results["results"][0])

    evaluation = json.loads((out / "evaluation.json").read_text())
    assert set(evaluation["per_group"]) == {"trained", "enrolled"}
    assert evaluation["per_group"]["enrolled"]["n_counterfeit"] > 0
    assert evaluation["per_group"]["trained"]["n_counterfeit"] > 0
    assert evaluation["metrics"]["n_images"] == len(test_view.records)
    assert 0.0 <= evaluation["metrics"]["roc_auc"] <= 1.0
    assert set(evaluation["per_method"]) >= {"inkjet", "laser"}

    # `evaluate` on the demo's model: the model itself says which denominations were enrolled.
    report_json = tmp_path / "eval.json"
    assert main(["evaluate", str(out / "model.bgm"), str(out / "views" / "test"), "--out", str(tmp_path / "ev"),
                 "--json", str(report_json), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "ROC AUC" in text and "By counterfeit method" in text and "enrolled" in text
    again = json.loads(report_json.read_text())
    assert again["metrics"]["roc_auc"] == pytest.approx(evaluation["metrics"]["roc_auc"])
    assert set(again["per_group"]) == {"trained", "enrolled"}
    assert {p.name for p in (tmp_path / "ev").iterdir()} >= {"evaluation.json", "roc.png", "embeddings.png"}


def test_demo_stops_when_cancelled(tmp_path: Path) -> None:
    from banknote_guard.errors import CancelledError
    from banknote_guard.progress import CancelToken, Progress
    from banknote_guard.workflows.demo import run_demo

    token = CancelToken()
    stages: list[str] = []

    def progress(p: Progress) -> None:
        stages.append(p.stage)
        if p.stage == "synth" and p.done >= 3:
            token.cancel()

    with pytest.raises(CancelledError):
        run_demo(tmp_path / "demo", quick=True, progress=progress, cancel=token)
    assert set(stages) == {"synth"}
    assert not (tmp_path / "demo" / "model.bgm").exists()


def test_enrollment_notes_show_both_sides_of_the_note(tmp_path: Path) -> None:
    """Sorted names put every back before every front; five backs alone would make each front "suspect"."""
    records = [
        ImageRecord(tmp_path / "AAA" / "20" / "genuine" / f"AAA_20_{side}_g{i:02d}.png", "AAA", "20", "genuine", side=side)
        for side in ("back", "front")
        for i in range(6)
    ]
    records += [ImageRecord(tmp_path / "AAA" / "5" / "genuine" / f"g{i:02d}.png", "AAA", "5", "genuine") for i in range(6)]
    parts = split_dataset(Dataset(tmp_path, records), held_out=["AAA/20"], test_fraction=0.3, enroll_shots=5)
    sides = [r.side for r in parts["enroll"]]
    assert len(sides) == 5 and sides.count("front") >= 2 and sides.count("back") >= 2
    held = [r for r in records if r.denom_id == "AAA/20"]
    assert sorted(r.path for r in parts["enroll"] + [r for r in parts["test"] if r.denom_id == "AAA/20"]) == sorted(
        r.path for r in held
    )
