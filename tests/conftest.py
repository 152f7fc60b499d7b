"""Settings and fixtures shared by the whole test suite.

The engine fixtures (embeddings as Gaussian blobs, pattern-image datasets, tiny models) serve the
verify, evaluation and workflow tests alike."""

from __future__ import annotations

import os

# Qt draws into memory in tests; no display is needed.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Keep BLAS and torch from oversubscribing the two cores of a CI machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True, scope="session")
def _user_data_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the user's data folder (the default verification history) in a temporary folder; programs
    the tests start inherit it."""
    os.environ["BANKNOTE_GUARD_DATA_DIR"] = str(tmp_path_factory.mktemp("user_data"))


@pytest.fixture(autouse=True, scope="session")
def _torch_threads() -> None:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.set_num_threads(min(2, os.cpu_count() or 1))


# --- engine fixtures: embeddings as Gaussian blobs, pattern images, tiny networks ------------------


def make_blobs(
    n_classes: int = 4, per_class: int = 40, dim: int = 16, noise: float = 0.08, seed: int = 0, normalize: bool = True
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Genuine embeddings around random unit centres. Returns (embeddings, denom ids, centres)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_classes, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.concatenate([c + noise * rng.normal(size=(per_class, dim)) for c in centres])
    if normalize:
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    ids = [f"CUR/{i}" for i in range(n_classes) for _ in range(per_class)]
    return x.astype(np.float32), ids, centres


@pytest.fixture
def blob_maker():
    """The :func:`make_blobs` function, for tests that need other shapes."""
    return make_blobs


@pytest.fixture
def blobs() -> tuple[np.ndarray, list[str], np.ndarray]:
    return make_blobs()


# --- image datasets and tiny models ----------------------------------------------------------------

TINY_SIZE = (32, 64)  # network input (height, width) of the tiny test models


def pattern_image(denom: int, rng: np.random.Generator, *, counterfeit: bool = False, size=(60, 120)) -> np.ndarray:
    """A note-like RGB picture: a colour and stripe pattern per denomination; counterfeits are shifted and blurred."""
    import cv2

    h, w = size
    palette = [(200, 60, 60), (60, 170, 70), (60, 80, 200), (210, 190, 50), (150, 60, 170), (40, 170, 170)]
    base = np.array(palette[denom % len(palette)], dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    freq = 0.15 + 0.12 * denom
    stripes = 0.5 + 0.5 * np.sin(xx * freq + (denom % 3) * yy * 0.1)
    img = base[None, None, :] * (0.55 + 0.45 * stripes[:, :, None])
    img *= rng.uniform(0.92, 1.08)  # lighting
    img += rng.normal(0, 4, size=img.shape)
    if counterfeit:
        img = img[:, :, [1, 2, 0]] * 0.5 + img * 0.5  # colour shift
        img = cv2.GaussianBlur(img, (0, 0), 1.5)
        img += rng.normal(0, 12, size=img.shape)  # toner speckle
    return np.clip(img, 0, 255).astype(np.uint8)


def write_pattern_dataset(
    root, denoms=(0, 1, 2), genuine: int = 12, counterfeit: int = 4, currency: str = "TST", seed: int = 0
):
    """Write root/<currency>/<d>/{genuine,counterfeit}/*.png; returns the list of ImageRecord."""
    from pathlib import Path

    from banknote_guard.data.imageio import save_image
    from banknote_guard.data.records import ImageRecord

    rng = np.random.default_rng(seed)
    records = []
    for d in denoms:
        for label, n in (("genuine", genuine), ("counterfeit", counterfeit)):
            folder = Path(root) / currency / str(d) / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                p = folder / f"{label[0]}{i:03d}.png"
                save_image(p, pattern_image(d, rng, counterfeit=label == "counterfeit"))
                records.append(ImageRecord(p, currency, str(d), label))  # type: ignore[arg-type]
    return records


def tiny_net(seed: int = 0, dim: int = 16):
    """An untrained small_cnn EmbeddingNet with a tiny input (deterministic weights)."""
    import torch

    from banknote_guard.model.config import ModelConfig
    from banknote_guard.model.network import EmbeddingNet

    torch.manual_seed(seed)
    cfg = ModelConfig(backbone="small_cnn", embedding_dim=dim, image_height=TINY_SIZE[0], image_width=TINY_SIZE[1])
    return EmbeddingNet(cfg).eval(), cfg


@pytest.fixture(scope="session")
def pattern_dataset(tmp_path_factory):
    """(root, records) of a small dataset of pattern images: 3 denominations, 12 genuine + 4 counterfeit each."""
    root = tmp_path_factory.mktemp("patterns")
    return root, write_pattern_dataset(root)


@pytest.fixture(scope="session")
def tiny_bundle_bytes(pattern_dataset) -> bytes:
    """A model file's bytes built from an untrained tiny network on the pattern dataset."""
    from banknote_guard.model.config import TrainConfig
    from banknote_guard.verify.calibration import CalibrationConfig
    from banknote_guard.workflows.training import build_bundle

    _, records = pattern_dataset
    net, cfg = tiny_net()
    train = [r for i, r in enumerate(records) if i % 4 != 3]
    val = [r for i, r in enumerate(records) if i % 4 == 3]
    bundle, _ = build_bundle(net, cfg, TrainConfig(model=cfg), train, val,
                             calibration=CalibrationConfig(false_alarm_rate=0.05))
    return bundle.to_bytes()


@pytest.fixture
def tiny_bundle(tiny_bundle_bytes):
    """A fresh copy of the tiny model (tests may change it)."""
    from banknote_guard.verify.bundle import ModelBundle

    return ModelBundle.from_bytes(tiny_bundle_bytes)


@pytest.fixture(scope="session")
def new_dataset(tmp_path_factory):
    """Two denominations the tiny model never saw (patterns 3 and 4): 10 genuine + 3 counterfeit each."""
    root = tmp_path_factory.mktemp("new_denoms")
    write_pattern_dataset(root, denoms=(3, 4), genuine=10, counterfeit=3, currency="NEW", seed=7)
    return root


@pytest.fixture
def sane_config(tmp_path, monkeypatch):
    """SANE with only its ``pnm`` (scans a file we choose) and ``test`` backends, through a
    ``SANE_CONFIG_DIR`` of the test's own (no change to /etc); skips where scanimage is missing."""
    import shutil

    if shutil.which("scanimage") is None:
        pytest.skip("SANE's scanimage is not installed (Debian/Ubuntu: apt-get install sane-utils)")
    folder = tmp_path / "sane.d"
    folder.mkdir()
    (folder / "dll.conf").write_text("pnm\ntest\n")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(folder))
    monkeypatch.delenv("SANE_DEFAULT_DEVICE", raising=False)
    return folder
