"""A corpus of hostile image files, generated at test time (nothing is committed).

:func:`build_corpus` writes well over 1,000 small files into a folder: truncated JPEG/PNG/TIFF/WebP/BMP
files cut at random lengths, files with random bytes (some behind a real magic number), zero-byte
files, decompression bombs by header (a huge declared size in a tiny file), randomly corrupted
files, odd colour modes (1-bit, P with and without transparency, LA, I;16, I, F, CMYK, RGBA), 1x1,
1x10000 and 10000x1 pictures, and odd file names (spaces, unicode, a leading '-', '='). Every file
must give an RGB ``uint8`` array or an ImageLoadError, never another exception.

It is a plain module so that any test can use it. The tests run with ``--import-mode=importlib``,
so load it by path::

    import importlib.util, pathlib
    spec = importlib.util.spec_from_file_location("fuzz_corpus", pathlib.Path("tests/data/fuzz_corpus.py"))
    fuzz_corpus = importlib.util.module_from_spec(spec); spec.loader.exec_module(fuzz_corpus)
    cases = fuzz_corpus.build_corpus(tmp_path / "hostile")

(``tests/data/conftest.py`` does this and offers the ``fuzz_corpus`` fixture.)
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

#: Extension -> Pillow format of the formats the corpus covers.
FORMATS: dict[str, str] = {".jpg": "JPEG", ".png": "PNG", ".tif": "TIFF", ".webp": "WEBP", ".bmp": "BMP"}

# Names that are awkward on a command line or in a CSV file (each gets a valid picture).
ODD_NAMES = (
    "with space.png",
    " leading space.jpg",
    "trailing space .png",
    "-leading-dash.png",
    "--double-dash.jpg",
    "-.png",
    "=equals.png",
    "a=b.jpg",
    "key=value=x.webp",
    "Geldschein ü €.png",
    "紙幣_円.jpg",
    "emoji_💶.png",
    "quote'single.png",
    'quote"double.jpg',
    "semi;colon,comma.png",
    "UPPER.JPG",
    "dots...png",
    "x" * 200 + ".png",
)


@dataclass(frozen=True)
class FuzzCase:
    """One file of the corpus.

    Attributes:
        path: where it was written.
        kind: what it is ("truncated", "random", "bomb", ...).
        must_fail: True when no reader may turn it into pixels (empty, random, bombs over the limit).
    """

    path: Path
    kind: str
    must_fail: bool = False


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png(width: int, height: int, bit_depth: int = 8, colour: int = 2, idat: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat or zlib.compress(b"\0" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _bombs() -> list[tuple[str, bytes]]:
    """Tiny files that declare huge pictures (all above the default 80-megapixel limit)."""
    out = [
        ("bomb_50000x50000.png", _png(50_000, 50_000)),
        ("bomb_1x2147483647.png", _png(1, 2_147_483_647)),
        ("bomb_2147483647x2147483647.png", _png(2_147_483_647, 2_147_483_647)),
        ("bomb_16bit_20000x20000.png", _png(20_000, 20_000, 16, 6)),
        ("bomb_9000x9000.png", _png(9_000, 9_000, 8, 0)),
    ]
    # JPEG: SOI, a baseline SOF0 declaring 65000 x 65000 x 3, then end of image.
    sof = struct.pack(">BBHBHHB", 0xFF, 0xC0, 17, 8, 65_000, 65_000, 3)
    sof += b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    out.append(("bomb_65000x65000.jpg", b"\xff\xd8" + sof + b"\xff\xd9"))
    # TIFF: little-endian header and one IFD with ImageWidth/ImageLength of 100000.
    entries = [
        (256, 4, 1, 100_000),  # ImageWidth (LONG)
        (257, 4, 1, 100_000),  # ImageLength
        (258, 3, 1, 8),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # Photometric: black is zero
        (273, 4, 1, 8),  # StripOffsets
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, 100_000),  # RowsPerStrip
        (279, 4, 1, 16),  # StripByteCounts
    ]
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        ifd += struct.pack("<HHI", tag, typ, count) + (
            struct.pack("<HH", value, 0) if typ == 3 else struct.pack("<I", value)
        )
    ifd += struct.pack("<I", 0)
    out.append(("bomb_100000x100000.tif", b"II*\x00" + struct.pack("<I", 8) + ifd + b"\0" * 16))
    # BMP: BITMAPINFOHEADER declaring 50000 x 50000 x 24 bits with almost no pixel data.
    info = struct.pack("<IiiHHIIiiII", 40, 50_000, 50_000, 1, 24, 0, 0, 2835, 2835, 0, 0)
    out.append(("bomb_50000x50000.bmp", b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 54) + info + b"\0" * 16))
    # Negative height (top-down) and a zero width.
    info = struct.pack("<IiiHHIIiiII", 40, 0, -5, 1, 24, 0, 0, 2835, 2835, 0, 0)
    out.append(("zero_width.bmp", b"BM" + struct.pack("<IHHI", 14 + 40 + 16, 0, 0, 54) + info + b"\0" * 16))
    # WebP VP8X: canvas 16384 x 16384 (268 megapixels).
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" + (16383).to_bytes(3, "little") * 2
    out.append(("bomb_16384x16384.webp", b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x))
    return out


def _mode_images(rng: np.random.Generator) -> list[tuple[str, Image.Image]]:
    """Small pictures in every awkward mode (name stem, image)."""
    h, w = 12, 20
    rgb = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    base = Image.fromarray(rgb)
    pal = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    pal_t = pal.copy()
    pal_t.info["transparency"] = 0
    return [
        ("rgb", base),
        ("rgba", base.convert("RGBA")),
        ("l", base.convert("L")),
        ("bit1", base.convert("1")),
        ("p", pal),
        ("p_transparent", pal_t),
        ("la", Image.merge("LA", (base.convert("L"), Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8))))),
        ("i16", Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))),
        ("i32", Image.fromarray(rng.integers(-5, 70000, (h, w), dtype=np.int32), "I")),
        ("f", Image.fromarray(rng.normal(0.5, 2.0, (h, w)).astype(np.float32), "F")),
        ("f_nan", Image.fromarray(np.full((h, w), np.nan, np.float32), "F")),
        ("cmyk", base.convert("CMYK")),
    ]


def _encodable(stem: str, im: Image.Image, fmt: str) -> bytes | None:
    kw: dict[str, object] = {}
    if stem == "p_transparent" and fmt in ("PNG",):
        kw["transparency"] = 0
    try:
        return _encode(im, fmt, **kw)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # this format cannot hold this mode


def build_corpus(folder: str | Path, *, seed: int = 20240601, include_special: bool = True) -> list[FuzzCase]:
    """Write the hostile files into ``folder`` (created) and return them, sorted by path.

    Args:
        folder: where to write (should be empty).
        seed: the random seed; the same seed writes the same files.
        include_special: also make a pipe (FIFO) named like an image where the system has them (it
            is not listed in the result: it must be skipped by folder walks, and refused when given).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    cases: list[FuzzCase] = []

    def write(name: str, data: bytes, kind: str, must_fail: bool = False) -> None:
        p = folder / name
        p.write_bytes(data)
        cases.append(FuzzCase(p, kind, must_fail))

    # Valid pictures to cut and corrupt: every mode in every format that can hold it.
    valid: list[tuple[str, str, bytes]] = []
    for stem, im in _mode_images(rng):
        for ext, fmt in FORMATS.items():
            data = _encodable(stem, im, fmt)
            if data is not None:
                valid.append((f"{stem}{ext}", ext, data))
    noisy = Image.fromarray(rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8))
    for ext, fmt in FORMATS.items():
        valid.append((f"noisy{ext}", ext, _encode(noisy, fmt)))
        valid.append((f"noisy_progressive{ext}", ext, _encode(noisy, fmt, progressive=True) if fmt == "JPEG" else _encode(noisy, fmt)))
    exif_im = Image.fromarray(rng.integers(0, 256, size=(10, 16, 3), dtype=np.uint8))
    exif = exif_im.getexif()
    exif[0x0112] = 6
    valid.append(("exif_rotated.jpg", ".jpg", _encode(exif_im, "JPEG", exif=exif.tobytes())))
    exif[0x0112] = 99  # not an orientation
    valid.append(("exif_bad_orientation.jpg", ".jpg", _encode(exif_im, "JPEG", exif=exif.tobytes())))
    valid.append(("exif_garbage.jpg", ".jpg", _encode(exif_im, "JPEG", exif=b"Exif\0\0" + bytes(rng.integers(0, 256, 40, dtype=np.uint8)))))

    for name, _ext, data in valid:
        write(f"valid_{name}", data, "valid")

    # Truncated at random lengths (never the whole file).
    for i in range(560):
        name, ext, data = valid[i % len(valid)]
        cut = int(rng.integers(1, max(2, len(data))))
        write(f"truncated_{i:03d}_{cut}_{name}", data[:cut], "truncated")

    # Corrupted: random bytes overwritten, inserted or removed.
    for i in range(280):
        name, ext, data = valid[int(rng.integers(0, len(valid)))]
        buf = bytearray(data)
        for _ in range(int(rng.integers(1, 6))):
            pos = int(rng.integers(0, len(buf)))
            action = int(rng.integers(0, 3))
            if action == 0:
                buf[pos] = int(rng.integers(0, 256))
            elif action == 1:
                buf[pos:pos] = bytes(rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8))
            elif len(buf) > 8:
                del buf[pos : pos + int(rng.integers(1, 9))]
        write(f"corrupt_{i:03d}_{name}", bytes(buf), "corrupt")

    # Random bytes, some behind a real magic number.
    magics = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"II*\x00", b"MM\x00*", b"BM", b"RIFF\x00\x01\x00\x00WEBPVP8 "]
    exts = list(FORMATS) + [".jpeg", ".tiff", ".PNG"]
    for i in range(150):
        magic = magics[i % len(magics)]
        body = bytes(rng.integers(0, 256, int(rng.integers(0, 3000)), dtype=np.uint8))
        must_fail = not magic  # random bytes without a magic number are never a picture
        write(f"random_{i:03d}{exts[i % len(exts)]}", magic + body, "random", must_fail)
    write("text_pretending.jpg", b"this is not a picture\n" * 5, "random", True)
    write("html_pretending.png", b"<html><body>404 Not Found</body></html>", "random", True)

    # Empty files.
    for ext in exts:
        write(f"empty{ext}", b"", "empty", True)

    # Decompression bombs by header.
    for name, data in _bombs():
        write(name, data, "bomb", must_fail=name.startswith("bomb_"))

    # Extreme shapes.
    for (w, h) in ((1, 1), (1, 10_000), (10_000, 1), (2, 3)):
        arr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        for ext, fmt in FORMATS.items():
            data = _encodable("shape", Image.fromarray(arr), fmt)
            if data is not None:
                write(f"shape_{w}x{h}{ext}", data, "shape")
    # Valid but large: a deflate bomb just under the limit, cheap to write.
    write("large_4000x3000_zeros.png", _png(4000, 3000, 8, 0, zlib.compress(b"\0" * (4001 * 3000), 9)), "large")

    # Odd names, each a valid picture.
    small = _encode(Image.fromarray(rng.integers(0, 256, size=(8, 12, 3), dtype=np.uint8)), "PNG")
    small_jpg = _encode(Image.fromarray(rng.integers(0, 256, size=(8, 12, 3), dtype=np.uint8)), "JPEG")
    small_webp = _encode(Image.fromarray(rng.integers(0, 256, size=(8, 12, 3), dtype=np.uint8)), "WEBP")
    by_ext = {".png": small, ".jpg": small_jpg, ".JPG": small_jpg, ".webp": small_webp}
    for name in ODD_NAMES:
        ext = os.path.splitext(name)[1]
        try:
            write(f"{name}", by_ext.get(ext, small), "odd_name")
        except OSError:
            pass  # this file system does not allow the name

    if include_special and hasattr(os, "mkfifo"):
        try:
            os.mkfifo(folder / "pipe_named_like_a_picture.jpg")
        except OSError:
            pass
    return sorted(cases, key=lambda c: str(c.path))
