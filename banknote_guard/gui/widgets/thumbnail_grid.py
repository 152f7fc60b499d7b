"""A grid of image thumbnails, decoded on a thread pool so a big folder never blocks the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import QIcon, QImage, QImageReader, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem, QWidget

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def list_images(folder: str | Path, limit: int | None = None) -> list[Path]:
    """Image files directly inside ``folder`` (sorted), at most ``limit`` of them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return files[:limit] if limit else files


class _Signals(QObject):
    loaded = Signal(int, int, QImage)  # generation, index, image


class _LoadThumbnail(QRunnable):
    def __init__(self, signals: _Signals, generation: int, index: int, path: Path, size: QSize) -> None:
        super().__init__()
        self.signals, self.generation, self.index, self.path, self.size = signals, generation, index, path, size

    def run(self) -> None:
        reader = QImageReader(str(self.path))
        reader.setAutoTransform(True)
        src = reader.size()
        if src.isValid() and src.width() > 0 and src.height() > 0:
            reader.setScaledSize(src.scaled(self.size, Qt.AspectRatioMode.KeepAspectRatio))
        image = reader.read()
        self.signals.loaded.emit(self.generation, self.index, image)


class ThumbnailGrid(QListWidget):
    """Shows thumbnails of image files; :meth:`set_paths` replaces them (loading happens in the background)."""

    def __init__(self, thumb_size: QSize = QSize(150, 80), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumb_size = thumb_size
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(thumb_size)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setSpacing(6)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setGridSize(QSize(thumb_size.width() + 16, thumb_size.height() + 36))
        self._signals = _Signals()
        self._signals.loaded.connect(self._on_loaded)
        self._generation = 0
        self._pending = 0
        self.pool = QThreadPool.globalInstance()

    @property
    def pending(self) -> int:
        """Thumbnails still being decoded."""
        return self._pending

    def set_paths(self, paths: list[Path]) -> None:
        """Show ``paths``; thumbnails appear as they are decoded."""
        self._generation += 1
        self.clear()
        self._pending = len(paths)
        placeholder = QPixmap(self.thumb_size)
        placeholder.fill(Qt.GlobalColor.lightGray)
        for i, path in enumerate(paths):
            item = QListWidgetItem(QIcon(placeholder), path.name)
            item.setToolTip(str(path))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            self.addItem(item)
            self.pool.start(_LoadThumbnail(self._signals, self._generation, i, path, self.thumb_size))

    def _on_loaded(self, generation: int, index: int, image: QImage) -> None:
        if generation != self._generation:
            return
        self._pending = max(0, self._pending - 1)
        item = self.item(index)
        if item is None:
            return
        if image.isNull():
            item.setText(f"{item.text()}\n(unreadable)")
            return
        item.setIcon(QIcon(QPixmap.fromImage(image)))
