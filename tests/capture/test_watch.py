"""Watched folders: each new picture verified exactly once, only when completely written, in arrival
order, without losing any in a burst, and without repeating old ones after a restart."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from banknote_guard.capture.errors import WatchError
from banknote_guard.capture.watch import JOURNAL_NAME, FolderWatcher, watch_folder
from banknote_guard.progress import CancelToken
from banknote_guard.verify.verifier import Verifier

FAST = {"poll_s": 0.05, "settle_s": 0.3}


def png_bytes(seed: int) -> bytes:
    """A small scan as scanner software saves it: a note-like card (a colour, a band, noise) on a white lid."""
    rng = np.random.default_rng(seed)
    card = np.zeros((60, 120, 3), np.uint8)
    card[:] = rng.integers(60, 200, 3)
    card[20:30] //= 2
    card = np.clip(card.astype(int) + rng.integers(-15, 15, card.shape), 0, 255).astype(np.uint8)
    img = np.full((100, 160, 3), 236, np.uint8)
    img[20:80, 20:140] = card
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


class Watch:
    """``watch_folder`` on a thread, collecting (name, result) pairs until stopped."""

    def __init__(self, verifier: Verifier, folder: Path, **kwargs) -> None:
        self.results: list[tuple[str, object]] = []
        self.cancel = CancelToken()
        self.error: BaseException | None = None
        self.stats = None

        def run() -> None:
            try:
                self.stats = watch_folder(verifier, folder, cancel=self.cancel,
                                          on_result=lambda a, r: self.results.append((a.name, r)), **{**FAST, **kwargs})
            except BaseException as exc:  # noqa: BLE001 - handed to the test
                self.error = exc

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait_for(self, n: int, timeout: float = 120.0) -> list[tuple[str, object]]:
        deadline = time.monotonic() + timeout
        while len(self.results) < n and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.05)
        return list(self.results)

    def stop(self) -> None:
        self.cancel.cancel()
        self.thread.join(30)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error


@pytest.fixture
def verifier(demo_model) -> Verifier:
    return Verifier(demo_model)


def test_a_burst_of_300_is_verified_once_each_in_order(verifier: Verifier, tmp_path: Path) -> None:
    names = [f"scan_{i:04d}.png" for i in range(300)]
    for i, name in enumerate(names):
        (tmp_path / name).write_bytes(png_bytes(i))
    watch = Watch(verifier, tmp_path)
    got = watch.wait_for(300)
    time.sleep(0.5)  # nothing more comes
    watch.stop()
    assert [n for n, _ in watch.results] == names
    assert all(r.ok for _, r in got)
    assert watch.stats.verified == 300


def test_pictures_are_taken_in_the_order_they_arrived_not_by_name(verifier: Verifier, tmp_path: Path) -> None:
    watch = Watch(verifier, tmp_path, settle_s=0.6)
    for i, name in enumerate(["c.png", "a.png", "b.png"]):
        (tmp_path / name).write_bytes(png_bytes(i))
        time.sleep(0.05)
    got = watch.wait_for(3)
    watch.stop()
    assert [n for n, _ in got] == ["c.png", "a.png", "b.png"]


def test_slowly_written_files_are_verified_only_when_complete(verifier: Verifier, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    seen_sizes: dict[str, list[int]] = {}
    original = verifier.verify_paths

    def spying(paths, **kwargs):  # noqa: ANN001, ANN202 - records the size of each file when it is read
        for p in paths:
            seen_sizes.setdefault(Path(p).name, []).append(Path(p).stat().st_size)
        return original(paths, **kwargs)

    monkeypatch.setattr(verifier, "verify_paths", spying)
    watch = Watch(verifier, tmp_path, settle_s=0.5)
    finals = {}
    for k in range(3):  # each file arrives in five pieces over 0.6 s, as a slow network copy would
        data = png_bytes(100 + k)
        name = f"slow_{k}.png"
        finals[name] = len(data)
        with open(tmp_path / name, "wb") as fh:
            for piece in range(5):
                fh.write(data[piece * len(data) // 5 : (piece + 1) * len(data) // 5])
                fh.flush()
                time.sleep(0.15)
    got = watch.wait_for(3)
    watch.stop()
    assert sorted(n for n, _ in got) == sorted(finals)
    assert all(r.ok for _, r in got)
    assert seen_sizes == {name: [size] for name, size in finals.items()}  # read once, when whole


def test_temporary_and_hidden_names_wait_until_renamed(verifier: Verifier, tmp_path: Path) -> None:
    (tmp_path / "incoming.png.part").write_bytes(png_bytes(1))
    (tmp_path / ".hidden.png").write_bytes(png_bytes(2))
    (tmp_path / "notes.txt").write_text("not a picture")
    watch = Watch(verifier, tmp_path)
    time.sleep(1.0)
    assert watch.results == []
    (tmp_path / "incoming.png.part").rename(tmp_path / "incoming.png")
    got = watch.wait_for(1)
    watch.stop()
    assert [n for n, _ in got] == ["incoming.png"]


def test_a_restart_does_not_repeat_old_pictures(verifier: Verifier, tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"n{i}.png").write_bytes(png_bytes(i))
    first = Watch(verifier, tmp_path)
    assert len(first.wait_for(5)) == 5
    first.stop()
    journal = (tmp_path / JOURNAL_NAME).read_text().splitlines()
    assert len(journal) == 5 and '"verdict"' in journal[0]
    (tmp_path / "while_off.png").write_bytes(png_bytes(9))  # arrived while nobody watched
    second = Watch(verifier, tmp_path)
    got = second.wait_for(1)
    time.sleep(1.0)
    (tmp_path / "n0.png").write_bytes(png_bytes(99))  # a new scan saved under an old name is new
    got = second.wait_for(2)
    time.sleep(0.6)
    second.stop()
    assert [n for n, _ in second.results] == ["while_off.png", "n0.png"]


def test_an_unreadable_file_is_reported_once_and_the_watch_goes_on(verifier: Verifier, tmp_path: Path) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (tmp_path / "good.png").write_bytes(png_bytes(3))
    watch = Watch(verifier, tmp_path, give_up_s=0.8)
    got = watch.wait_for(2)
    time.sleep(1.0)
    (tmp_path / "later.png").write_bytes(png_bytes(4))
    watch.wait_for(3)
    watch.stop()
    by_name = dict(watch.results)
    assert sorted(by_name) == ["broken.jpg", "good.png", "later.png"] and len(watch.results) == 3
    assert not by_name["broken.jpg"].ok and "broken.jpg" in by_name["broken.jpg"].error
    assert by_name["good.png"].ok and by_name["later.png"].ok
    assert watch.stats.unreadable == 1 and watch.stats.retried >= 1


def test_one_watcher_per_folder_and_clear_errors(tmp_path: Path) -> None:
    with FolderWatcher(tmp_path):
        with pytest.raises(WatchError, match="Another program is already watching"):
            FolderWatcher(tmp_path).open()
    with pytest.raises(WatchError, match="does not exist"):
        FolderWatcher(tmp_path / "missing").open()
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(WatchError, match="is not a folder"):
        FolderWatcher(tmp_path / "file.png").open()
    with FolderWatcher(tmp_path):  # the lock is free again
        pass


def test_a_folder_that_disappears_ends_the_watch_with_a_message(verifier: Verifier, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    journal = tmp_path / "journal.jsonl"
    watch = Watch(verifier, folder, journal=journal)
    time.sleep(0.3)
    folder.rmdir()
    watch.thread.join(10)
    assert isinstance(watch.error, WatchError) and "cannot be read any more" in str(watch.error)
