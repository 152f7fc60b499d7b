"""Tests of ``banknote-guard synth`` through the CLI entry point."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from banknote_guard.cli import main


def test_cli_writes_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ds"
    rc = main(["synth", str(out), "--currencies", "1", "--denominations", "2", "--genuine", "2", "--counterfeit",
               "3", "--width", "96", "--difficulty", "hard", "--photo-fraction", "0.5", "--methods",
               "inkjet,raised_denomination", "--seed", "3", "--jobs", "1", "--no-contact-sheet"])
    assert rc == 0
    assert "Wrote 10 images" in capsys.readouterr().out
    with open(out / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10
    assert {r["method"] for r in rows if r["denomination"] == "5" and r["method"]} == {"inkjet"}
    assert {r["method"] for r in rows if r["denomination"] == "10" and r["method"]} == {"inkjet",
                                                                                      "raised_denomination"}


def test_cli_refuses_foreign_folder_with_readable_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("x")
    rc = main(["synth", str(tmp_path), "--currencies", "1", "--denominations", "1", "--genuine", "1",
               "--counterfeit", "0", "--width", "96", "--jobs", "1", "--no-contact-sheet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--overwrite" in err


def test_cli_rejects_unknown_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["synth", str(tmp_path / "x"), "--methods", "inkjet,stamp", "--jobs", "1"])
    assert rc == 2
    assert "methods" in capsys.readouterr().err
