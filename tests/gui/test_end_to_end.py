"""The whole operator workflow in the window, on the real engine: dataset, training (and a cancelled
run), enrollment of an unseen denomination, verification of a batch that includes a broken file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from banknote_guard import api

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def _apply(page, config) -> None:  # noqa: ANN001
    for owner, obj in (("train", config), ("model", config.model)):
        for (o, name) in list(page.editors):
            if o == owner:
                page.set_value(o, name, getattr(obj, name))


def test_operator_workflow(make_window, tiny_config, split_roots: tuple[Path, Path], tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    train_root, other_currency = split_roots
    window = make_window(api)

    # 1. dataset
    page = window.show_page("datasets")
    page.load_root(train_root)
    qtbot.waitUntil(lambda: page.report is not None and not page.is_busy(), timeout=30000)
    assert page.table.rowCount() == 3
    assert all(int(page.table.item(r, 1).text()) == 8 for r in range(3))
    assert all(int(page.table.item(r, 2).text()) == 3 for r in range(3))
    qtbot.waitUntil(lambda: page.thumbs.count() == 8 and page.thumbs.pending == 0, timeout=10000)

    # 2. train through the worker; a timer keeps ticking on the UI thread all along
    training = window.show_page("training")
    assert training.start_button.isEnabled()
    _apply(training, tiny_config(epochs=2))
    out = tmp_path / "models" / "tiny.bgm"
    training.out_edit.setText(str(out))
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    started = time.monotonic()
    with qtbot.waitSignal(window.state.model_changed, timeout=150000):
        training.start_training()
    elapsed = time.monotonic() - started
    timer.stop()
    assert len(ticks) >= 0.3 * elapsed / 0.02  # the event loop was never blocked for long
    qtbot.waitUntil(lambda: training.job is None, timeout=10000)
    assert training.progress.format() == "Finished"
    assert out.is_file() and window.state.model_path == out
    assert [x for x, _ in training.chart.left] == [1.0, 2.0] and len(training.chart.right) == 2
    names = [training.evaluation.item(r, 0).text() for r in range(training.evaluation.rowCount())]
    assert "ROC AUC (1 = perfect)" in names
    assert "Model: tiny" in window.model_status.text() and "3 denominations" in window.model_status.text()

    # 3. a second run, cancelled after its first epoch: stops within seconds, keeps model and checkpoint
    _apply(training, tiny_config(epochs=200))
    out2 = tmp_path / "models" / "cancelled.bgm"
    training.out_edit.setText(str(out2))
    training.start_training()
    qtbot.waitUntil(lambda: len(training.chart.right) >= 1, timeout=60000)
    t0 = time.monotonic()
    training.cancel_training()
    qtbot.waitUntil(lambda: training.job is None, timeout=30000)
    assert time.monotonic() - t0 < 15
    assert training.progress.format() == "Cancelled"
    assert "cancelled" in training.result_label.text()
    assert out2.is_file() and Path(str(out2) + ".ckpt").is_file()
    assert window.state.model_path == out  # the finished model stays in use
    assert training.use_button.isVisibleTo(training)

    # 4. enroll a denomination the network never saw
    enroll = window.show_page("enrollment")
    denom_dir = sorted(p for p in other_currency.iterdir() if p.is_dir())[0]
    enroll.set_folder(denom_dir / "genuine")
    assert enroll.currency.text() == other_currency.name
    enrolled_file = tmp_path / "models" / "enrolled.bgm"
    enroll.save_path.setText(str(enrolled_file))
    with qtbot.waitSignal(window.state.model_changed, timeout=60000):
        enroll.enroll()
    qtbot.waitUntil(lambda: enroll.job is None, timeout=10000)
    new_id = f"{other_currency.name}/{denom_dir.name}"
    assert new_id in window.state.model.denominations and enrolled_file.is_file()
    assert "Enrolled " + new_id in enroll.outcome.text()
    assert api.load_model(enrolled_file).denominations == window.state.model.denominations

    # 5. verify a batch with a broken file
    batch = tmp_path / "batch"
    batch.mkdir()
    krt = sorted(p for p in train_root.iterdir())[0]
    picks = sorted((krt / sorted(p.name for p in krt.iterdir())[0] / "genuine").iterdir())[:2]
    picks += sorted((krt / sorted(p.name for p in krt.iterdir())[0] / "counterfeit").iterdir())[:2]
    picks += sorted((denom_dir / "genuine").iterdir())[:1]
    for p in picks:
        (batch / p.name).write_bytes(p.read_bytes())
    (batch / "zz_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    verify = window.show_page("verify")
    with qtbot.waitSignal(verify.busy_changed, timeout=60000, check_params_cb=lambda busy: not busy):
        verify.verify([batch])
    t = verify.table
    assert t.rowCount() == 6
    labels = [t.item(r, 1).text() for r in range(6)]
    assert labels[-1] == "\u26a0 ERROR" and t.item(5, 0).text() == "zz_broken.jpg"
    assert t.item(5, 2).text() and "Traceback" not in t.item(5, 2).text()
    assert all(lbl in ("\u2714 GENUINE", "\u2716 SUSPECT", "? UNKNOWN") for lbl in labels[:5])
    assert verify.summary_label.text().startswith("6 images:") and "1 error" in verify.summary_label.text()
    assert window.last_error is None
    t.selectRow(0)
    card = verify.card
    assert card.badge.text() == labels[0] and card.image.pixmap() is not None and not card.image.pixmap().isNull()
    assert len(card.distances.items) == 4  # three trained denominations and the enrolled one
