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


def test_inspect_warns_about_denominations_without_genuine_images(tmp_path: Path) -> None:
    _make(tmp_path, {"EUR/20": (6, 2), "EUR/100": (0, 3)})  # EUR/100: counterfeit/ only
    (tmp_path / "EUR" / "50" / "genuine").mkdir(parents=True)  # EUR/50: an empty genuine/
    (tmp_path / "EUR" / "50" / "genuine" / ".DS_Store").write_bytes(b"x")
    (tmp_path / "USD").mkdir()  # a currency without denominations
    rep = inspect_dataset(tmp_path)
    assert [d.denom_id for d in rep.denominations] == ["EUR/20", "EUR/50", "EUR/100"]
    no_genuine = {w.denom_id: w for w in rep.warnings if w.code == "no_genuine"}
    assert set(no_genuine) == {"EUR/50", "EUR/100"}
    assert "EUR/50" in no_genuine["EUR/50"].message and "holds no images" in no_genuine["EUR/50"].message
    assert "no genuine/ folder" in no_genuine["EUR/100"].message
    assert not [w for w in rep.warnings if w.code == "few_images"]  # said once, not twice
    d50 = next(d for d in rep.denominations if d.denom_id == "EUR/50")
    assert (d50.genuine, d50.counterfeit) == (0, 0) and d50.warnings == [no_genuine["EUR/50"]]
    assert any(w.code == "empty_folder" and "USD" in w.message for w in rep.warnings)
    table = rep.format_table()
    assert "No warnings." not in table and "[no_genuine] EUR/50" in table
    assert len(discover_dataset(tmp_path)) == 11


@pytest.mark.timeout(20)
def test_inspect_does_not_follow_links_out_of_the_dataset(tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    _make(ds, {"EUR/20": (5, 0)})
    outside = tmp_path / "elsewhere"
    save_image(outside / "x.png", _img(7))
    try:
        (ds / "EUR" / "50").mkdir()
        (ds / "EUR" / "50" / "genuine").symlink_to("/", target_is_directory=True)
        (ds / "EUR" / "20" / "genuine" / "more").symlink_to(outside, target_is_directory=True)
        (ds / "EUR" / "20" / "genuine" / "again").symlink_to(ds / "EUR" / "20" / "genuine", target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("cannot make links here")
    rep = inspect_dataset(ds)
    assert rep.total_images == 5  # nothing from / or from outside, nothing twice
    skipped = {w.paths[0].name: w.message for w in rep.warnings if w.code == "skipped"}
    assert set(skipped) == {"genuine", "more", "again"}
    assert "EUR/50/genuine" in skipped["genuine"] and "out of the dataset" in skipped["genuine"]
    assert "not followed" in skipped["more"] and "already looked at" in skipped["again"]
    (no_genuine,) = [w for w in rep.warnings if w.code == "no_genuine"]
    assert no_genuine.denom_id == "EUR/50" and "was skipped" in no_genuine.message


def test_inspect_walk_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from banknote_guard.data import dataset

    _make(tmp_path, {"EUR/20": (8, 0)})
    monkeypatch.setattr(dataset, "MAX_FOLDER_ENTRIES", 5)
    rep = inspect_dataset(tmp_path)
    assert rep.total_images == 5
    (big,) = [w for w in rep.warnings if w.code == "folder_too_large"]
    assert "EUR/20/genuine" in big.message and "5" in big.message

    monkeypatch.setattr(dataset, "MAX_FOLDER_ENTRIES", 100)
    monkeypatch.setattr(dataset, "MAX_FOLDERS", 2)
    for i in range(4):
        save_image(tmp_path / "EUR" / "20" / "counterfeit" / f"batch{i}" / "c.png", _img(40 + i))
    rep = inspect_dataset(tmp_path)
    assert any(w.code == "folder_too_large" and "folders" in w.message for w in rep.warnings)


@pytest.mark.timeout(20)
@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="no named pipes on this system")
def test_inspect_skips_pipes_and_tiny_pictures(tmp_path: Path) -> None:
    import os

    _make(tmp_path, {"EUR/20": (5, 0)})
    g = tmp_path / "EUR" / "20" / "genuine"
    os.mkfifo(g / "pipe.jpg")
    os.mkfifo(g / "pipe2.png")
    save_image(g / "dot.png", np.zeros((1, 1, 3), np.uint8))
    assert [r.path.name for r in discover_dataset(tmp_path).records if "pipe" in r.path.name] == []
    rep = inspect_dataset(tmp_path)
    (skipped,) = [w for w in rep.warnings if w.code == "skipped"]
    assert {p.name for p in skipped.paths} == {"pipe.jpg", "pipe2.png"}
    assert "2 files were skipped: not a regular file (a pipe)" in skipped.message
    (tiny,) = [w for w in rep.warnings if w.code == "unreadable"]
    assert "dot.png" in tiny.message and "only 1 x 1 pixels, too small to show a banknote" in tiny.message
