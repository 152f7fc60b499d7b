"""Dataset discovery (layout errors) and inspection (warnings), and the ``inspect`` command."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from banknote_guard.cli import main
from banknote_guard.data.dataset import discover_dataset, inspect_dataset
from banknote_guard.data.imageio import save_image
from banknote_guard.errors import CancelledError, DatasetLayoutError
from banknote_guard.progress import CancelToken, Progress


def _img(seed: int, w: int = 48, h: int = 24) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(h // 4, w // 4, 3), dtype=np.uint8)
    return np.repeat(np.repeat(small, 4, axis=0), 4, axis=1)


def _make(root: Path, spec: dict[str, tuple[int, int]], seed: int = 0) -> None:
    """spec: {"EUR/20": (n_genuine, n_counterfeit)}."""
    for denom, (ng, nc) in spec.items():
        for label, n in (("genuine", ng), ("counterfeit", nc)):
            for i in range(n):
                seed += 1
                save_image(root / denom / label / f"{label[0]}{i:02d}.png", _img(seed))


def _layout_error(root: Path) -> DatasetLayoutError:
    with pytest.raises(DatasetLayoutError) as info:
        discover_dataset(root)
    return info.value


def test_discover_sorted_records_manifest_and_ignored_files(tmp_path: Path) -> None:
    _make(tmp_path, {"EUR/20": (3, 2), "EUR/10": (2, 0), "USD/1": (2, 1)})
    (tmp_path / "README.md").write_text("about")
    save_image(tmp_path / "contact_sheet.png", _img(99))
    (tmp_path / "EUR" / "20" / "genuine" / ".DS_Store").write_bytes(b"x")
    (tmp_path / "EUR" / "20" / "genuine" / "._g00.png").write_bytes(b"x")
    nested = tmp_path / "USD" / "1" / "Genuine"
    (tmp_path / "USD" / "1" / "genuine").rename(nested)
    save_image(nested / "batch2" / "x.jpg", _img(100))
    with open(tmp_path / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "currency", "denomination", "side", "label", "method", "seed"])
        w.writerow(["EUR/20/counterfeit/c00.png", "EUR", "20", "front", "counterfeit", "inkjet", "1"])
        w.writerow(["EUR/20/genuine/g00.png", "EUR", "20", "back", "genuine", "", "2"])
    ds = discover_dataset(tmp_path)
    assert ds.denominations == ["EUR/10", "EUR/20", "USD/1"]
    assert len(ds) == 3 + 2 + 2 + 3 + 1
    assert len(ds.genuine("USD/1")) == 3  # nested folder walked, case-insensitive label
    keys = [(r.currency, r.denomination, r.label, str(r.path)) for r in ds.records]
    assert keys == sorted(keys, key=lambda k: (k[0], k[1], k[2] != "genuine", k[3]))
    by_name = {r.path.relative_to(tmp_path).as_posix(): r for r in ds.records}
    assert by_name["EUR/20/counterfeit/c00.png"].method == "inkjet"
    assert by_name["EUR/20/counterfeit/c00.png"].side == "front"
    assert by_name["EUR/20/genuine/g00.png"].method is None
    assert by_name["EUR/20/genuine/g00.png"].side == "back"
    assert by_name["EUR/20/genuine/g01.png"].method is None


def test_layout_errors_name_the_folder(tmp_path: Path) -> None:
    err = _layout_error(tmp_path / "missing")
    assert "does not exist" in str(err) and "missing" in str(err)

    f = tmp_path / "file.txt"
    f.write_text("x")
    assert "not a folder" in str(_layout_error(f))

    empty = tmp_path / "empty"
    empty.mkdir()
    assert "empty" in str(_layout_error(empty))

    ds = tmp_path / "ds"
    _make(ds, {"EUR/20": (2, 1)})
    # Pointed at a denomination, a currency or a label folder: the right folder is suggested.
    err = _layout_error(ds / "EUR" / "20")
    assert "denomination folder" in err.problem and str(ds) in err.problem
    err = _layout_error(ds / "EUR")
    assert "currency folder" in err.problem and str(ds) in err.problem
    err = _layout_error(ds / "EUR" / "20" / "genuine")
    assert str(ds) in err.problem

    # Unexpected sub-folder in a denomination.
    (ds / "EUR" / "20" / "fakes").mkdir()
    err = _layout_error(ds)
    assert err.folder == ds / "EUR" / "20" and "'fakes'" in err.problem and "genuine" in err.problem
    (ds / "EUR" / "20" / "fakes").rmdir()

    # Denomination with neither genuine/ nor counterfeit/.
    (ds / "EUR" / "50").mkdir()
    err = _layout_error(ds)
    assert err.folder == ds / "EUR" / "50" and "neither" in err.problem
    (ds / "EUR" / "50").rmdir()

    # Images lying in a denomination or a currency folder.
    save_image(ds / "EUR" / "20" / "stray.png", _img(1))
    err = _layout_error(ds)
    assert err.folder == ds / "EUR" / "20" and "stray.png" in err.problem
    (ds / "EUR" / "20" / "stray.png").unlink()
    save_image(ds / "EUR" / "stray.png", _img(1))
    err = _layout_error(ds)
    assert err.folder == ds / "EUR" and "currency" in err.problem
    (ds / "EUR" / "stray.png").unlink()

    # No images at all.
    bare = tmp_path / "bare"
    (bare / "EUR" / "20" / "genuine").mkdir(parents=True)
    (bare / "EUR" / "20" / "genuine" / "notes.txt").write_text("x")
    assert "no images" in _layout_error(bare).problem


def test_inspect_counts_sizes_and_clean_dataset(tmp_path: Path) -> None:
    _make(tmp_path, {"EUR/20": (6, 4)})
    save_image(tmp_path / "EUR" / "20" / "genuine" / "big.png", _img(500, w=96, h=40))
    seen: list[Progress] = []
    rep = inspect_dataset(tmp_path, progress=seen.append)
    assert rep.total_images == 11 and len(seen) == 11 and seen[-1].done == seen[-1].total == 11
    (d,) = rep.denominations
    assert (d.denom_id, d.genuine, d.counterfeit) == ("EUR/20", 7, 4)
    assert d.size_min == (48, 24) and d.size_median == (48, 24) and d.size_max == (96, 40)
    assert d.methods == {"unknown": 4}
    assert rep.warnings == []
    table = rep.format_table()
    assert "EUR/20" in table and "96x40" in table and "No warnings." in table
    assert json.loads(json.dumps(rep.to_json()))["denominations"][0]["genuine"] == 7


def test_inspect_warnings(tmp_path: Path) -> None:
    _make(tmp_path, {"EUR/20": (6, 1), "EUR/5": (2, 0), "USD/1": (5, 30)})
    g = tmp_path / "EUR" / "20" / "genuine"
    c = tmp_path / "EUR" / "20" / "counterfeit"
    # Exact duplicate (same bytes) inside genuine.
    (g / "copy.png").write_bytes((g / "g00.png").read_bytes())
    # The same picture, re-encoded as JPEG, filed as counterfeit.
    save_image(c / "relabelled.jpg", _img(2), quality=90)  # _img(2) is g01.png
    # Unreadable file and a non-image file.
    (g / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (g / "notes.txt").write_text("scanner settings")
    rep = inspect_dataset(tmp_path)
    codes = {w.code for w in rep.warnings}
    assert codes == {"few_images", "imbalance", "label_conflict", "duplicate_files", "unreadable", "non_image"}
    few = [w for w in rep.warnings if w.code == "few_images"]
    assert [w.denom_id for w in few] == ["EUR/5"]
    imb = [w for w in rep.warnings if w.code == "imbalance"]
    assert [w.denom_id for w in imb] == ["USD/1"]
    conflict = next(w for w in rep.warnings if w.code == "label_conflict")
    assert {p.name for p in conflict.paths} == {"g01.png", "relabelled.jpg"}
    dup = next(w for w in rep.warnings if w.code == "duplicate_files")
    assert {p.name for p in dup.paths} == {"g00.png", "copy.png"}
    bad = next(w for w in rep.warnings if w.code == "unreadable")
    assert bad.paths == (g / "broken.jpg",)
    assert "broken.jpg" in bad.message and ("truncated" in bad.message or "corrupt" in bad.message)
    assert next(w for w in rep.warnings if w.code == "non_image").paths == (g / "notes.txt",)
    d20 = next(d for d in rep.denominations if d.denom_id == "EUR/20")
    assert d20.unreadable == 1 and d20.genuine == 7
    table = rep.format_table()
    assert "[label_conflict]" in table and "relabelled.jpg" in table


def test_inspect_cancel(tmp_path: Path) -> None:
    _make(tmp_path, {"EUR/20": (3, 0)})
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        inspect_dataset(tmp_path, cancel=token)


def test_inspect_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = tmp_path / "ds"
    _make(ds, {"EUR/20": (5, 2), "EUR/50": (2, 0)})
    assert main(["inspect", str(ds)]) == 0
    out = capsys.readouterr()
    assert "EUR/20" in out.out and "EUR/50" in out.out and "[few_images]" in out.out
    assert "inspect" in out.err  # progress on stderr

    report_file = tmp_path / "r.json"
    assert main(["inspect", str(ds), "--json", "--out", str(report_file)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_images"] == 9
    assert [d["denomination"] for d in data["denominations"]] == ["EUR/20", "EUR/50"]
    assert json.loads(report_file.read_text()) == data

    assert main(["inspect", str(ds / "EUR")]) == 2
    assert "currency folder" in capsys.readouterr().err
