"""Image loading: every file mode, every kind of broken input."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from banknote_guard.data.imageio import (
    IMAGE_EXTENSIONS,
    decode_image_bytes,
    iter_image_files,
    load_image,
    read_image_size,
    save_image,
)
from banknote_guard.errors import ImageLoadError, ParameterError


def _rgb(w: int = 40, h: int = 30) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([xx * 255 // w, yy * 255 // h, (xx + yy) % 256], axis=2).astype(np.uint8)


def _check_rgb(a: np.ndarray, shape: tuple[int, int]) -> None:
    assert a.dtype == np.uint8
    assert a.shape == (*shape, 3)
    assert a.flags.c_contiguous


def test_extensions() -> None:
    assert IMAGE_EXTENSIONS == {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


@pytest.mark.parametrize("ext", [".png", ".bmp", ".tif", ".webp", ".jpg"])
def test_round_trip_formats(tmp_path: Path, ext: str) -> None:
    img = _rgb()
    p = tmp_path / f"a{ext}"
    save_image(p, img, quality=95)
    out = load_image(p)
    _check_rgb(out, (30, 40))
    tol = 0 if ext in (".png", ".bmp", ".tif") else 20
    assert np.abs(out.astype(int) - img.astype(int)).mean() <= max(tol, 0.0) + (4 if tol else 0)
    if tol == 0:
        assert np.array_equal(out, img)


def test_grayscale_palette_and_alpha(tmp_path: Path) -> None:
    gray = (np.arange(600).reshape(20, 30) % 256).astype(np.uint8)
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    out = load_image(tmp_path / "g.png")
    _check_rgb(out, (20, 30))
    assert np.array_equal(out[:, :, 0], gray) and np.array_equal(out[:, :, 2], gray)

    pal = Image.fromarray(_rgb()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.save(tmp_path / "p.png")
    out = load_image(tmp_path / "p.png")
    assert np.array_equal(out, np.asarray(pal.convert("RGB")))

    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:5, :, 3] = 255  # opaque red top half, fully transparent bottom half
    Image.fromarray(rgba, "RGBA").save(tmp_path / "t.png")
    out = load_image(tmp_path / "t.png")
    assert tuple(out[0, 0]) == (200, 0, 0)
    assert tuple(out[9, 9]) == (255, 255, 255)  # composited on white, not black

    la = Image.fromarray(np.stack([np.full((4, 4), 0, np.uint8), np.full((4, 4), 128, np.uint8)], 2), "LA")
    la.save(tmp_path / "la.png")
    assert 120 <= load_image(tmp_path / "la.png")[0, 0, 0] <= 135


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16_bit_is_scaled_not_clipped(tmp_path: Path, ext: str) -> None:
    a = np.linspace(0, 65535, 64 * 8).astype(np.uint16).reshape(8, 64)
    Image.fromarray(a).save(tmp_path / f"x{ext}")
    out = load_image(tmp_path / f"x{ext}")
    _check_rgb(out, (8, 64))
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255
    expected = np.round(a.astype(np.float64) * 255 / 65535)
    assert np.abs(out[:, :, 0] - expected).max() <= 1  # clipping would give 255 above 255
    assert len(np.unique(out)) > 200


def test_float_tiff(tmp_path: Path) -> None:
    a = np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10)
    Image.fromarray(a, "F").save(tmp_path / "f.tif")
    out = load_image(tmp_path / "f.tif")
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255


def test_cmyk_jpeg(tmp_path: Path) -> None:
    Image.fromarray(_rgb()).convert("CMYK").save(tmp_path / "c.jpg", quality=95)
    out = load_image(tmp_path / "c.jpg")
    _check_rgb(out, (30, 40))
    assert np.abs(out.astype(int) - _rgb().astype(int)).mean() < 25


def test_exif_orientation(tmp_path: Path) -> None:
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :20] = (255, 0, 0)  # left half red, right half blue
    img[:, 20:] = (0, 0, 255)
    im = Image.fromarray(img)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    im.save(tmp_path / "o.jpg", exif=exif.tobytes(), quality=95)
    out = load_image(tmp_path / "o.jpg")
    assert out.shape == (40, 20, 3)
    assert out[5, 10, 0] > 200 and out[5, 10, 2] < 60  # the red (left) half is now on top
    assert out[35, 10, 2] > 200
    assert read_image_size(tmp_path / "o.jpg") == (20, 40)


def test_non_ascii_path(tmp_path: Path) -> None:
    folder = tmp_path / "Scans_ÄÖ"
    p = folder / "Geldschein_ü_€_円.png"
    save_image(p, _rgb())
    assert np.array_equal(load_image(p), _rgb())
    assert list(iter_image_files(tmp_path)) == [p]


def test_max_side_downscales(tmp_path: Path) -> None:
    big = np.repeat(np.repeat(_rgb(), 20, axis=0), 20, axis=1)  # 800 x 600
    save_image(tmp_path / "b.jpg", big)
    save_image(tmp_path / "b.png", big)
    for name in ("b.jpg", "b.png"):
        out = load_image(tmp_path / name, max_side=100)
        assert max(out.shape[:2]) <= 100 and out.shape[1] > out.shape[0]
        assert out.flags.c_contiguous
    assert load_image(tmp_path / "b.png", max_side=5000).shape == (600, 800, 3)


def _reason(path: Path, **kw: object) -> str:
    with pytest.raises(ImageLoadError) as info:
        load_image(path, **kw)  # type: ignore[arg-type]
    assert info.value.path == path
    return info.value.reason


def test_missing_directory_empty_text(tmp_path: Path) -> None:
    assert "not found" in _reason(tmp_path / "nope.jpg")
    (tmp_path / "x.jpg").mkdir()
    assert "directory" in _reason(tmp_path / "x.jpg")
    (tmp_path / "empty.png").write_bytes(b"")
    assert "empty" in _reason(tmp_path / "empty.png")
    (tmp_path / "notes.jpg").write_text("this is not a picture\n")
    assert "not an image" in _reason(tmp_path / "notes.jpg")


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_truncated_files_raise(tmp_path: Path, ext: str) -> None:
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, size=(120, 160, 3), dtype=np.uint8)
    full = tmp_path / f"full{ext}"
    save_image(full, noisy)
    data = full.read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: len(data) // 2])
    reason = _reason(cut)
    assert "truncated" in reason or "corrupt" in reason
    with pytest.raises(ImageLoadError):
        decode_image_bytes(data[: len(data) // 2], "clip")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def test_decompression_bomb_refused_from_header(tmp_path: Path) -> None:
    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 100))
    data += _png_chunk(b"IEND", b"")
    p = tmp_path / "bomb.png"
    p.write_bytes(data)
    assert p.stat().st_size < 200
    reason = _reason(p)
    assert "too large" in reason and "2,500,000,000" in reason
    # A smaller limit applies from the header too.
    save_image(tmp_path / "ok.png", _rgb())
    reason = _reason(tmp_path / "ok.png", max_pixels=100)
    assert "too large" in reason and "1,200" in reason and "100" in reason


def test_permission_denied(tmp_path: Path) -> None:
    p = tmp_path / "secret.png"
    save_image(p, _rgb())
    os.chmod(p, 0)
    try:
        try:
            p.open("rb").close()
        except PermissionError:
            assert "permission denied" in _reason(p)
        else:
            pytest.skip("running as root: file permissions do not stop reading")
    finally:
        os.chmod(p, 0o644)


def test_decode_bytes() -> None:
    buf = io.BytesIO()
    Image.fromarray(_rgb()).save(buf, format="PNG")
    assert np.array_equal(decode_image_bytes(buf.getvalue()), _rgb())
    with pytest.raises(ImageLoadError, match="empty"):
        decode_image_bytes(b"", "clipboard")
    with pytest.raises(ImageLoadError, match="not an image"):
        decode_image_bytes(b"hello world" * 10, "clipboard")


def test_save_image_errors(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="gif|.png"):
        save_image(tmp_path / "a.gif", _rgb())
    with pytest.raises(ParameterError):
        save_image(tmp_path / "a.png", _rgb().astype(np.float32))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_iter_image_files_skips_hidden(tmp_path: Path) -> None:
    for rel in ["b.png", "a.JPG", "sub/c.webp", ".hidden/d.png", "._e.png", ".DS_Store", "Thumbs.db", "f.txt"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    names = [p.relative_to(tmp_path).as_posix() for p in iter_image_files(tmp_path)]
    assert names == ["a.JPG", "b.png", "sub/c.webp"]
    assert [p.name for p in iter_image_files(tmp_path, recursive=False)] == ["a.JPG", "b.png"]
