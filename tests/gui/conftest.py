"""Fixtures of the GUI tests: isolated settings, tiny image folders and a stand-in engine.

The stand-in (:class:`FakeApi`) has the functions of :mod:`banknote_guard.api` that the window calls,
works on real files and honours progress and cancel exactly like the engine; it lets the widget tests
run in milliseconds. The end-to-end tests (``test_end_to_end.py``) use the real engine.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QStandardPaths, QThreadPool

from banknote_guard.errors import ImageLoadError, ModelFileError
from banknote_guard.progress import Progress, check_cancel
from banknote_guard.verify.result import VerificationResult

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@pytest.fixture(autouse=True, scope="session")
def _qt_test_paths() -> None:
    """Keep QStandardPaths (log file, copied datasets, models) away from the real user folders."""
    QStandardPaths.setTestModeEnabled(True)


def write_note(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (120, 60), seed: int = 0) -> Path:
    """A small note-like image: a coloured card with a dark band and some noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = colour
    img[h // 3 : h // 2, :] //= 2
    img = np.clip(img.astype(int) + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    return path


COLOURS = {"KRT/5": (40, 140, 60), "KRT/20": (40, 80, 180), "VLM/10": (180, 120, 40)}


@pytest.fixture
def image_dataset(tmp_path: Path) -> Path:
    """A dataset in the DESIGN.md layout: three denominations, counterfeits of one, a tiny image."""
    root = tmp_path / "dataset"
    for denom, colour in COLOURS.items():
        cur, den = denom.split("/")
        for i in range(4):
            write_note(root / cur / den / "genuine" / f"g{i}.png", colour, seed=i)
    for i in range(2):
        write_note(root / "KRT" / "20" / "counterfeit" / f"c{i}.png", (200, 60, 60), seed=10 + i)
    write_note(root / "VLM" / "10" / "genuine" / "tiny.png", (180, 120, 40), size=(20, 10))
    return root


@dataclass
class FakeReportEntry:
    denom_id: str
    genuine: int
    counterfeit: int
    size_min: tuple[int, int]
    size_max: tuple[int, int]
    warnings: list[str] = field(default_factory=list)


@dataclass
class FakeReport:
    denominations: list[FakeReportEntry]
    warnings: list[str]


class FakeBundle:
    """Stands in for ModelBundle: a dict of centroids (mean colour) per denomination."""

    def __init__(self, centroids: dict[str, np.ndarray], path: Path | None = None) -> None:
        self.centroids = dict(centroids)
        self.path = path
        self.saved_to: list[Path] = []

    @property
    def denominations(self) -> list[str]:
        return sorted(self.centroids)

    def describe(self) -> dict[str, Any]:
        return {"name": "fake model", "created": "2026-11-29T10:00:00", "schema": 1}

    def save(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text("fake model\n")
        self.saved_to.append(Path(path))


@dataclass
class FakeOutcome:
    bundle: FakeBundle | None
    model_path: Path
    history: list[dict[str, float]]
    metrics: dict[str, float]
    cancelled: bool = False


@dataclass
class FakeEnrollReport:
    enrolled: list[str]
    warnings: list[str]
    errors: list[str]


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _read(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except Exception as exc:  # noqa: BLE001
        raise ImageLoadError(path, "not an image file or damaged") from exc


class FakeApi:
    """The functions of banknote_guard.api the window uses, on real files, with progress and cancel."""

    def __init__(self, tmp: Path, epoch_seconds: float = 0.0) -> None:
        self.tmp = tmp
        self.epoch_seconds = epoch_seconds
        self.train_started = threading.Event()
        self.calls: list[str] = []

    def __getattr__(self, name: str):  # noqa: ANN204 - the engine's pure helpers (verdict rule, summaries)
        from banknote_guard import api

        return getattr(api, name)

    def demo_model_path(self) -> Path:
        return self.tmp / "no-demo.bgm"

    def sample_notes_dir(self) -> Path:
        return self.tmp / "no-samples"

    def load_model(self, path: str | Path) -> FakeBundle:
        self.calls.append("load_model")
        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"The model file {str(path)!r} does not exist.")
        return FakeBundle({d: np.array(c, float) for d, c in COLOURS.items()}, path)

    def inspect_dataset(self, root: str | Path, *, progress=None, cancel=None) -> FakeReport:  # noqa: ANN001
        self.calls.append("inspect_dataset")
        root = Path(root)
        entries = []
        denoms = sorted(p.parent.relative_to(root) for p in root.glob("*/*/genuine"))
        for i, d in enumerate(denoms):
            check_cancel(cancel)
            g = _images(root / d / "genuine")
            c = _images(root / d / "counterfeit")
            sizes = [Image.open(p).size for p in g + c]
            warnings = []
            if any(w < 50 for w, _ in sizes):
                warnings.append("1 image is smaller than 50 pixels wide")
            if not c:
                warnings.append("no counterfeit images")
            entries.append(FakeReportEntry(d.as_posix(), len(g), len(c), min(sizes), max(sizes), warnings))
            if progress:
                progress(Progress("scan", f"Reading {d.as_posix()}", i + 1, len(denoms)))
        return FakeReport(entries, ["2 of 3 denominations have no counterfeits"])

    def train_model(self, dataset_root, out_path, config=None, *, calibration=None,  # noqa: ANN001
                    resume=False, progress=None, cancel=None) -> FakeOutcome:
        self.calls.append("train_model")
        self.train_started.set()
        epochs = config.epochs if config is not None else 3
        history = []
        for e in range(1, epochs + 1):
            for b in range(4):
                if cancel is not None and cancel.cancelled:
                    return FakeOutcome(None, Path(out_path), history, {}, cancelled=True)
                if self.epoch_seconds:
                    time.sleep(self.epoch_seconds / 4)
                if progress:
                    progress(Progress("train", f"Epoch {e}/{epochs}", (e - 1) * 4 + b + 1, epochs * 4, 1.0,
                                      {"epoch": e, "loss": 1.0 / (e + b / 4)}))
            h = {"epoch": e, "train_loss": 1.0 / e, "val_auc": 1 - 0.5 / e}
            history.append(h)
            if progress:
                progress(Progress("train", f"Epoch {e}/{epochs} done", e * 4, epochs * 4, 0.0, dict(h)))
        bundle = FakeBundle({d: np.array(c, float) for d, c in COLOURS.items()}, Path(out_path))
        bundle.save(out_path)
        return FakeOutcome(bundle, Path(out_path), history, {"auc": 0.97, "eer": 0.05, "denomination_accuracy": 1.0})

    def enroll_folder(self, model: FakeBundle, currency: str, denomination: str, folder, *, progress=None,  # noqa: ANN001
                      cancel=None) -> FakeEnrollReport:
        self.calls.append("enroll_folder")
        imgs = [_read(p) for p in _images(Path(folder))]
        if not imgs:
            return FakeEnrollReport([], [], [f"No images in {folder}"])
        model.centroids[f"{currency}/{denomination}"] = np.mean([im.reshape(-1, 3).mean(0) for im in imgs], axis=0)
        warnings = ["only 4 images; 5 or more are better"] if len(imgs) < 5 else []
        return FakeEnrollReport([f"{currency}/{denomination}"], warnings, [])

    def verify_image(self, model: FakeBundle, rgb: np.ndarray, name: str = "image") -> VerificationResult:
        t = time.perf_counter()
        mean = np.asarray(rgb).reshape(-1, 3).mean(0)
        d = {k: float(np.linalg.norm(mean - c) / 100) for k, c in model.centroids.items()}
        best = min(d, key=d.get)
        score = d[best] * 10
        verdict = "unknown" if d[best] > 1.0 else ("suspect" if score > 2.0 else "genuine")
        probs = {k: float(np.exp(-v * 5)) for k, v in d.items()}
        s = sum(probs.values())
        return VerificationResult(path=name, denomination=best, verdict=verdict, counterfeit_score=score,
                                  threshold=2.0, distances=d, probabilities={k: v / s for k, v in probs.items()},
                                  note_found=True, rectified=np.asarray(rgb), seconds=time.perf_counter() - t)

    def verify_paths(self, model: FakeBundle, paths, *, progress=None, cancel=None) -> list[VerificationResult]:  # noqa: ANN001
        self.calls.append("verify_paths")
        out = []
        for p in paths:
            check_cancel(cancel)
            try:
                out.append(self.verify_image(model, _read(Path(p)), str(p)))
            except ImageLoadError as exc:
                out.append(VerificationResult.failed(str(p), str(exc)))
        return out


@pytest.fixture
def settings(tmp_path: Path):  # noqa: ANN201
    from banknote_guard.gui.settings import AppSettings

    return AppSettings.from_file(tmp_path / "settings.ini")


@pytest.fixture
def fake_api(tmp_path: Path) -> FakeApi:
    return FakeApi(tmp_path)


@pytest.fixture
def make_window(qtbot, settings):  # noqa: ANN001, ANN201
    """Build a MainWindow around an api; the window's jobs are cancelled and joined at teardown."""
    from banknote_guard.gui.main_window import MainWindow

    windows = []

    def make(api: Any, **kwargs: Any) -> MainWindow:
        kwargs.setdefault("load_default_model", False)
        w = MainWindow(api=api, settings=settings, **kwargs)
        qtbot.addWidget(w)
        w.resize(1280, 800)
        windows.append(w)
        return w

    yield make
    for w in windows:
        w.shutdown()
    QThreadPool.globalInstance().waitForDone(5000)  # thumbnail decoders


@pytest.fixture
def window(make_window, fake_api):  # noqa: ANN001, ANN201
    return make_window(fake_api)


# --- the real engine ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated dataset: two currencies of three denominations, genuine and counterfeit notes."""
    from banknote_guard import api
    from banknote_guard.synth.generator import SynthOptions

    root = tmp_path_factory.mktemp("synthetic") / "notes"
    if os.environ.get("BANKNOTE_GUARD_SCREENSHOTS") == "1":  # pictures for the user guide: a model worth showing
        options = SynthOptions(currencies=2, denominations_per_currency=3, genuine_per_denomination=40,
                               counterfeit_per_denomination=16, note_width=320, difficulty="easy",
                               contact_sheet=False, seed=3)
    else:
        options = SynthOptions(currencies=2, denominations_per_currency=3, genuine_per_denomination=8,
                               counterfeit_per_denomination=3, note_width=200, jobs=1, contact_sheet=False, seed=3)
    api.generate_synthetic(root, options)
    return root


@pytest.fixture(scope="session")
def split_roots(synthetic_root: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(training dataset with the first currency only, the second currency kept for enrollment)."""
    import shutil

    currencies = sorted(p.name for p in synthetic_root.iterdir() if p.is_dir())
    train_root = tmp_path_factory.mktemp("train") / "dataset"
    shutil.copytree(synthetic_root / currencies[0], train_root / currencies[0])
    return train_root, synthetic_root / currencies[1]


def tiny_config(epochs: int = 2):  # noqa: ANN201
    """A training configuration that trains in seconds on a CPU."""
    from banknote_guard.model.config import ModelConfig, TrainConfig

    return TrainConfig(model=ModelConfig(backbone="small_cnn", image_height=32, image_width=64, embedding_dim=16),
                       pretrained=False, steps_per_epoch=0, epochs=epochs,
                       classes_per_batch=3, images_per_class=2, patience=50, num_threads=1)


@pytest.fixture(name="write_note")
def _write_note_fixture():  # noqa: ANN202
    """:func:`write_note`, for test modules (they cannot import conftest under importlib mode)."""
    return write_note


@pytest.fixture(name="colours")
def _colours_fixture() -> dict[str, tuple[int, int, int]]:
    return dict(COLOURS)


@pytest.fixture(name="fake_api_class")
def _fake_api_class_fixture() -> type[FakeApi]:
    return FakeApi


@pytest.fixture(name="tiny_config")
def _tiny_config_fixture():  # noqa: ANN202
    return tiny_config
