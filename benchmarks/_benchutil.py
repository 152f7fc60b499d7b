"""Helpers shared by the benchmark scripts: the machine header every figure carries, timing statistics.

Every benchmark prints :func:`machine_header` before its figures, so a figure pasted anywhere says
which machine, date, command and load produced it.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import shlex
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else the platform's description)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def load_average() -> str:
    """The 1/5/15-minute load averages, or "n/a"."""
    try:
        return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except (AttributeError, OSError):  # pragma: no cover
        return "n/a"


#: Environment variable through which a benchmark tells a child process the command a person typed.
COMMAND_ENV = "BANKNOTE_GUARD_BENCH_COMMAND"


def command_line() -> str:
    """The command that started this benchmark, as typed (relative to the repository root when possible)."""
    if os.environ.get(COMMAND_ENV):
        return os.environ[COMMAND_ENV]
    script = Path(sys.argv[0])
    try:
        script = script.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        pass
    return " ".join(shlex.quote(a) for a in ["python", str(script), *sys.argv[1:]])


def machine_header(title: str, torch_threads: int | None = None) -> str:
    """A few lines naming the benchmark, machine, cores, torch threads, date, load and command.

    Given ``torch_threads``, torch is not imported for the header (a measurement without torch, such as
    onnxruntime verification, stays without it); onnxruntime's version is named when it is loaded.
    """
    torch = sys.modules.get("torch")
    if torch is None and torch_threads is None:
        import torch
    threads = torch.get_num_threads() if torch_threads is None else torch_threads
    engines = f"torch {torch.__version__}, torch threads {threads}" if torch is not None else f"torch not loaded, threads {threads}"
    if "onnxruntime" in sys.modules:
        engines += f", onnxruntime {sys.modules['onnxruntime'].__version__}"
    lines = [
        f"== {title} ==",
        f"machine: {cpu_model()}, {usable_cores()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {engines}",
        f"date:    {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}   load average (1/5/15 min): {load_average()}",
        f"command: {command_line()}",
    ]
    return "\n".join(lines)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (getrusage; Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mib() -> float:
    """Resident memory of this process now, in MiB (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)
    except (OSError, ValueError, IndexError):  # pragma: no cover
        return 0.0


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    """The q-th percentile of durations given in seconds, in milliseconds."""
    return float(np.percentile(np.asarray(seconds, dtype=np.float64), q) * 1000.0) if len(seconds) else math.nan


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of its normal-approximation 95% confidence interval."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return math.nan, math.nan
    half = 1.96 * arr.std(ddof=1) / math.sqrt(arr.size) if arr.size > 1 else math.nan
    return float(arr.mean()), float(half)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (NaN values are ignored; std is NaN for fewer than two)."""
    arr = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=np.float64)
    if arr.size == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else math.nan
