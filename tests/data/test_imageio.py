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
    DEFAULT_MAX_SIDE,
    IMAGE_EXTENSIONS,
    MIN_NOTE_SIDE,
    decode_image_bytes,
    is_image_file,
    iter_image_files,
    load_image,
    load_image_with_size,
    read_image_bytes,
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


# --------------------------------------------------------------------------------------------------
# non-regular files: refused when given, skipped with a reason in folders, never waited on


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")


@needs_fifo
@pytest.mark.timeout(20)
def test_fifo_named_like_an_image_is_refused_not_waited_for(tmp_path: Path) -> None:
    fifo = tmp_path / "note.jpg"
    os.mkfifo(fifo)
    for read in (load_image, read_image_size, read_image_bytes):
        with pytest.raises(ImageLoadError, match="not a regular file") as info:
            read(fifo)  # type: ignore[operator]
        assert "pipe" in info.value.reason and info.value.path == fifo
    assert not is_image_file(fifo)
    assert is_image_file(tmp_path / "not_there_yet.jpg")  # judged by its name

    save_image(tmp_path / "sub" / "good.png", _rgb())
    os.mkfifo(tmp_path / "sub" / "scan.png")
    skipped: list[tuple[Path, str]] = []
    found = list(iter_image_files(tmp_path, on_skip=lambda p, why: skipped.append((p, why))))
    assert found == [tmp_path / "sub" / "good.png"]
    assert sorted(p for p, _ in skipped) == [tmp_path / "note.jpg", tmp_path / "sub" / "scan.png"]
    assert all("not a regular file (a pipe)" in why for _, why in skipped)
    assert list(iter_image_files(tmp_path / "sub", recursive=False, on_skip=lambda p, why: None)) == [
        tmp_path / "sub" / "good.png"
    ]


@pytest.mark.timeout(20)
def test_socket_device_and_folder_are_not_image_files(tmp_path: Path) -> None:
    import socket

    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets on this system")
    sock_path = tmp_path / "s.png"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(ImageLoadError, match=r"not a regular file \(a socket\)"):
            load_image(sock_path)
        assert not is_image_file(sock_path)
    if os.path.exists("/dev/zero"):
        with pytest.raises(ImageLoadError, match=r"not a regular file \(a device\)"):
            load_image("/dev/zero")
    (tmp_path / "folder.jpg").mkdir()
    assert not is_image_file(tmp_path / "folder.jpg")
    with pytest.raises(ImageLoadError, match="folder"):
        read_image_size(tmp_path / "folder.jpg")


def test_broken_links_and_links_to_folders_are_skipped_with_a_reason(tmp_path: Path) -> None:
    save_image(tmp_path / "a.png", _rgb())
    try:
        (tmp_path / "gone.png").symlink_to(tmp_path / "missing.png")
        (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    except (OSError, NotImplementedError):
        pytest.skip("cannot make links here")
    skipped: dict[str, str] = {}
    assert list(iter_image_files(tmp_path, on_skip=lambda p, why: skipped.update({p.name: why}))) == [
        tmp_path / "a.png"
    ]
    assert "does not exist" in skipped["gone.png"] and "not followed" in skipped["loop"]
    assert list(iter_image_files(tmp_path / "nowhere", on_skip=lambda p, why: skipped.update({"top": why}))) == []
    assert "does not exist" in skipped["top"]


# --------------------------------------------------------------------------------------------------
# memory


_PEAK_SCRIPT = r"""
import resource, sys
from banknote_guard.data.imageio import load_image
arg = sys.argv[2]
out = load_image(sys.argv[1], **({} if arg == "default" else {"max_side": None if arg == "none" else int(arg)}))
assert out.dtype.name == "uint8" and out.ndim == 3 and out.shape[2] == 3
try:  # this process's own high-water mark (ru_maxrss would include what the parent had before exec)
    with open("/proc/self/status") as fh:
        peak = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
print(out.shape[0], out.shape[1], peak)
"""

_BIG_PNG_SCRIPT = r"""
import sys
from PIL import Image, ImageDraw
im = Image.new("RGBA", (10000, 7999), (30, 120, 200, 255))
draw = ImageDraw.Draw(im)
for i in range(0, 10000, 500):
    draw.rectangle((i, int(i * 0.7), i + 300, int(i * 0.7) + 400), fill=(200, 30, 30, 128))
draw.ellipse((2000, 2000, 6000, 5000), fill=(0, 0, 0, 0))
im.save(sys.argv[1], compress_level=1)
"""


@pytest.mark.timeout(300)
@pytest.mark.skipif(os.name == "nt", reason="peak memory is measured with the resource module")
def test_large_rgba_png_decodes_within_memory_limit(tmp_path: Path) -> None:
    """A 10000 x 7999 RGBA PNG (just under the pixel limit, small on disk) peaked at 4.6 GB; now < 1.5 GB."""
    import subprocess
    import sys

    big = tmp_path / "big.png"
    subprocess.run([sys.executable, "-c", _BIG_PNG_SCRIPT, str(big)], check=True, timeout=240)
    assert big.stat().st_size < 20_000_000
    limit = 1.5e9
    for arg, shape in (("default", (3277, 4096)), ("1600", (1280, 1600)), ("none", (7999, 10000))):
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_SCRIPT, str(big), arg], check=True, capture_output=True, text=True, timeout=240
        )
        h, w, peak = (int(v) for v in done.stdout.split())
        assert peak < limit, f"max_side={arg}: peak {peak / 1e9:.2f} GB"
        assert (h, w) == shape


def test_large_images_are_reduced_correctly(tmp_path: Path) -> None:
    """Reduction happens before colour conversion; the result matches converting first."""
    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, size=(30, 50, 4), dtype=np.uint8)
    small[:, :25, 3] = 0  # left half fully transparent: must come out white
    small[:, 25:, 3] = 255
    rgba = np.repeat(np.repeat(small, 40, axis=0), 40, axis=1)  # 2000 x 1200
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png", max_side=500)
    assert out.shape == (300, 500, 3)
    assert (out[:, :240] == 255).all()
    expected = small[:, 25:, :3].repeat(10, axis=0).repeat(10, axis=1)
    assert np.abs(out[:, 260:].astype(int) - expected[:, 10:].astype(int)).mean() < 3

    gray16 = np.tile(np.linspace(0, 65535, 3000).astype(np.uint16), (1000, 1))
    Image.fromarray(gray16).save(tmp_path / "g16.png")  # 3000 x 1000
    out = load_image(tmp_path / "g16.png", max_side=600)
    assert out.shape == (200, 600, 3) and out[0, 0, 0] <= 1 and out[0, -1, 0] >= 253
    pal = Image.fromarray(rgba[..., :3]).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    pal.save(tmp_path / "p.png")
    assert load_image(tmp_path / "p.png", max_side=500).shape == (300, 500, 3)


def test_default_max_side_and_full_size_on_request(tmp_path: Path) -> None:
    wide = np.zeros((20, 5000, 3), np.uint8)
    wide[:, 2500:] = 255
    save_image(tmp_path / "wide.png", wide)
    assert load_image(tmp_path / "wide.png").shape == (16, DEFAULT_MAX_SIDE, 3)
    assert load_image(tmp_path / "wide.png", max_side=None).shape == (20, 5000, 3)
    arr, size = load_image_with_size(tmp_path / "wide.png")
    assert size == (5000, 20) and arr.shape[1] == DEFAULT_MAX_SIDE


def test_concurrent_decodes_share_a_memory_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from banknote_guard.data import imageio

    for i in range(4):
        save_image(tmp_path / f"{i}.png", _rgb(200, 100))
    running = 0
    most = 0
    lock = threading.Lock()
    real = imageio._to_pixels

    def slow(*args: object) -> np.ndarray:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        try:
            return real(*args)  # type: ignore[arg-type]
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(imageio, "_to_pixels", slow)

    def read_all() -> None:
        threads = [threading.Thread(target=load_image, args=(tmp_path / f"{i}.png",)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # Room for one decode of this size at a time: the four threads take turns.
    monkeypatch.setattr(imageio, "DECODE_MEMORY_BUDGET", 200 * 100 * imageio._DECODE_BYTES_PER_PIXEL + 1)
    read_all()
    assert most == 1
    assert imageio._BUDGET.in_use == 0 and imageio._BUDGET.running == 0
    # A budget smaller than one decode still lets each run, one at a time.
    monkeypatch.setattr(imageio, "DECODE_MEMORY_BUDGET", 10)
    most = 0
    read_all()
    assert most == 1
    # Room for all: they overlap.
    monkeypatch.setattr(imageio, "DECODE_MEMORY_BUDGET", 1 << 30)
    most = 0
    read_all()
    assert most > 1


# --------------------------------------------------------------------------------------------------
# messages for operators


def test_reasons_are_plain_and_said_once(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    save_image(tmp_path / "full.jpg", rng.integers(0, 256, size=(120, 160, 3), dtype=np.uint8))
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    reason = _reason(tmp_path / "cut.jpg")
    assert reason.count("truncated") == 1 and "bytes not processed" not in reason
    (tmp_path / "junk.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(rng.integers(0, 256, 300, dtype=np.uint8)))
    reasons = [reason, _reason(tmp_path / "junk.png")]
    for r in reasons:  # no text of Python's or Pillow's
        assert not any(w in r for w in ("Error", "broken data stream", "not processed", "IHDR", "errno", "chunk"))


def test_tiny_pictures(tmp_path: Path) -> None:
    """A 1 x 1 picture loads; where a note must be visible, min_side refuses it in plain words."""
    save_image(tmp_path / "dot.png", np.zeros((1, 1, 3), np.uint8))
    assert load_image(tmp_path / "dot.png").shape == (1, 1, 3)
    reason = _reason(tmp_path / "dot.png", min_side=MIN_NOTE_SIDE)
    assert reason.startswith("the picture is only 1 x 1 pixels, too small to show a banknote")
    save_image(tmp_path / "line.png", np.zeros((10_000, 1, 3), np.uint8))
    assert load_image(tmp_path / "line.png").shape == (DEFAULT_MAX_SIDE, 1, 3)
    assert "only 1 x 10000 pixels" in _reason(tmp_path / "line.png", min_side=MIN_NOTE_SIDE)
    with pytest.raises(ParameterError):
        load_image(tmp_path / "dot.png", min_side=0)
