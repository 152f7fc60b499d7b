"""Safe file writing: atomic replacement, and an exclusive lock for read-modify-write.

* :func:`atomic_path` (and :func:`atomic_write_bytes`, :func:`atomic_write_text`): a reader sees the
  old file or the new one, never half of one. Every failure on the way is one
  :class:`~banknote_guard.errors.OutputError` (:class:`~banknote_guard.errors.DiskFullError` for a full
  disk) that names the file and the reason, and nothing is overwritten.
* :func:`locked`: an exclusive lock on a file shared by several programs, for read-modify-write
  (load a model, add to it, save it) so that two programs do not lose each other's changes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
from pathlib import Path
from typing import Iterator

from banknote_guard.errors import DiskFullError, FileBusyError, OutputError

#: A temporary file left beside a target by an interrupted save is removed by the next save to the
#: same target once it is at least this old (seconds since its last change) and the program that
#: made it is no longer running on this machine. See :func:`atomic_path`.
STALE_TEMP_AGE_S: float = 600.0

#: How long :func:`locked` waits for another program to release the lock, by default (seconds).
DEFAULT_LOCK_TIMEOUT_S: float = 30.0

_ENOSPC = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}

# errno -> the reason in words an operator can act on.
_REASONS: dict[int, str] = {
    errno.ENOSPC: "the disk is full",
    errno.EACCES: "permission denied (the folder is read-only or belongs to another user)",
    errno.EPERM: "permission denied (the folder is read-only or belongs to another user)",
    errno.EROFS: "the disk is read-only",
    errno.EISDIR: "there is a folder of that name",
    errno.ENOTDIR: "part of the path is a file, not a folder",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.ENOENT: "the folder does not exist (it may have been removed)",
    errno.EINVAL: "the file name is not allowed on this disk",
    errno.EEXIST: "part of the path is a file, not a folder",  # only mkdir meets it
    errno.EIO: "the disk reported an error while writing",
}
if hasattr(errno, "EDQUOT"):
    _REASONS[errno.EDQUOT] = "the disk quota is used up"


def output_error(path: str | Path, exc: OSError, action: str = "save") -> OutputError:
    """The :class:`OutputError` (or :class:`DiskFullError`) for an OSError met while writing ``path``.

    The message reads "Could not <action> '<path>': <reason>. Nothing was overwritten."
    """
    reason = _REASONS.get(exc.errno or -1) or (exc.strerror or str(exc) or type(exc).__name__).rstrip(".")
    cls = DiskFullError if exc.errno in _ENOSPC else OutputError
    return cls(f"Could not {action} {str(path)!r}: {reason}. Nothing was overwritten.", path=path, reason=reason)


def _refuse(path: Path, reason: str) -> OutputError:
    return OutputError(f"Could not save {str(path)!r}: {reason}. Nothing was overwritten.", path=path, reason=reason)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    The temporary file is ``.<name>.<pid>.<random>.tmp`` in the target's folder. On any error it is
    removed and ``path`` is left as it was. The new file keeps the permissions of the file it
    replaces (a new file gets those a plain ``open()`` would give it).

    Temporary files of the same target left behind by a save that was killed (power cut, kill -9)
    are removed at the start of the next save to that target, but only those that are safe to
    remove: last changed at least :data:`STALE_TEMP_AGE_S` seconds ago *and* made by a program that
    is no longer running on this machine (or by an older version that did not record its process
    id). A save in progress in another program is therefore never disturbed: its process is alive,
    and its file is younger than the limit while it writes.

    Raises:
        OutputError: the file cannot be written there (read-only folder, no permission, a folder of
            that name, part of the path is a file, ...); the message names the file and the reason.
        DiskFullError: the disk is full or the quota is used up (a subclass of OutputError).
    """
    path = Path(path)
    if os.path.isdir(path):
        raise _refuse(path, "there is a folder of that name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(path, exc) from None
    _remove_stale_temps(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise output_error(path, exc) from None
    tmp = Path(tmp_name)
    try:
        try:
            os.close(fd)
            # mkstemp makes the file readable by its owner only; give it the permissions it would
            # have had (those of the file it replaces, or those of a plain open()).
            os.chmod(tmp, _target_mode(path))
        except OSError:
            pass  # permissions are a nicety; the content is what matters
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if os.path.isdir(path):  # a folder appeared there while writing
            raise _refuse(path, "there is a folder of that name")
        os.replace(tmp, path)
    except OSError as exc:
        _unlink_quietly(tmp)
        if exc.errno is None:  # e.g. Pillow's "cannot write mode RGBA as JPEG": not a disk problem
            raise
        raise output_error(path, exc) from exc
    except BaseException:
        _unlink_quietly(tmp)
        raise
    _fsync_folder(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    atomic_write_bytes(path, text.encode(encoding))


# --------------------------------------------------------------------------------------------------
# lock


@contextlib.contextmanager
def locked(
    path: str | Path, *, timeout: float = DEFAULT_LOCK_TIMEOUT_S, what: str = "the file"
) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for a read-modify-write; other programs wait their turn.

    The lock is taken on a small sidecar file ``<path>.lock`` (created when missing and left in
    place afterwards: removing it would let two programs lock two different files). It is an
    operating-system lock (``fcntl.flock`` on Linux and macOS, ``msvcrt.locking`` on Windows), so it
    is released when its holder ends, however it ends. It works between programs and between
    threads of one program, but is not re-entrant: do not take it again while holding it.

    Example::

        with locked(model_path, what="the model"):
            model = load(model_path)
            model.add(...)
            save(model, model_path)        # atomically

    Args:
        path: the file to be changed (it need not exist yet).
        timeout: seconds to wait for another program to finish, then give up.
        what: how to name the file in the error message ("the model", "the settings").

    Raises:
        FileBusyError: another program held the lock for longer than ``timeout`` seconds.
        OutputError: the lock file cannot be created (read-only folder, no permission, ...).
    """
    path = Path(path)
    lock_path = path.with_name(path.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise output_error(path, exc, "lock (to change it)") from None
    try:
        deadline = time.monotonic() + max(0.0, float(timeout))
        pause = 0.005
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise FileBusyError(
                    f"{what[:1].upper()}{what[1:]} {str(path)!r} is being changed by another program; "
                    f"try again when it has finished (waited {timeout:g} s)."
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------------
# internals


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask would briefly change it for every thread)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _target_mode(path: Path) -> int:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_UMASK


def _unlink_quietly(p: Path) -> None:
    with contextlib.suppress(OSError):
        p.unlink()


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a failure here loses nothing, so it is ignored."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine; True when it cannot be told (the safe answer)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # pragma: no cover - Windows only
        try:
            import ctypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
            if not handle:
                return ctypes.GetLastError() != 87  # type: ignore[attr-defined]  # ERROR_INVALID_PARAMETER: no such process
            try:
                code = ctypes.c_ulong()
                if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                    return True
                return code.value == 259  # STILL_ACTIVE
            finally:
                kernel32.CloseHandle(handle)
        except Exception:  # noqa: BLE001 - unknown: keep the file
            return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def _remove_stale_temps(path: Path) -> None:
    """Remove temporary files of earlier, interrupted saves to ``path`` (see :func:`atomic_path`)."""
    own = re.compile(r"\." + re.escape(path.name) + r"\.(?:(\d+)\.)?[a-z0-9_]{8}\.tmp")
    prefix = f".{path.name}."
    now = time.time()
    try:
        with os.scandir(path.parent) as it:
            names = [e.name for e in it if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        m = own.fullmatch(name)
        if m is None:
            continue
        tmp = path.parent / name
        try:
            st = os.lstat(tmp)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < STALE_TEMP_AGE_S:
            continue
        if m.group(1) is not None and _pid_alive(int(m.group(1))):
            continue
        _unlink_quietly(tmp)


__all__ = [
    "DEFAULT_LOCK_TIMEOUT_S",
    "STALE_TEMP_AGE_S",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_text",
    "locked",
    "output_error",
]
