"""Document scanners through SANE's command-line front end, ``scanimage``.

:func:`list_scanners` runs ``scanimage -L``; :class:`Scanner` scans one page (a flatbed) or every
sheet in the document feeder (``batch=True``) at a chosen resolution and colour mode, with a time
limit, and hands out each page as soon as it is complete. The options a device does not offer are
left out (a resolution is rounded to the nearest one it offers, "color" picks its colour mode by
name), so one call works with any SANE backend. :class:`ScannerSource` is the same scanner behind the
:class:`~banknote_guard.capture.frames.FrameSource` interface, one frame per page.

:func:`verify_page` finds every note on a scanned page (several notes on the glass are verified one by
one) and verifies each.

Faults become :class:`~banknote_guard.capture.errors.ScannerError` subclasses: scanimage missing
(:data:`INSTALL_HINT`), no such scanner, the scanner busy, the scan taking longer than its time
limit, an empty document feeder. Windows scanners (WIA/TWAIN) would be another FrameSource beside
this one.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

import numpy as np

from banknote_guard.capture.errors import (
    ScannerBusyError,
    ScannerError,
    ScannerNotFoundError,
    ScannerTimeoutError,
    ScannerUnavailableError,
)
from banknote_guard.capture.frames import Frame, FrameSource
from banknote_guard.errors import CancelledError, parameter_error
from banknote_guard.progress import CancelToken

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.verify.result import VerificationResult
    from banknote_guard.verify.verifier import Verifier

SCANIMAGE = "scanimage"
#: What to tell an operator on a computer without SANE.
INSTALL_HINT = (
    "Scanning needs SANE's scanimage, which is not installed. On Debian or Ubuntu: sudo apt install sane-utils "
    "(and the driver package of your scanner); on other systems install SANE from your package manager. "
    "Meanwhile, save scans into a folder and watch that folder, or open them on the Verify page."
)
#: Colour modes a caller can ask for, and the words scanners use for them.
MODES: dict[str, tuple[str, ...]] = {"color": ("color", "colour", "rgb"), "gray": ("gray", "grey")}
DEFAULT_RESOLUTION = 300
DEFAULT_TIMEOUT_S = 120.0
#: How often a running scan looks at its pages, its time limit and its cancel token (seconds).
POLL_S = 0.1

_DEVICE_LINE = re.compile(r"^device `(?P<name>[^']+)' is an? (?P<desc>.+)$")
_OPTION_LINE = re.compile(
    r"^\s+(?P<flag>--[\w-]+|-[a-z])(?:\[=\((?P<bool>[^)]*)\)\])?\s*(?P<spec>.*?)\s*\[(?P<value>[^\]]*)\]\s*$"
)


def scanimage_path() -> str | None:
    """Where ``scanimage`` is, or None when SANE is not installed."""
    return shutil.which(SCANIMAGE)


def _require_scanimage() -> str:
    path = scanimage_path()
    if path is None:
        raise ScannerUnavailableError(INSTALL_HINT)
    return path


@dataclass(frozen=True)
class ScannerInfo:
    """A scanner SANE found: its device name (for ``--device``) and a description."""

    name: str
    description: str


@dataclass(frozen=True)
class ScannerOption:
    """One option a scanner offers (from ``scanimage -A``).

    Attributes:
        flag: "--resolution", "--mode", ...
        choices: the values it takes, for a list ("Gray", "Color"); empty for a range.
        low, high: the range, for numbers ("1..1200").
        current: its current value, as printed ("inactive" when it cannot be set now).
    """

    flag: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    current: str = ""


def parse_options(text: str) -> dict[str, ScannerOption]:
    """The options in the output of ``scanimage -A``, by flag."""
    out: dict[str, ScannerOption] = {}
    for line in text.splitlines():
        m = _OPTION_LINE.match(line)
        if not m:
            continue
        spec = re.sub(r"\s*\(in steps of [^)]*\)", "", m.group("spec") or m.group("bool") or "").strip()
        spec = re.sub(r"(dpi|mm|%|us|pel|bit)$", "", spec)
        rng = re.fullmatch(r"(-?[\d.]+)\s*\.\.\s*(-?[\d.]+)\S*", spec)
        if rng:
            out[m.group("flag")] = ScannerOption(m.group("flag"), (), float(rng.group(1)), float(rng.group(2)),
                                                 m.group("value"))
        else:
            choices = tuple(c.strip() for c in spec.split("|") if c.strip())
            out[m.group("flag")] = ScannerOption(m.group("flag"), choices, None, None, m.group("value"))
    return out


def list_scanners(timeout_s: float = 30.0) -> list[ScannerInfo]:
    """The scanners SANE finds (``scanimage -L``); an empty list when none is connected.

    Raises:
        ScannerUnavailableError: scanimage is not installed.
        ScannerTimeoutError: looking took longer than ``timeout_s`` (a network scanner not answering).
    """
    exe = _require_scanimage()
    try:
        done = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=timeout_s, env=_env(),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ScannerTimeoutError(f"Looking for scanners took longer than {timeout_s:g} s.") from None
    found = []
    for line in done.stdout.splitlines():
        m = _DEVICE_LINE.match(line.strip())
        if m:
            found.append(ScannerInfo(m.group("name"), m.group("desc")))
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("LC_ALL", "C")  # scanimage's messages in English, as the error mapping expects
    return env


# --------------------------------------------------------------------------------------------------
# PNM pages


def read_pnm(data: bytes) -> np.ndarray:
    """A PNM picture (what scanimage writes: P4 line art, P5 grey, P6 colour, 8 or 16 bits) as uint8 RGB."""
    tokens: list[bytes] = []
    pos = 0
    n = len(data)
    while len(tokens) < (3 if data[:2] == b"P4" else 4):
        while pos < n and data[pos : pos + 1].isspace():
            pos += 1
        if pos < n and data[pos : pos + 1] == b"#":
            while pos < n and data[pos : pos + 1] not in (b"\n", b"\r"):
                pos += 1
            continue
        start = pos
        while pos < n and not data[pos : pos + 1].isspace():
            pos += 1
        if start == pos:
            raise ScannerError("The scanner sent a picture that could not be read (incomplete header).")
        tokens.append(data[start:pos])
    pos += 1  # the single whitespace byte after the header
    magic = tokens[0]
    try:
        width, height = int(tokens[1]), int(tokens[2])
        maxval = int(tokens[3]) if magic != b"P4" else 1
    except ValueError:
        raise ScannerError("The scanner sent a picture that could not be read (bad header).") from None
    if magic not in (b"P4", b"P5", b"P6") or width < 1 or height < 1 or not 1 <= maxval <= 65535:
        raise ScannerError(f"The scanner sent a picture in a format this program does not read ({magic!r}).")
    body = data[pos:]
    if magic == b"P4":
        row = (width + 7) // 8
        rows = min(height, len(body) // row)
        bits = np.unpackbits(np.frombuffer(body[: rows * row], np.uint8).reshape(rows, row), axis=1)[:, :width]
        grey = ((1 - bits) * 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    channels = 3 if magic == b"P6" else 1
    depth = 2 if maxval > 255 else 1
    per_row = width * channels * depth
    rows = min(height, len(body) // per_row)  # a scan stopped early keeps the rows it has
    if rows < 1:
        raise ScannerError("The scanner sent an empty picture.")
    dtype = np.dtype(">u2") if depth == 2 else np.uint8
    arr = np.frombuffer(body[: rows * per_row], dtype).reshape(rows, width, channels).astype(np.float32)
    arr = np.clip(arr * (255.0 / maxval) + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(arr, 3, axis=2) if channels == 1 else arr)


def write_pnm(path: str | Path, rgb: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 RGB picture as a binary PPM (the ``pnm`` backend's input)."""
    arr = np.ascontiguousarray(np.asarray(rgb, np.uint8)[:, :, :3])
    h, w = arr.shape[:2]
    Path(path).write_bytes(b"P6\n%d %d\n255\n" % (w, h) + arr.tobytes())
    return Path(path)


# --------------------------------------------------------------------------------------------------
# scanning


class Scanner:
    """One SANE scanner with its settings.

    Args:
        device: SANE device name (``scanimage -L`` lists them, e.g. "epson2:libusb:001:004"); None
            uses SANE's default scanner.
        resolution: dots per inch (rounded to the nearest the scanner offers).
        mode: "color" or "gray".
        batch: scan every sheet in the document feeder, not one page.
        timeout_s: the most seconds one scan (a whole batch) may take.
        options: further backend options, flag name -> value (e.g. {"source": "ADF Duplex"}).
    """

    def __init__(
        self,
        device: str | None = None,
        *,
        resolution: int = DEFAULT_RESOLUTION,
        mode: str = "color",
        batch: bool = False,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        options: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(resolution, bool) or not isinstance(resolution, int) or not 25 <= resolution <= 4800:
            raise parameter_error("resolution", "Scanner", "a whole number of dots per inch in [25, 4800]", resolution)
        if mode not in MODES:
            raise parameter_error("mode", "Scanner", f"one of {sorted(MODES)}", mode)
        if not timeout_s > 0:
            raise parameter_error("timeout_s", "Scanner", "a number of seconds > 0", timeout_s)
        self.device = device or None
        self.resolution = resolution
        self.mode = mode
        self.batch = batch
        self.timeout_s = float(timeout_s)
        self.options = dict(options or {})
        self._offered: dict[str, ScannerOption] | None = None

    @property
    def name(self) -> str:
        return f"scanner {self.device}" if self.device else "scanner"

    def offered_options(self) -> dict[str, ScannerOption]:
        """The options the scanner offers (``scanimage -A``, asked once)."""
        if self._offered is None:
            exe = _require_scanimage()
            args = [exe, *self._device_args(), *self._backend_args(), "-A"]
            limit = min(60.0, self.timeout_s)
            try:
                done = subprocess.run(args, capture_output=True, text=True, timeout=limit, env=_env(),
                                      stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise ScannerTimeoutError(f"The {self.name} did not answer within {limit:g} s.") from None
            if done.returncode != 0:
                raise self._error(done.stderr)
            self._offered = parse_options(done.stdout)
        return self._offered

    def _device_args(self) -> list[str]:
        return ["-d", self.device] if self.device else []

    def _backend_args(self) -> list[str]:
        args: list[str] = []
        for key, value in self.options.items():
            flag = key.lstrip("-")
            args += [f"-{flag}", str(value)] if len(flag) == 1 else [f"--{flag}={value}"]
        return args

    def scan_args(self) -> list[str]:
        """The scanimage arguments for the settings (without the program and the output)."""
        offered = self.offered_options()
        args = [*self._device_args(), *self._backend_args()]
        res = offered.get("--resolution")
        if res is not None and res.current != "inactive" and "resolution" not in self.options:
            args.append(f"--resolution={_nearest_resolution(res, self.resolution)}")
        mode = offered.get("--mode")
        if mode is not None and mode.choices and "mode" not in self.options:
            choice = next((c for c in mode.choices if any(w in c.lower() for w in MODES[self.mode])), None)
            if choice is not None:
                args.append(f"--mode={choice}")
        source = offered.get("--source")
        if self.batch and source is not None and source.choices and "source" not in self.options:
            feeder = next((c for c in source.choices if any(w in c.lower() for w in ("feeder", "adf"))), None)
            if feeder is not None:
                args.append(f"--source={feeder}")
        return args

    def pages(self, cancel: CancelToken | None = None) -> Iterator[np.ndarray]:
        """Scan and hand out each page (uint8 RGB) as soon as it is complete.

        Raises:
            ScannerUnavailableError, ScannerNotFoundError, ScannerBusyError, ScannerTimeoutError,
            ScannerError: see the module docstring; pages already handed out stay valid.
            CancelledError: ``cancel`` was set (the scan is stopped).
        """
        exe = _require_scanimage()
        args = self.scan_args()
        with tempfile.TemporaryDirectory(prefix="banknote_guard-scan-") as tmp:
            pattern = os.path.join(tmp, "page%04d.pnm")
            cmd = [exe, *args, "--format=pnm", f"--batch={pattern}"]
            if not self.batch:
                cmd.append("--batch-count=1")
            err_path = Path(tmp) / "stderr.txt"
            with open(err_path, "wb") as err:
                proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                                        env=_env(), **_new_group())
            deadline = time.monotonic() + self.timeout_s
            handed = 0
            try:
                while True:
                    finished = proc.poll() is not None
                    ready = _complete_pages(Path(tmp), finished)
                    for page in ready[handed:]:
                        handed += 1
                        yield read_pnm(page.read_bytes())
                        page.unlink(missing_ok=True)
                    if finished:
                        break
                    if cancel is not None and cancel.cancelled:
                        raise CancelledError("Scan cancelled.")
                    if time.monotonic() > deadline:
                        raise ScannerTimeoutError(
                            f"The {self.name} did not finish within {self.timeout_s:g} s; it was stopped. "
                            "Check that it is switched on and connected, then scan again."
                        )
                    time.sleep(POLL_S)
            finally:
                if proc.poll() is None:
                    _kill(proc)
            stderr = err_path.read_text(encoding="utf-8", errors="replace")
            if proc.returncode != 0 or handed == 0:
                if handed and _feeder_empty(stderr):
                    return
                raise self._error(stderr, handed)

    def _error(self, stderr: str, pages: int = 0) -> ScannerError:
        """The error for scanimage's complaint ``stderr``."""
        text = " ".join(stderr.split())
        low = text.lower()
        if "open of device" in low and ("invalid argument" in low or "no such" in low or "not found" in low):
            return ScannerNotFoundError(
                f"No scanner named {self.device!r} is connected." if self.device else
                "No scanner is connected (SANE found none). Check the cable and that the scanner is switched on."
            )
        if "no scanners were identified" in low or ("open of device" in low and "failed" in low and not self.device):
            return ScannerNotFoundError("No scanner is connected (SANE found none). Check the cable and that the "
                                        "scanner is switched on.")
        if "busy" in low:
            return ScannerBusyError(f"The {self.name} is busy: another program is using it, or it is still "
                                    "finishing the last scan. Wait a moment and scan again.")
        if _feeder_empty(stderr):
            return ScannerError(f"The document feeder of the {self.name} is empty: put the notes in and scan again.")
        if "jammed" in low:
            return ScannerError(f"Paper jam in the {self.name}: clear it and scan again"
                                + (f" ({pages} page(s) were scanned before it)." if pages else "."))
        if "cover" in low and "open" in low:
            return ScannerError(f"The cover of the {self.name} is open: close it and scan again.")
        detail = text.replace("scanimage: ", "")[:300] or "no message"
        return ScannerError(f"The {self.name} could not scan: {detail}")


def _nearest_resolution(option: ScannerOption, wanted: int) -> int:
    if option.low is not None and option.high is not None:
        return int(min(max(wanted, option.low), option.high))
    numbers = [int(float(c)) for c in option.choices if re.fullmatch(r"\d+(\.\d+)?", c)]
    return min(numbers, key=lambda n: (abs(n - wanted), -n)) if numbers else wanted


def _feeder_empty(stderr: str) -> bool:
    low = stderr.lower()
    return "out of documents" in low or "no documents" in low or "no more documents" in low


def _complete_pages(folder: Path, finished: bool) -> list[Path]:
    """The pages scanimage has finished: all of them once it has ended, else all but the newest
    (the one it is still writing)."""
    pages = sorted(folder.glob("page*.pnm"))
    if finished:
        return [p for p in pages if p.stat().st_size > 0]
    return pages[:-1]


def _new_group() -> dict[str, object]:
    """Start scanimage in its own process group, so stopping it stops its helpers too."""
    if sys.platform.startswith("win"):
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    return {"start_new_session": True}


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        if sys.platform.startswith("win"):
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=2)
    except (ProcessLookupError, subprocess.TimeoutExpired, OSError):
        try:
            if not sys.platform.startswith("win"):
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (ProcessLookupError, OSError):
            pass
        proc.wait(timeout=5)


class ScannerSource(FrameSource):
    """A :class:`Scanner` as a frame source: each scanned page is one frame (see the module docstring)."""

    kind = "scanner"

    def __init__(self, scanner: Scanner, cancel: CancelToken | None = None) -> None:
        super().__init__()
        self.scanner = scanner
        self.name = scanner.name
        self.cancel = cancel

    def open(self) -> None:
        self._stop.clear()
        self.scanner.offered_options()  # fails early, with the reason, when the scanner is missing

    def frames(self) -> Iterator[Frame]:
        for index, page in enumerate(self.scanner.pages(self.cancel)):
            yield Frame(page, index, time.monotonic(), f"{self.name} page {index + 1}")
            if self.stopped:
                return

    def close(self) -> None:
        self.stop()


@dataclass
class ScannedPage:
    """One scanned page and what was found on it.

    Attributes:
        image: the page, (H, W, 3) uint8 RGB.
        index: its number in the scan, from 0.
        notes: the outline of each note found on it ((4, 2) corners in page pixels), largest first.
        results: one verdict per note (one "retake: no note" verdict for a page without a note).
    """

    image: np.ndarray
    index: int
    notes: list[np.ndarray]
    results: list["VerificationResult"]


def verify_page(verifier: "Verifier", page: np.ndarray, name: str, index: int = 0) -> ScannedPage:
    """Verify every note on a scanned page, each on its own (named "<name> note <k>" when there are
    several); a page without a note gives one "retake: no note" result."""
    from banknote_guard.verify.quality import crop_note, find_notes

    notes = find_notes(page)
    if len(notes) <= 1:
        return ScannedPage(page, index, notes, [verifier.verify_image(page, name, expect_outline=True)])
    results = []
    for k, corners in enumerate(notes):
        others = [q for j, q in enumerate(notes) if j != k]
        crop = crop_note(page, corners, others)
        results.append(verifier.verify_image(crop, f"{name} note {k + 1}", expect_outline=True))
    return ScannedPage(page, index, notes, results)


def scan_and_verify(
    verifier: "Verifier", scanner: Scanner, *, cancel: CancelToken | None = None
) -> Iterator[ScannedPage]:
    """Scan (one page, or the document feeder's sheets) and verify the notes on each page as it arrives."""
    for index, page in enumerate(scanner.pages(cancel)):
        yield verify_page(verifier, page, f"{scanner.name} page {index + 1}", index)
