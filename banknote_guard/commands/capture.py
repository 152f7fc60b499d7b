"""``banknote-guard capture MODEL [--camera N | --video FILE]``: verify notes from a webcam as they come.

The camera is watched continuously; when a note lies still, whole and sharp in view it is captured
and verified at once, and the next note is taken once it has left (``--manual``: only when Enter is
pressed). Each verdict is printed as it arrives; "RETAKE" says why the picture could not be judged.
Ctrl+C stops (the pictures already taken are still verified and written). A video file plays through
every frame and the command ends with it.

This module also holds what the ``capture``, ``scan`` and ``watch`` commands share: the verdict line,
the history recorder and the ``--json`` document written after every verdict (so nothing verified is
lost when the program is stopped).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from banknote_guard.commands.exit_codes import EXIT_CODES_HELP, EXIT_FATAL, EXIT_OUTPUT_FAILED
from banknote_guard.commands.history import add_recording_arguments, finish_recording, history_location
from banknote_guard.commands.verify import exit_code, results_document, summarize
from banknote_guard.errors import BanknoteGuardError, CancelledError, OutputError, ParameterError
from banknote_guard.progress import CancelToken

if TYPE_CHECKING:  # pragma: no cover
    from banknote_guard.api import HistoryRecorder, ModelBundle, VerificationResult

#: Verdict words in the closing line, in order.
TALLY_KEYS = ("genuine", "suspect", "uncertain", "unknown", "retake", "error")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``capture`` sub-command."""
    p = add_command(
        subparsers, "capture", "verify notes from a webcam (or a video file) as they are put under it",
        "Watch a camera and verify each note put under it: a note that lies still, whole and sharp in view is "
        "captured automatically, once; take it away for the next one. Press Enter to capture at once. Ctrl+C "
        "stops; the pictures already taken are verified and written first.",
    )
    p.add_argument("model", help="model file (.bgm), or a station folder")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--camera", default=None, metavar="N|URL",
                        help="camera number (0 = the first camera, the default) or a stream URL")
    source.add_argument("--video", type=Path, default=None, metavar="FILE",
                        help="read a video file instead of a camera (every frame, as fast as it can)")
    p.add_argument("--realtime", action="store_true",
                   help="with --video: play it at its own speed, dropping frames as a live camera does")
    p.add_argument("--manual", action="store_true", help="capture only when Enter is pressed")
    p.add_argument("--list-cameras", action="store_true", help="list the cameras that work and exit")
    add_output_arguments(p)
    p.set_defaults(func=run)


def add_command(subparsers: argparse._SubParsersAction, name: str, help: str,  # type: ignore[type-arg]
                description: str) -> argparse.ArgumentParser:
    """A capture command's parser, its exit codes listed under its options."""
    return subparsers.add_parser(name, help=help, description=description, epilog=EXIT_CODES_HELP,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    """``--json``, ``--threshold-scale``, ``--quiet`` and the history options of the capture commands."""
    p.add_argument("--json", dest="json_out", default=None, metavar="OUT.json",
                   help='write {"model": {...}, "summary": {...}, "results": [...]} to this file, updated after '
                   "every verdict")
    p.add_argument("--threshold-scale", type=float, default=1.0, metavar="X",
                   help="multiply every threshold of the model by X, 0.5 to 2.0 (default 1.0)")
    p.add_argument("--quiet", "-q", action="store_true", help="print only the verdicts")
    add_recording_arguments(p)


# --- what the capture commands share --------------------------------------------------------------------


def verdict_line(r: "VerificationResult") -> str:
    """One line per verdict: name, verdict, denomination, score / threshold, and why for the rest."""
    if not r.ok:
        return f"{r.path}: ERROR {r.error}"
    word = "genuine" if r.verdict == "genuine" else str(r.verdict).upper()
    score = (f"  {r.counterfeit_score:.2f} / {r.threshold:.2f}"
             if r.counterfeit_score is not None and r.threshold is not None and r.verdict != "retake" else "")
    why = f"  ({'; '.join(r.reasons)})" if r.reasons else ""
    denom = f"  {r.denomination}" if r.denomination and r.verdict != "retake" else ""
    return f"{r.path}: {word}{denom}{score}{why}"


def tally(results: Sequence["VerificationResult"]) -> str:
    """The closing line: "5 note(s): 3 genuine, 1 suspect, 1 retake"."""
    s = summarize(results)
    parts = [f"{s[k]} {k}" for k in TALLY_KEYS if s.get(k)]
    return f"{s['total']} note(s): " + (", ".join(parts) if parts else "none")


class Outputs:
    """The ``--json`` document and the history, kept up to date as verdicts arrive (thread-safe)."""

    def __init__(self, args: argparse.Namespace, bundle: "ModelBundle", source: str) -> None:
        self.args = args
        self.bundle = bundle
        self.results: list[VerificationResult] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self.recorder = open_recorder(args, bundle, source)

    def add(self, result: "VerificationResult", rgb: Any = None, *, echo: bool = True) -> None:
        """Keep a verdict: print it, record it in the history, rewrite the ``--json`` file."""
        with self._lock:
            self.results.append(result)
            if echo:
                print(verdict_line(result), flush=True)
            if self.recorder is not None:
                self.recorder.record(result, rgb=rgb)
            self.write()

    def write(self) -> None:
        if not self.args.json_out:
            return
        from banknote_guard.fileio import atomic_write_text

        try:
            text = json.dumps(results_document(self.bundle, self.results), indent=2, allow_nan=False)
            atomic_write_text(self.args.json_out, text)
        except OutputError as exc:
            if str(exc) not in self.failures:
                self.failures.append(str(exc))

    def finish(self, *, error: BaseException | None = None, interrupted: bool = False) -> int:
        """Print the tally and any failure, close the history; the exit code."""
        with self._lock:
            self.write()
            if not self.args.quiet:
                print(tally(self.results), flush=True)
            failures = list(self.failures)
            if self.recorder is not None:
                failures += finish_recording(types.SimpleNamespace(recorder=self.recorder), self.args.quiet)
        for line in failures:
            print(f"banknote-guard: error: {line}", file=sys.stderr)
        if error is not None:
            print(f"banknote-guard: error: {error}", file=sys.stderr)
            return EXIT_FATAL
        if failures:
            return EXIT_OUTPUT_FAILED
        code = exit_code(self.results)
        return code if self.results or not interrupted else 0


def open_recorder(args: argparse.Namespace, bundle: "ModelBundle", source: str) -> "HistoryRecorder | None":
    """The history recorder of a capture command (None with ``--no-history``); a history that cannot
    be opened stops the command before anything is captured."""
    from banknote_guard.api import HistoryError, HistoryRecorder, open_history

    if args.no_history:
        return None
    try:
        history = open_history(history_location(args.history))
    except HistoryError as exc:
        raise HistoryError(f"{exc} (Add --no-history to capture without recording.)") from None
    return HistoryRecorder(history, station=args.station, operator=args.operator, model=bundle, source=source,
                           batch=args.batch_id)


def check_json_path(args: argparse.Namespace, *protected: str | Path | None) -> None:
    """Refuse a ``--json`` file that is a folder, the model or one of the inputs."""
    if not args.json_out:
        return
    out = Path(args.json_out).resolve()
    if out.is_dir():
        raise ParameterError(f"--json {args.json_out!r} is a folder; give a file name such as results.json.")
    for p in (args.model, *protected):
        if p is not None and Path(p).resolve() == out:
            raise ParameterError(f"--json {args.json_out!r} would overwrite {str(p)!r}; choose another file name.")


def prepare(args: argparse.Namespace) -> tuple["ModelBundle", Any]:
    """Open the model and make its verifier with the command's threshold scale."""
    from banknote_guard.api import Verifier, check_threshold_scale, open_model

    scale = check_threshold_scale(args.threshold_scale, f"{args.command} --threshold-scale")
    bundle = open_model(args.model)
    return bundle, Verifier(bundle, threshold_scale=scale)


def run_until_stopped(outputs: Outputs, work: Callable[[], Any], stop: Callable[[], None], message: str,
                      before: Callable[[], None] | None = None) -> tuple[int, bool]:
    """Run ``work`` until it ends or Ctrl+C calls ``stop``; a source fault (camera unplugged, scanner
    busy, folder gone) is printed after what was verified. Returns the exit code and whether Ctrl+C
    was pressed."""
    error: BaseException | None = None
    with stop_on_interrupt(stop, message) as ctrl_c:
        if before is not None:
            before()
        try:
            work()
        except CancelledError:
            pass
        except BanknoteGuardError as exc:
            error = exc
    interrupted = ctrl_c.interrupted.is_set()
    return outputs.finish(error=error, interrupted=interrupted), interrupted


class stop_on_interrupt:  # noqa: N801 - used as a context manager, named as a statement
    """While active, Ctrl+C calls ``stop`` once (the command finishes what it started and writes it);
    a second Ctrl+C aborts."""

    def __init__(self, stop: Callable[[], None], message: str) -> None:
        self.stop = stop
        self.message = message
        self.interrupted = threading.Event()
        self._previous: Any = None
        self._active = threading.current_thread() is threading.main_thread()

    def __enter__(self) -> "stop_on_interrupt":
        if self._active:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.interrupted.is_set():
            signal.signal(signal.SIGINT, self._previous)
            raise KeyboardInterrupt
        self.interrupted.set()
        print(f"\n{self.message} (Ctrl+C again to abort)", file=sys.stderr, flush=True)
        self.stop()


# --- capture ---------------------------------------------------------------------------------------------


def print_devices(lines: Sequence[str], none_found: str) -> int:
    """Print one line per device found (``--list``), or what to check when there is none."""
    print("\n".join(lines) if lines else none_found)
    return 0


def listen_for_enter(session: Any) -> None:
    """Capture when Enter is pressed (a reader thread on a terminal's input; nothing without a terminal)."""

    def read() -> None:
        for _ in sys.stdin:
            session.request_capture()

    if sys.stdin is not None and sys.stdin.isatty():
        threading.Thread(target=read, name="capture-enter", daemon=True).start()


def run(args: argparse.Namespace) -> int:
    """Capture and verify until the video ends or Ctrl+C."""
    from banknote_guard.api import CameraSource, CaptureSession, list_cameras, quiet_video_logs

    quiet_video_logs()
    if args.list_cameras:
        return print_devices([f"{cam.index}: {cam.name}" for cam in list_cameras()],
                             "No camera found (none connected, or each is in use by another program).")
    if args.realtime and args.video is None:
        raise ParameterError("--realtime plays a video file at its own speed; give --video FILE with it.")
    device = str(args.video) if args.video is not None else (args.camera if args.camera is not None else 0)
    check_json_path(args, args.video)
    bundle, verifier = prepare(args)
    source = CameraSource(device, realtime=args.realtime)
    outputs = Outputs(args, bundle, "camera")
    last_hint: list[str] = [""]

    def on_view(view: Any) -> None:
        hint = view.decision.hint
        if hint != last_hint[0] and not args.quiet and view.decision.state not in ("captured", "waiting"):
            print(f"  {hint}", file=sys.stderr, flush=True)
        last_hint[0] = hint

    session = CaptureSession(verifier, source, auto=not args.manual, on_view=on_view,
                             on_result=lambda c: outputs.add(c.result, c.frame.image))
    if not args.quiet:
        what = f"the video {source.name}" if args.video is not None else source.name
        print(f"Capturing from {what}; " + ("press Enter to capture, " if args.manual else "")
              + "Ctrl+C stops.", file=sys.stderr)
    code, _ = run_until_stopped(outputs, session.run, session.stop,
                                "Stopping; the pictures already taken are being verified.",
                                before=lambda: listen_for_enter(session))
    return code
