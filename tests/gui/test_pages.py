"""Each page driven through the window with the stand-in engine: what it shows after each step."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QApplication, QComboBox

from banknote_guard.gui.main_window import PAGE_KEYS
from banknote_guard.gui.pages.datasets import AddDenominationDialog
from banknote_guard.model.config import TrainConfig


pytestmark = pytest.mark.gui


def _load_model(window, fake_api, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    model_file = tmp_path / "m.bgm"
    model_file.write_text("x")
    with qtbot.waitSignal(window.state.model_changed, timeout=5000):
        window.state.load_model(model_file)


# --- datasets -------------------------------------------------------------------------------------


def test_dataset_page_shows_counts_warnings_and_thumbnails(window, image_dataset: Path, qtbot) -> None:  # noqa: ANN001
    page = window.show_page("datasets")
    page.load_root(image_dataset)
    qtbot.waitUntil(lambda: page.report is not None and not page.is_busy(), timeout=5000)
    t = page.table
    rows = {t.item(r, 0).text(): [t.item(r, c).text() for c in range(5)] for r in range(t.rowCount())}
    assert set(rows) == {"KRT/20", "KRT/5", "VLM/10"}
    assert rows["KRT/20"][1:3] == ["4", "2"]
    assert rows["VLM/10"][1] == "5" and "smaller than 50 pixels" in rows["VLM/10"][4]
    assert rows["VLM/10"][3] == "20\u00d710 \u2013 120\u00d760"
    assert "3</b> denominations" in page.summary.text() and "warnings" in page.summary.text()
    assert page.warnings.isVisibleTo(page) and "no counterfeits" in page.warnings.item(0).text()
    # the first row is selected: its genuine thumbnails load in the background
    qtbot.waitUntil(lambda: page.thumbs.count() == 4 and page.thumbs.pending == 0, timeout=5000)
    page.label_combo.setCurrentText("counterfeit")
    assert page.thumbs.count() == 2 and "KRT/20" in page.thumbs_title.text()
    assert window.state.settings.dataset_root == str(image_dataset)


def test_adding_a_denomination_copies_it_into_the_layout(window, image_dataset: Path, tmp_path: Path, qtbot, write_note) -> None:  # noqa: ANN001
    page = window.show_page("datasets")
    page.load_root(image_dataset)
    qtbot.waitUntil(lambda: page.report is not None and not page.is_busy(), timeout=5000)
    src = tmp_path / "new_notes"
    for i in range(3):
        write_note(src / f"n{i}.jpg", (90, 90, 200), seed=i)
    (src / "readme.txt").write_text("not an image")
    page.import_denomination("VLM", "50", src, None)
    qtbot.waitUntil(lambda: page.table.rowCount() == 4 and not page.is_busy(), timeout=5000)
    assert sorted(p.name for p in (image_dataset / "VLM" / "50" / "genuine").iterdir()) == ["n0.jpg", "n1.jpg", "n2.jpg"]


def test_add_denomination_dialog_checks_its_entries(qtbot, tmp_path: Path, write_note) -> None:  # noqa: ANN001
    d = AddDenominationDialog(tmp_path / "ds")
    qtbot.addWidget(d)
    assert "currency" in d.validate()
    d.currency.setText("EUR")
    d.denomination.setText("a/b")
    assert "cannot be used" in d.validate()
    d.denomination.setText("20")
    d.genuine.setText(str(tmp_path))
    assert "No images" in d.validate()
    write_note(tmp_path / "g.png", (1, 2, 3))
    assert d.validate() == ""


def test_a_broken_dataset_shows_a_readable_message(window, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    def broken(root, *, progress=None, cancel=None):  # noqa: ANN001, ANN202
        from banknote_guard.errors import DatasetLayoutError

        raise DatasetLayoutError(root, "No currency folders found")

    window.state.api.inspect_dataset = broken
    page = window.show_page("datasets")
    page.load_root(tmp_path)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=5000)
    assert window.last_error[1].startswith("No currency folders found")
    assert "Traceback" not in page.summary.text() and "No currency folders" in page.summary.text()


# --- training -----------------------------------------------------------------------------------


def test_training_form_has_defaults_and_tooltips(window) -> None:  # noqa: ANN001
    page = window.show_page("training")
    cfg = page.config()
    assert cfg == TrainConfig(model=cfg.model)  # every default carried over
    loss = page.editors[("train", "loss")]
    assert isinstance(loss, QComboBox) and [loss.itemText(i) for i in range(loss.count())] == ["quadruplet", "triplet", "contrastive"]
    assert "Margin alpha1" in page.editors[("train", "margin")].toolTip()
    backbone = page.editors[("model", "backbone")]
    assert backbone.findText("small_cnn") >= 0 and backbone.findText("efficientnet_lite0") >= 0
    loss.setCurrentText("triplet")
    assert not page.editors[("train", "margin2")].isEnabled()
    page.set_value("train", "epochs", 3)
    page.set_value("model", "image_height", 48)
    cfg = page.config()
    assert (cfg.loss, cfg.epochs, cfg.model.image_height) == ("triplet", 3, 48)
    page.reset_defaults()
    assert page.config().loss == "quadruplet"
    assert not page.start_button.isEnabled()  # no dataset yet


def test_training_runs_in_a_worker_and_the_ui_stays_live(make_window, tmp_path: Path, image_dataset: Path, qtbot, fake_api_class) -> None:  # noqa: ANN001
    api = fake_api_class(tmp_path, epoch_seconds=0.05)
    window = make_window(api)
    window.state.set_dataset_root(image_dataset)
    page = window.show_page("training")
    page.set_value("train", "epochs", 4)
    page.out_edit.setText(str(tmp_path / "out" / "trained.bgm"))
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    with qtbot.waitSignal(window.state.model_changed, timeout=10000):
        page.start_training()
        assert page.cancel_button.isEnabled() and not page.start_button.isEnabled()
    timer.stop()
    assert len(ticks) >= 10  # the event loop ran all through training
    qtbot.waitUntil(lambda: page.job is None, timeout=5000)
    assert page.progress.format() == "Finished"
    assert page.chart.left == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3)), (4, 0.25)]
    assert [round(y, 3) for _, y in page.chart.right] == [0.5, 0.75, 0.833, 0.875]
    names = [page.evaluation.item(r, 0).text() for r in range(page.evaluation.rowCount())]
    values = [page.evaluation.item(r, 1).text() for r in range(page.evaluation.rowCount())]
    assert "ROC AUC (1 = perfect)" in names and "0.970" in values
    assert "Equal error rate" in names and "5.0%" in values
    assert window.state.model_path == tmp_path / "out" / "trained.bgm"
    assert "Epoch 4/4" in page.log_view.toPlainText()
    assert "Model: fake model" in window.model_status.text()
    assert page.start_button.isEnabled()


def test_cancel_stops_training_mid_way(make_window, tmp_path: Path, image_dataset: Path, qtbot, fake_api_class) -> None:  # noqa: ANN001
    api = fake_api_class(tmp_path, epoch_seconds=0.2)
    window = make_window(api)
    window.state.set_dataset_root(image_dataset)
    page = window.show_page("training")
    page.set_value("train", "epochs", 50)
    page.start_training()
    qtbot.waitUntil(lambda: len(page.chart.left) >= 1, timeout=5000)
    page.cancel_training()
    qtbot.waitUntil(lambda: page.job is None, timeout=3000)
    assert page.progress.format() == "Cancelled"
    assert "cancelled" in page.result_label.text() and "checkpoint" in page.result_label.text()
    assert window.state.model is None
    assert page.start_button.isEnabled()


# --- enrollment -------------------------------------------------------------------------------------


def test_enroll_a_new_denomination(window, fake_api, tmp_path: Path, qtbot, write_note) -> None:  # noqa: ANN001
    page = window.show_page("enrollment")
    assert not page.enroll_button.isEnabled() and "No model" in page.model_label.text()
    _load_model(window, fake_api, tmp_path, qtbot)
    assert page.known.count() == 3
    folder = tmp_path / "ds" / "ZAR" / "100" / "genuine"
    for i in range(4):
        write_note(folder / f"z{i}.png", (120, 30, 160), seed=i)
    page.set_folder(folder)
    assert (page.currency.text(), page.denomination.text()) == ("ZAR", "100")  # guessed from the path
    qtbot.waitUntil(lambda: page.thumbs.count() == 4, timeout=3000)
    save_to = tmp_path / "enrolled.bgm"
    page.save_path.setText(str(save_to))
    with qtbot.waitSignal(window.state.model_changed, timeout=5000):
        page.enroll()
    assert "ZAR/100" in window.state.model.denominations and save_to.is_file()
    assert page.known.count() == 4 and "Enrolled ZAR/100" in page.outcome.text()
    assert "5 or more" in page.outcome.text()
    assert window.state.model_path == save_to


# --- verify -----------------------------------------------------------------------------------------


@pytest.fixture
def batch(tmp_path: Path, write_note, colours) -> Path:  # noqa: ANN001
    folder = tmp_path / "batch"
    write_note(folder / "a_krt20.png", colours["KRT/20"])
    write_note(folder / "b_krt5.png", colours["KRT/5"])
    write_note(folder / "c_fake20.png", (40, 80, 225))  # near KRT/20 but off: suspect
    (folder / "d_broken.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    sub = folder / "more"
    write_note(sub / "e_vlm10.png", colours["VLM/10"])
    return folder


def test_verify_page_without_a_model_says_how_to_get_one(window) -> None:  # noqa: ANN001
    page = window.show_page("verify")
    assert page.info.isVisibleTo(page)
    assert "Training" in page.info.text() and "Open model" in page.info.text()
    assert not page.open_button.isEnabled()
    assert window.model_status.text() == "No model loaded"


def test_verify_a_batch_with_a_broken_file(window, fake_api, tmp_path: Path, batch: Path, qtbot) -> None:  # noqa: ANN001
    _load_model(window, fake_api, tmp_path, qtbot)
    page = window.show_page("verify")
    assert not page.info.isVisibleTo(page)
    beeps = []
    page.suspect_found.connect(beeps.append)
    with qtbot.waitSignal(page.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        page.verify([batch])
    t = page.table
    rows = {t.item(r, 0).text(): [t.item(r, c).text() if t.item(r, c) else "" for c in range(5)] for r in range(t.rowCount())}
    assert set(rows) == {"a_krt20.png", "b_krt5.png", "c_fake20.png", "d_broken.jpg", "e_vlm10.png"}
    assert rows["a_krt20.png"][1:3] == ["\u2714 GENUINE", "KRT/20"]
    assert rows["c_fake20.png"][1] == "\u2716 SUSPECT"
    assert rows["d_broken.jpg"][1] == "\u26a0 ERROR" and "Cannot read image" in rows["d_broken.jpg"][2]
    assert window.last_error is None  # errors are rows, never a dialog per file
    assert page.alert.isVisibleTo(page) and "SUSPECT NOTE" in page.alert.text()
    assert beeps == [1]
    assert page.summary_label.text().startswith("5 images: 3 genuine, 1 suspect, 1 error")
    assert "Genuine value: 25 KRT, 10 VLM" in page.summary_label.text()
    assert "Suspect value: 20 KRT" in page.summary_label.text()
    assert "KRT/20: 1 genuine, 1 suspect" in page.denom_label.text()
    # the card follows the selected row
    suspect_row = [r for r in range(t.rowCount()) if t.item(r, 0).text() == "c_fake20.png"][0]
    t.selectRow(suspect_row)
    card = page.card
    assert card.badge.text() == "\u2716 SUSPECT" and "counterfeit" in card.sentence.text()
    assert "above the threshold" in card.details.text()
    assert card.distances.items[0][0] == "KRT/20" and card.distances.highlight == "KRT/20"
    assert card.probabilities.items[0][0] == "KRT/20"
    assert card.image.pixmap() is not None and not card.image.pixmap().isNull()
    broken_row = [r for r in range(t.rowCount()) if t.item(r, 0).text() == "d_broken.jpg"][0]
    t.selectRow(broken_row)
    assert card.badge.text() == "\u26a0 ERROR" and "Cannot read image" in card.sentence.text()
    assert not card.distances.isVisibleTo(card)
    assert str(batch) in window.state.settings.recent_files()


def test_threshold_scale_changes_verdicts_shown(window, fake_api, tmp_path: Path, batch: Path, qtbot) -> None:  # noqa: ANN001
    _load_model(window, fake_api, tmp_path, qtbot)
    page = window.show_page("verify")
    with qtbot.waitSignal(page.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        page.verify([batch / "c_fake20.png"])
    assert page.table.item(0, 1).text() == "\u2716 SUSPECT"
    window.settings_page.threshold_scale.setValue(2.0)
    assert page.table.item(0, 1).text() == "\u2714 GENUINE"
    assert not page.alert.isVisibleTo(page)
    assert window.state.settings.threshold_scale == 2.0


def test_paste_and_drop(window, fake_api, tmp_path: Path, batch: Path, qtbot) -> None:  # noqa: ANN001
    _load_model(window, fake_api, tmp_path, qtbot)
    page = window.show_page("verify")
    img = QImage(120, 60, QImage.Format.Format_RGB888)
    img.fill(Qt.GlobalColor.darkGreen)
    QApplication.clipboard().setImage(img)
    with qtbot.waitSignal(page.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        page.paste()
    assert page.table.rowCount() == 1 and page.table.item(0, 0).text() == "clipboard"
    assert page.card.image.pixmap() is not None
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(batch / "a_krt20.png"))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(page.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        page.dropEvent(event)
    assert page.table.rowCount() == 2 and page.table.item(1, 0).text() == "a_krt20.png"
    page.clear()
    assert page.table.rowCount() == 0 and page.results == [] and page.summary_label.text() == "No notes verified yet."


# --- window -------------------------------------------------------------------------------------


def test_window_navigation_status_and_about(window, fake_api, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    for key in PAGE_KEYS:
        page = window.show_page(key)
        assert window.stack.currentWidget() is page and window.current_page_key() == key
    from banknote_guard.gui.pages.placeholder import ComingLaterPage

    for page in window.pages.values():  # any page still to come says so
        if isinstance(page, ComingLaterPage):
            assert "later version" in page.hint
    _load_model(window, fake_api, tmp_path, qtbot)
    assert window.model_status.text() == "Model: fake model \u00b7 created 2026-11-29 10:00 \u00b7 3 denominations"
    about = window.about_text()
    for name in ("banknote_guard", "Python", "PySide6", "Qt", "numpy"):
        assert f"<td>{name}</td>" in about
    assert "m.bgm" in about
    shortcuts = window.shortcuts_text()
    assert "Ctrl+O" in shortcuts and "Ctrl+V" in shortcuts
    keys = {a.shortcut().toString() for a in window.findChildren(type(window.menuBar().actions()[0]))}
    assert {"Ctrl+O", "Ctrl+Shift+O", "Ctrl+M", "Ctrl+D", "Ctrl+1", "Ctrl+4"} <= keys


def test_model_from_settings_is_loaded_at_start(make_window, fake_api, settings, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    model_file = tmp_path / "saved.bgm"
    model_file.write_text("x")
    settings.model_path = str(model_file)
    window = make_window(fake_api, load_default_model=True)
    qtbot.waitUntil(lambda: window.state.model is not None, timeout=5000)
    assert window.state.model_path == model_file


def test_a_bad_model_file_gives_a_readable_error(window, tmp_path: Path, qtbot) -> None:  # noqa: ANN001
    window.state.load_model(tmp_path / "missing.bgm")
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=5000)
    title, message = window.last_error
    assert title == "Could not open the model" and "does not exist" in message
    assert window.state.model is None


def test_training_form_offers_every_backbone_of_the_engine(make_window) -> None:  # noqa: ANN001
    from banknote_guard import api

    window = make_window(api)
    combo = window.training_page.editors[("model", "backbone")]
    names = [combo.itemText(i) for i in range(combo.count())]
    assert names == [n for n, _ in api.available_backbones()]
    assert combo.itemData(names.index("small_cnn"), Qt.ItemDataRole.ToolTipRole)


def test_the_status_bar_names_the_model_by_its_identity() -> None:
    from banknote_guard.gui.state import model_summary

    class Model:
        denominations = ["A/1", "A/2"]

        def describe(self):  # noqa: ANN202
            return {"created": "2026-12-01T10:00:00", "id": "f3c15694ce4d", "integrity": "checked"}

    text = model_summary(Model(), "demo.bgm")
    assert text == "Model: demo \u00b7 created 2026-12-01 10:00 \u00b7 2 denominations \u00b7 id f3c15694ce4d"
