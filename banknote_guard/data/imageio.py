"""Robust image reading and writing.

Every image the application touches goes through :func:`load_image` (files) or
:func:`decode_image_bytes` (clipboard, uploads). Both return an ``(H, W, 3)`` ``uint8`` RGB array,
C-contiguous, upright (EXIF orientation applied), whatever the file's mode was: grayscale, palette,
16-bit, float, CMYK or with an alpha channel (composited on white). Every failure raises
:class:`~banknote_guard.errors.ImageLoadError` with a short, specific reason written for an operator;
a damaged file never turns into a silent black image.

Safety:

* Only regular files are opened (checked with ``stat`` before opening, and again on the open file,
  which is opened non-blocking): a pipe, socket or device named like an image is refused when given
  directly and skipped, with a reason, when met in a folder. Reading a pipe would wait forever.
* Memory: large images are reduced while decoding (JPEG) or right after it, before any further copy;
  colour conversion happens on the reduced image, and intermediates are freed at once. At most
  :data:`DECODE_MEMORY_BUDGET` bytes of estimated working memory are used by decodes running at the
  same time in one process: a decode that would go over waits until others finish (one decode
  always runs, however large), so several reader threads cannot together exhaust memory.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import stat
import threading
import warnings
import zlib
from pathlib import Path
from typing import IO, Callable, Iterator

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from banknote_guard.errors import ImageLoadError, parameter_error
from banknote_guard.fileio import atomic_path

# A truncated file must raise, never decode to grey/black padding.
ImageFile.LOAD_TRUNCATED_IMAGES = False

#: File name extensions treated as images (lower case, with the dot).
IMAGE_EXTENSIONS: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

log = logging.getLogger(__name__)

#: Default limit on the pixel count of an image, checked from the header before decoding.
DEFAULT_MAX_PIXELS: int = 80_000_000

#: Default longest side of a loaded image. The engine never needs more (rectification works at a
#: fraction of it); pass ``max_side=None`` for the full size.
DEFAULT_MAX_SIDE: int = 4096

#: The smallest side of a picture that can show a note (note finding needs at least 8 x 8 pixels).
MIN_NOTE_SIDE: int = 8

#: :func:`read_image_bytes` refuses larger files (an 80-megapixel 16-bit RGBA TIFF is 640 MB).
MAX_FILE_BYTES: int = 1 << 30

#: Estimated working memory, in bytes, that image decodes running at the same time may use together
#: (see the module documentation). Read at each decode, so it can be changed at run time.
DECODE_MEMORY_BUDGET: int = 2 << 30

# Estimated peak working memory of a decode per pixel of the decoded image: Pillow's image (4 bytes
# a pixel), one converted or reduced copy and the uint8 result (measured: 8-9 bytes a pixel, WebP
# 15, whose decoder keeps a copy of its own).
_DECODE_BYTES_PER_PIXEL = 12
_DECODE_BYTES_PER_PIXEL_WEBP = 16

# Images are copied out of Pillow in strips of about this many bytes (a whole-image copy would need
# twice the image size at once).
_STRIP_BYTES = 16 << 20

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
    max_side: int | None = DEFAULT_MAX_SIDE,
    min_side: int = 1,
) -> np.ndarray:
    """Read an image file as an upright 8-bit RGB array.

    Only regular files are opened: a folder, pipe (FIFO), socket or device is refused with a reason
    (reading a pipe would wait for a writer forever).

    Args:
        path: the image file (any name, including non-ASCII characters).
        max_pixels: refuse images with more pixels than this (checked from the header, before
            decoding, against decompression bombs).
        max_side: the longer side of the result is at most this many pixels (default
            :data:`DEFAULT_MAX_SIDE`, more than the engine ever needs); large JPEGs are decoded at
            reduced size, other formats are reduced right after decoding, before any copy is made.
            ``None`` keeps the full size.
        min_side: refuse images with a side shorter than this (e.g. :data:`MIN_NOTE_SIDE` where the
            picture must show a note).

    Returns:
        ``(H, W, 3)`` ``uint8`` RGB array, C-contiguous.

    Raises:
        ImageLoadError: the file is missing, a folder or other non-regular file, unreadable, empty,
            not an image, truncated or corrupt, too large or too small, or of an unsupported colour
            format; ``reason`` says which in words for an operator.
    """
    return load_image_with_size(path, max_pixels=max_pixels, max_side=max_side, min_side=min_side)[0]


def load_image_with_size(
    path: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = DEFAULT_MAX_SIDE,
    min_side: int = 1,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Like :func:`load_image`, and also return the full upright size ``(width, height)`` of the file."""
    _check_limits(max_pixels, max_side, min_side, "load_image")
    path = Path(path)
    with _open_image_file(path) as fh:
        return _decode(fh, path, max_pixels, max_side, min_side)


def read_image_bytes(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read the raw bytes of an image file, with the checks of :func:`load_image` (regular, non-empty file).

    Raises:
        ImageLoadError: as :func:`load_image` for a missing, non-regular, unreadable or empty file,
            and for a file larger than ``max_bytes``.
    """
    path = Path(path)
    with _open_image_file(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            raise ImageLoadError(
                path, f"the file is too large ({_megabytes(size)}); image files of up to {_megabytes(max_bytes)} are read"
            )
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise ImageLoadError(path, _os_reason(exc)) from None
    if len(data) > max_bytes:  # it grew while being read
        raise ImageLoadError(path, f"the file is too large; image files of up to {_megabytes(max_bytes)} are read")
    return data


def decode_image_bytes(
    data: bytes,
    name: str = "image",
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = DEFAULT_MAX_SIDE,
    min_side: int = 1,
) -> np.ndarray:
    """Decode an image held in memory (clipboard, upload) with the rules of :func:`load_image`.

    Args:
        data: the encoded image file.
        name: what to call the image in error messages.
        max_pixels: see :func:`load_image`.
        max_side: see :func:`load_image`.
        min_side: see :func:`load_image`.

    Raises:
        ImageLoadError: as :func:`load_image`.
    """
    return decode_image_bytes_with_size(data, name, max_pixels=max_pixels, max_side=max_side, min_side=min_side)[0]


def decode_image_bytes_with_size(
    data: bytes,
    name: str = "image",
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_side: int | None = DEFAULT_MAX_SIDE,
    min_side: int = 1,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Like :func:`decode_image_bytes`, and also return the full upright size ``(width, height)``."""
    _check_limits(max_pixels, max_side, min_side, "decode_image_bytes")
    if not data:
        raise ImageLoadError(name, "the file is empty (zero bytes)")
    return _decode(io.BytesIO(data), Path(name), max_pixels, max_side, min_side)


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
    """True when ``path`` has an image extension, is not hidden, and is not a non-regular file.

    A folder, pipe (FIFO), socket or device with an image name is not an image file. A path that does
    not exist (yet) is judged by its name alone.
    """
    p = Path(path)
    if not _has_image_name(p.name):
        return False
    try:
        mode = os.stat(p).st_mode
    except (OSError, ValueError):
        return True  # missing or unreadable: reading it will say why
    return stat.S_ISREG(mode)


def is_hidden_name(name: str) -> bool:
    """True for hidden entries and operating-system leftovers (".DS_Store", "._x", "Thumbs.db", ...)."""
    return name.startswith(".") or name.lower() in _JUNK_NAMES


#: Called with a path and the reason it was skipped (one line for an operator).
SkipCallback = Callable[[Path, str], None]


def iter_image_files(
    folder: str | Path, *, recursive: bool = True, on_skip: SkipCallback | None = None
) -> Iterator[Path]:
    """Yield the image files of ``folder`` in sorted order, skipping hidden files and folders.

    Only regular files (or links to them) are yielded. Entries with an image name that are not
    (a pipe, socket or device, a broken link) and folders that cannot be read are skipped, and so
    are links to folders (not followed, so a walk cannot leave the folder or go round in circles);
    each is passed to ``on_skip`` with the reason, or logged as a warning when ``on_skip`` is None.

    Args:
        folder: where to look.
        recursive: also walk sub-folders (hidden ones are skipped).
        on_skip: called as ``on_skip(path, reason)`` for every entry skipped for a reason.
    """
    folder = Path(folder)

    def skip(p: Path, reason: str) -> None:
        if on_skip is None:
            log.warning("Skipped %s: %s", p, reason)
        else:
            on_skip(p, reason)

    found: list[Path] = []
    pending = [folder]
    while pending:
        here = pending.pop()
        try:
            with os.scandir(here) as it:
                entries = list(it)
        except FileNotFoundError:
            skip(here, "the folder does not exist (it may have been moved, renamed or deleted)")
            continue
        except OSError as exc:
            why = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
            skip(here, f"this folder cannot be read ({why})")
            continue
        for entry in entries:
            if is_hidden_name(entry.name):
                continue
            p = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if recursive:
                        pending.append(p)
                    continue
                if entry.is_symlink() and entry.is_dir():
                    if recursive:
                        skip(p, "a link to a folder; links to folders are not followed")
                    continue
                if not _has_image_name(entry.name):
                    continue
                reason = non_regular_reason(os.stat(p).st_mode)
            except FileNotFoundError:
                reason = "a link to a file that does not exist"
            except OSError as exc:
                reason = f"cannot be read: {_os_reason(exc)}"
            if reason is None:
                found.append(p)
            else:
                skip(p, reason)
    yield from sorted(found)


def non_regular_reason(mode: int) -> str | None:
    """None for a regular file (an ``os.stat`` mode), else why it is not read, in words for an operator."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "this is a folder (a directory), not an image file"
    if stat.S_ISFIFO(mode):
        kind = "a pipe"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    else:
        kind = "a special file"
    return f"not a regular file ({kind}), so it was not read"


# --------------------------------------------------------------------------------------------------
# internals


def _has_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS and not is_hidden_name(name)


def _megabytes(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{max(n / 1e6, 0.1):.1f} MB"


def _os_reason(exc: OSError) -> str:
    """An OS error in words, without the file name (the message names the file already)."""
    if isinstance(exc, FileNotFoundError):
        return "file not found (it may have been moved, renamed or deleted)"
    if isinstance(exc, PermissionError):
        return "permission denied (this user account may not read it)"
    return f"the file could not be read ({exc.strerror or exc})"


# Opened non-blocking: should a pipe slip past the stat check, opening it still does not wait.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


@contextlib.contextmanager
def _open_image_file(path: Path) -> Iterator[IO[bytes]]:
    """Open a non-empty regular file for reading; every OS failure becomes an :class:`ImageLoadError`."""
    fd = -1
    try:
        reason = non_regular_reason(os.stat(path).st_mode)
        if reason is None:
            fd = os.open(path, _OPEN_FLAGS)
            st = os.fstat(fd)  # the file opened may not be the one looked at
            reason = non_regular_reason(st.st_mode)
            if reason is None and st.st_size == 0:
                reason = "the file is empty (zero bytes)"
        if reason is not None:
            raise ImageLoadError(path, reason)
        fh = os.fdopen(fd, "rb")
        fd = -1
    except OSError as exc:
        raise ImageLoadError(path, _os_reason(exc)) from None
    except ValueError:  # e.g. a NUL character in the name
        raise ImageLoadError(path, "the file name is not valid") from None
    finally:
        if fd >= 0:
            os.close(fd)
    with fh:
        yield fh


def _check_limits(max_pixels: int, max_side: int | None, min_side: int, owner: str) -> None:
    if not isinstance(max_pixels, (int, np.integer)) or max_pixels <= 0:
        raise parameter_error("max_pixels", owner, "a positive integer", max_pixels)
    if max_side is not None and (not isinstance(max_side, (int, np.integer)) or max_side <= 0):
        raise parameter_error("max_side", owner, "a positive integer or None", max_side)
    if not isinstance(min_side, (int, np.integer)) or min_side <= 0:
        raise parameter_error("min_side", owner, "a positive integer", min_side)


def _too_large(path: Path, w: int, h: int, count: str, max_pixels: int) -> ImageLoadError:
    size = f"{w} x {h} pixels ({count})" if w and h else count
    return ImageLoadError(
        path, f"the picture is too large: {size}, more than the limit of {max_pixels:,} pixels"
    )


def _open_pil(fh: IO[bytes], path: Path, max_pixels: int) -> Image.Image:
    """Open (header only) and check the pixel count before anything is decoded."""
    try:
        with warnings.catch_warnings():  # Pillow's warnings (bombs, bad EXIF) are for developers
            warnings.simplefilter("ignore")
            im = Image.open(fh)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise _too_large(path, 0, 0, count, max_pixels) from None
    except UnidentifiedImageError:
        raise ImageLoadError(
            path, "not an image, or in a format this program cannot read (use JPEG, PNG, TIFF, BMP or WebP)"
        ) from None
    except _DECODE_ERRORS as exc:
        log.debug("Cannot open %s: %r", path, exc)
        raise ImageLoadError(path, "the file is corrupt: its header cannot be read") from None
    w, h = im.size
    if w <= 0 or h <= 0:
        im.close()
        raise ImageLoadError(path, f"the file is corrupt: it describes a picture of {w} x {h} pixels")
    if w * h > max_pixels:
        im.close()
        raise _too_large(path, w, h, f"{w * h:,}", max_pixels)
    return im


def _orientation(im: Image.Image) -> int:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = int(im.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # a damaged EXIF block is no reason to refuse the pixels
        return 1
    return value if value in _EXIF_TRANSPOSE else 1


def _upright_size(im: Image.Image) -> tuple[int, int]:
    w, h = im.size
    return (h, w) if _orientation(im) in (5, 6, 7, 8) else (w, h)


class _MemoryBudget:
    """Lets decodes run together while their estimated memory fits :data:`DECODE_MEMORY_BUDGET`."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.in_use = 0
        self.running = 0

    @contextlib.contextmanager
    def take(self, cost: int) -> Iterator[None]:
        with self._cond:
            cost = max(0, min(int(cost), int(DECODE_MEMORY_BUDGET)))
            # One decode always runs, whatever its size; others wait while they would not fit.
            while self.running and self.in_use + cost > DECODE_MEMORY_BUDGET:
                self._cond.wait()
            self.in_use += cost
            self.running += 1
        try:
            yield
        finally:
            with self._cond:
                self.in_use -= cost
                self.running -= 1
                self._cond.notify_all()


_BUDGET = _MemoryBudget()


def _decode(
    fh: IO[bytes], path: Path, max_pixels: int, max_side: int | None, min_side: int = 1
) -> tuple[np.ndarray, tuple[int, int]]:
    im = _open_pil(fh, path, max_pixels)
    try:
        orientation = _orientation(im)
        full_w, full_h = im.size
        full = (full_h, full_w) if orientation in (5, 6, 7, 8) else (full_w, full_h)
        if min(full_w, full_h) < min_side:
            raise ImageLoadError(
                path,
                f"the picture is only {full[0]} x {full[1]} pixels, too small to show a banknote "
                f"(at least {min_side} x {min_side} are needed)",
            )
        try:
            if max_side is not None and im.format in ("JPEG", "MPO") and max(full_w, full_h) > max_side:
                scale = max_side / max(full_w, full_h)
                im.draft(None, (max(1, int(full_w * scale)), max(1, int(full_h * scale))))
            per_pixel = _DECODE_BYTES_PER_PIXEL_WEBP if im.format == "WEBP" else _DECODE_BYTES_PER_PIXEL
            with _BUDGET.take(im.size[0] * im.size[1] * per_pixel), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im.load()
                pixels = _to_pixels(im, path, max_side)
        except ImageLoadError:
            raise
        except MemoryError:
            raise ImageLoadError(
                path, "not enough memory to open this picture; close other programs and try again"
            ) from None
        except _DECODE_ERRORS as exc:
            log.debug("Cannot decode %s: %r", path, exc)
            text = str(exc).lower()
            if "truncated" in text or "not enough data" in text or isinstance(exc, EOFError):
                raise ImageLoadError(
                    path, "the file is truncated (cut short, e.g. by an interrupted copy or download)"
                ) from None
            raise ImageLoadError(path, "the file is corrupt (damaged) and cannot be read") from None
    finally:
        im.close()
    if orientation != 1:
        pixels = _transpose_array(pixels, orientation)
    if max_side is not None and max(pixels.shape[:2]) > max_side:
        h, w = pixels.shape[:2]
        scale = max_side / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        pixels = cv2.resize(np.ascontiguousarray(pixels), size, interpolation=cv2.INTER_AREA)
    if pixels.ndim == 2:  # grey: widened to three channels last, on the smallest array
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.ascontiguousarray(pixels), full


def _transpose_array(rgb: np.ndarray, orientation: int) -> np.ndarray:
    """Apply the EXIF orientation to an (H, W[, C]) array (same result as Pillow's exif_transpose)."""
    if orientation == 2:
        return rgb[:, ::-1]
    if orientation == 3:
        return rgb[::-1, ::-1]
    if orientation == 4:
        return rgb[::-1]
    if orientation == 5:
        return rgb.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(rgb, k=-1)
    if orientation == 7:
        return np.rot90(rgb, k=1)[::-1]
    if orientation == 8:
        return np.rot90(rgb, k=1)
    return rgb


def _scale_to_8bit(arr: np.ndarray, *, from_16_bit: bool = False) -> np.ndarray:
    """Scale a 16-bit, 32-bit integer or float single-channel array to uint8 (scaled, not clipped).

    Works in strips of rows, so a large image needs no full-size temporary copies. ``from_16_bit``:
    the values come from a 16-bit image (a 32-bit container holding only small values is then not
    taken for 8-bit data).
    """
    if arr.dtype == np.uint8:
        return arr
    is_float = np.issubdtype(arr.dtype, np.floating)
    rows = max(1, (1 << 20) // max(1, arr[0].size if len(arr) else 1))

    def clean(part: np.ndarray) -> np.ndarray:
        if is_float:
            return np.nan_to_num(part.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        return part.astype(np.int64)

    lo: float = 0.0
    hi: float = 0.0
    for y in range(0, len(arr), rows):
        part = clean(arr[y : y + rows])
        lo, hi = min(lo, float(part.min(initial=0))), max(hi, float(part.max(initial=0)))

    def scale(a: np.ndarray) -> np.ndarray:
        if is_float:
            if lo >= 0.0 and hi <= 1.0:
                a = a * 255.0
            elif lo >= 0.0 and hi <= 255.0:
                pass
            elif lo >= 0.0 and hi <= 65535.0:
                a = a / 257.0
            else:
                a = (a - lo) * (255.0 / max(hi - lo, 1e-12))
            return np.clip(a + 0.5, 0, 255).astype(np.uint8)
        if lo >= 0 and hi <= 255 and arr.dtype.itemsize > 2 and not from_16_bit:
            return a.astype(np.uint8)  # a 32-bit container holding 8-bit values
        if lo >= 0 and hi <= 65535:
            return ((a * 255 + 32767) // 65535).astype(np.uint8)
        return ((a - int(lo)) * 255 // max(int(hi - lo), 1)).astype(np.uint8)

    out = np.empty(arr.shape, np.uint8)
    for y in range(0, len(arr), rows):
        out[y : y + rows] = scale(clean(arr[y : y + rows]))
    return out


def _replace(im: Image.Image, new: Image.Image) -> Image.Image:
    """Free ``im``'s pixels at once (not when the garbage collector gets to it) and go on with ``new``."""
    if new is not im:
        im.close()
    return new


def _to_array(im: Image.Image) -> np.ndarray:
    """Copy a loaded image's pixels into a new, writable array, in strips, and free the image.

    ``np.asarray(im)`` would hold the whole image twice more at once (Pillow joins its encoded
    pieces into one bytes object); strips keep the extra memory small.
    """
    try:
        w, h = im.size
        bands = len(im.getbands())
        if w * h * bands * 4 <= _STRIP_BYTES:
            return np.array(im)
        first = np.asarray(im.crop((0, 0, w, 1)))
        out = np.empty((h, *first.shape[1:]), first.dtype)
        rows = max(1, _STRIP_BYTES // max(1, first.nbytes))
        for y in range(0, h, rows):
            strip = im.crop((0, y, w, min(h, y + rows)))
            out[y : y + strip.size[1]] = np.asarray(strip)
            strip.close()
        return out
    finally:
        im.close()


def _to_pixels(im: Image.Image, path: Path, max_side: int | None) -> np.ndarray:
    """A loaded image as uint8 RGB ``(H, W, 3)`` or grey ``(H, W)``, at most about ``max_side`` a side.

    The order keeps memory low: modes that cannot be reduced are made plain first, then the image
    is reduced by a whole factor (Pillow premultiplies alpha for that), then converted, then copied
    out; every intermediate is freed as soon as the next one exists.
    """
    source_mode = mode = im.mode
    if mode in ("1", "L", "I", "F") or mode.startswith("I;16"):
        if mode == "1":
            im = _replace(im, im.convert("L"))
        # Grey stays one channel; it is reduced on the array (cv2) and widened to RGB last.
        return _scale_to_8bit(_to_array(im), from_16_bit=source_mode.startswith("I;16"))
    plain = {"P": "RGB", "PA": "RGBA", "La": "LA", "RGBa": "RGBA", "RGBX": "RGB", "YCbCr": "RGB", "LAB": "RGB", "HSV": "RGB"}
    if mode not in plain and mode not in ("RGB", "RGBA", "LA", "CMYK"):
        raise ImageLoadError(
            path, f"the picture's colour format ({mode}) is not supported; save it as an ordinary RGB JPEG or PNG"
        )
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        im = _replace(im, im.convert("RGBA" if has_alpha else "RGB"))
    elif mode in plain:
        im = _replace(im, im.convert(plain[mode]))
    if max_side is not None and max(im.size) >= 2 * max_side:
        im = _replace(im, im.reduce(max(im.size) // max_side))
    if im.mode == "CMYK":
        im = _replace(im, im.convert("RGB"))
    if im.mode in ("RGBA", "LA"):
        # Composite on white: paste through the alpha channel onto a white page.
        alpha = im.getchannel("A")
        page = Image.new("RGB", im.size, (255, 255, 255))
        page.paste(im.convert("RGBA") if im.mode == "LA" else im, (0, 0), alpha)
        alpha.close()
        im = _replace(im, page)
    return _to_array(im)
