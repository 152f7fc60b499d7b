"""Robust image reading and writing.

Every image the application touches goes through :func:`load_image` (files) or
:func:`decode_image_bytes` (clipboard, uploads). Both return an ``(H, W, 3)`` ``uint8`` RGB array,
C-contiguous, upright (EXIF orientation applied), whatever the file's mode was: grayscale, palette,
16-bit, float, CMYK or with an alpha channel (composited on white). Every failure raises
:class:`~banknote_guard.errors.ImageLoadError` with a short, specific reason; a damaged file never turns
into a silent black image.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import warnings
import zlib
from pathlib import Path
from typing import IO, Iterator

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from banknote_guard.errors import ImageLoadError, parameter_error
from banknote_guard.fileio import atomic_path

# A truncated file must raise, never decode to grey/black padding.
ImageFile.LOAD_TRUNCATED_IMAGES = False

#: File name extensions treated as images (lower case, with the dot).
IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

#: Default limit on the pixel count of an image, checked from the header before decoding.
DEFAULT_MAX_PIXELS: int = 80_000_000

#: Names of files and folders that operating systems and tools leave behind.
_JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini", "__macosx", "$recycle.bin"})

_SAVE_FORMATS: dict[str, str] = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".webp": "WEBP",
}

# EXIF orientation tag value -> the transpose that makes the picture upright.
_EXIF_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ORIENTATION_TAG = 0x0112

# Errors Pillow's decoders raise on damaged data.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, zlib.error, AssertionError)


def load_image(
    path: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
) -> np.ndarray:
    """Read an image file as an upright 8-bit RGB array.

    Args:
        path: the image file (any name, including non-ASCII characters).
        max_pixels: refuse images with more pixels than this (checked from the header, before
            decoding, against decompression bombs).
        max_side: when given, the longer side of the result is at most this many pixels; large JPEGs
            are decoded at reduced size (fast), other formats are decoded and then downscaled.

    Returns:
        ``(H, W, 3)`` ``uint8`` RGB array, C-contiguous.

    Raises:
        ImageLoadError: the file is missing, a folder, unreadable, empty, not an image, truncated or
            corrupt, too large, or of an unsupported mode; ``reason`` says which.
    """
    return load_image_with_size(path, max_pixels=max_pixels, max_side=max_side)[0]



@contextlib.contextmanager
def _open_image_file(path: Path) -> Iterator[IO[bytes]]:
    """Open a non-empty regular file for reading; every OS failure becomes an :class:`ImageLoadError`."""
    try:
        if path.is_dir():
            raise ImageLoadError(path, "is a directory, not an image file")
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                raise ImageLoadError(path, "the file is empty (zero bytes)")
            yield fh
    except FileNotFoundError:
        raise ImageLoadError(path, "file not found") from None
    except IsADirectoryError:
        raise ImageLoadError(path, "is a directory, not an image file") from None
    except PermissionError:
        raise ImageLoadError(path, "permission denied") from None
    except ImageLoadError:
        raise
    except OSError as exc:
        raise ImageLoadError(path, f"could not be read ({exc.strerror or exc})") from None

def load_image_with_size(
    path: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Like :func:`load_image`, and also return the full upright size ``(width, height)`` of the file."""
    _check_limits(max_pixels, max_side, "load_image")
    path = Path(path)
    with _open_image_file(path) as fh:
        return _decode(fh, path, max_pixels, max_side)


def decode_image_bytes(
    data: bytes,
    name: str = "image",
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
) -> np.ndarray:
    """Decode an image held in memory (clipboard, upload) with the rules of :func:`load_image`.

    Args:
        data: the encoded image file.
        name: what to call the image in error messages.
        max_pixels: see :func:`load_image`.
        max_side: see :func:`load_image`.

    Raises:
        ImageLoadError: as :func:`load_image`.
    """
    _check_limits(max_pixels, max_side, "decode_image_bytes")
    if not data:
        raise ImageLoadError(name, "the file is empty (zero bytes)")
    return _decode(io.BytesIO(data), Path(name), max_pixels, max_side)[0]


def decode_image_bytes_with_size(
    data: bytes,
    name: str = "image",
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = None,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Like :func:`decode_image_bytes`, and also return the full upright size ``(width, height)``."""
    _check_limits(max_pixels, max_side, "decode_image_bytes")
    if not data:
        raise ImageLoadError(name, "the file is empty (zero bytes)")
    return _decode(io.BytesIO(data), Path(name), max_pixels, max_side)


def read_image_size(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """Return the upright ``(width, height)`` of an image from its header only (no pixel decoding).

    Raises:
        ImageLoadError: as :func:`load_image`, except that damage after the header goes unnoticed.
    """
    path = Path(path)
    with _open_image_file(path) as fh, _open_pil(fh, path, max_pixels) as im:
        return _upright_size(im)


def save_image(path: str | Path, rgb: np.ndarray, *, quality: int = 92) -> None:
    """Write an RGB (or grayscale) ``uint8`` array atomically; the format follows the extension.

    Args:
        path: destination; the extension picks the format (.jpg .jpeg .png .bmp .tif .tiff .webp).
        rgb: ``(H, W, 3)`` or ``(H, W)`` ``uint8`` array.
        quality: JPEG/WebP quality, 1-100.

    Raises:
        ParameterError: unsupported extension, bad array or quality.
        DiskFullError: the file could not be written (nothing was overwritten).
    """
    path = Path(path)
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise parameter_error(
            "path", "save_image", f"a file name ending in one of {', '.join(sorted(_SAVE_FORMATS))}", str(path)
        )
    if not 1 <= int(quality) <= 100:
        raise parameter_error("quality", "save_image", "an integer in [1, 100]", quality)
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8 or not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)):
        raise parameter_error(
            "rgb", "save_image", "a uint8 array of shape (H, W, 3) or (H, W)", f"{arr.dtype} {arr.shape}"
        )
    im = Image.fromarray(np.ascontiguousarray(arr))
    kwargs: dict[str, object] = {}
    if fmt in ("JPEG", "WEBP"):
        kwargs["quality"] = int(quality)
    with atomic_path(path) as tmp:
        im.save(tmp, format=fmt, **kwargs)


def is_image_file(path: str | Path) -> bool:
    """True when ``path``'s extension is one of :data:`IMAGE_EXTENSIONS` and it is not hidden."""
    p = Path(path)
    return p.suffix.lower() in IMAGE_EXTENSIONS and not is_hidden_name(p.name)


def is_hidden_name(name: str) -> bool:
    """True for hidden entries and operating-system leftovers (".DS_Store", "._x", "Thumbs.db", ...)."""
    return name.startswith(".") or name.lower() in _JUNK_NAMES


def iter_image_files(folder: str | Path, *, recursive: bool = True) -> Iterator[Path]:
    """Yield the image files of ``folder`` in sorted order, skipping hidden files and folders.

    Args:
        folder: where to look.
        recursive: also walk sub-folders (hidden ones are skipped).
    """
    folder = Path(folder)
    found: list[Path] = []
    if recursive:
        for dirpath, dirnames, filenames in os.walk(folder):
            dirnames[:] = sorted(d for d in dirnames if not is_hidden_name(d))
            base = Path(dirpath)
            found.extend(base / f for f in filenames if is_image_file(f))
    else:
        found = [p for p in folder.iterdir() if p.is_file() and is_image_file(p.name)]
    yield from sorted(found)


# --------------------------------------------------------------------------------------------------
# internals


def _check_limits(max_pixels: int, max_side: int | None, owner: str) -> None:
    if not isinstance(max_pixels, (int, np.integer)) or max_pixels <= 0:
        raise parameter_error("max_pixels", owner, "a positive integer", max_pixels)
    if max_side is not None and (not isinstance(max_side, (int, np.integer)) or max_side <= 0):
        raise parameter_error("max_side", owner, "a positive integer or None", max_side)


def _open_pil(fh: IO[bytes], path: Path, max_pixels: int) -> Image.Image:
    """Open (header only) and check the pixel count before anything is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fh)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise ImageLoadError(path, f"image is too large: {count}, the limit is {max_pixels:,} pixels") from None
    except UnidentifiedImageError:
        raise ImageLoadError(path, "not an image, or an unknown image format") from None
    except _DECODE_ERRORS as exc:
        raise ImageLoadError(path, f"the file is corrupt ({exc})") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        im.close()
        raise ImageLoadError(path, f"the file declares an empty image ({w}x{h})")
    if w * h > max_pixels:
        im.close()
        raise ImageLoadError(
            path, f"image is too large: {w}x{h} = {w * h:,} pixels, the limit is {max_pixels:,} pixels"
        )
    return im


def _orientation(im: Image.Image) -> int:
    try:
        value = int(im.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # a damaged EXIF block is no reason to refuse the pixels
        return 1
    return value if value in _EXIF_TRANSPOSE else 1


def _upright_size(im: Image.Image) -> tuple[int, int]:
    w, h = im.size
    return (h, w) if _orientation(im) in (5, 6, 7, 8) else (w, h)


def _decode(
    fh: IO[bytes], path: Path, max_pixels: int, max_side: int | None
) -> tuple[np.ndarray, tuple[int, int]]:
    im = _open_pil(fh, path, max_pixels)
    try:
        orientation = _orientation(im)
        full_w, full_h = im.size
        try:
            if max_side is not None and im.format in ("JPEG", "MPO") and max(full_w, full_h) > max_side:
                scale = max_side / max(full_w, full_h)
                im.draft(None, (max(1, int(full_w * scale)), max(1, int(full_h * scale))))
            im.load()
            rgb = _to_rgb8(im, path)
        except ImageLoadError:
            raise
        except MemoryError:
            raise ImageLoadError(path, "not enough memory to decode the image") from None
        except _DECODE_ERRORS as exc:
            text = str(exc) or type(exc).__name__
            if "truncated" in text.lower() or isinstance(exc, EOFError):
                raise ImageLoadError(path, f"the file is truncated ({text})") from None
            raise ImageLoadError(path, f"the file is truncated or corrupt ({text})") from None
    finally:
        im.close()
    if orientation != 1:
        rgb = _transpose_array(rgb, orientation)
    if max_side is not None and max(rgb.shape[:2]) > max_side:
        h, w = rgb.shape[:2]
        scale = max_side / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    full = (full_h, full_w) if orientation in (5, 6, 7, 8) else (full_w, full_h)
    return np.ascontiguousarray(rgb), full


def _transpose_array(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply the EXIF orientation to an (H, W, 3) array (same result as Pillow's exif_transpose)."""
    if orientation == 2:
        return rgb[:, ::-1]
    if orientation == 3:
        return rgb[::-1, ::-1]
    if orientation == 4:
        return rgb[::-1]
    if orientation == 5:
        return rgb.transpose(1, 0, 2)
    if orientation == 6:
        return np.rot90(rgb, k=-1)
    if orientation == 7:
        return np.rot90(rgb, k=1)[::-1]
    if orientation == 8:
        return np.rot90(rgb, k=1)
    return rgb


def _scale_to_8bit(arr: np.ndarray) -> np.ndarray:
    """Scale a 16-bit, 32-bit integer or float single-channel array to uint8 (scaled, not clipped)."""
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        a = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        lo, hi = float(a.min(initial=0.0)), float(a.max(initial=0.0))
        if lo >= 0.0 and hi <= 1.0:
            a = a * 255.0
        elif lo >= 0.0 and hi <= 255.0:
            pass
        elif lo >= 0.0 and hi <= 65535.0:
            a = a / 257.0
        else:
            a = (a - lo) * (255.0 / max(hi - lo, 1e-12))
        return np.clip(a + 0.5, 0, 255).astype(np.uint8)
    a = arr.astype(np.int64)
    lo, hi = int(a.min(initial=0)), int(a.max(initial=0))
    if lo >= 0 and hi <= 255 and arr.dtype.itemsize > 2:
        return a.astype(np.uint8)  # a 32-bit container holding 8-bit values
    if lo >= 0 and hi <= 65535:
        return ((a * 255 + 32767) // 65535).astype(np.uint8)
    return ((a - lo) * 255 // max(hi - lo, 1)).astype(np.uint8)


def _to_rgb8(im: Image.Image, path: Path) -> np.ndarray:
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im)
    if mode in ("L", "1"):
        gray = np.asarray(im.convert("L"))
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode.startswith("I;16") or mode in ("I", "F"):
        gray = _scale_to_8bit(np.asarray(im))
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "P" or mode == "PA":
        has_alpha = mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if has_alpha else "RGB")
        mode = im.mode
        if mode == "RGB":
            return np.asarray(im)
    if mode in ("RGBA", "LA", "La", "RGBa"):
        rgba = np.asarray(im.convert("RGBA")).astype(np.float32)
        alpha = rgba[:, :, 3:4] / 255.0
        out = rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)
        return np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        return np.asarray(im.convert("RGB"))
    raise ImageLoadError(path, f"unsupported image mode {mode!r}")
