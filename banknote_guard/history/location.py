"""Where the history lives: the user's data folder (overridable), a given SQLite file, or a server URL.

The default history is ``history.sqlite`` in the user's data folder: ``$BANKNOTE_GUARD_DATA_DIR`` when
set, else ``%LOCALAPPDATA%\\banknote_guard`` on Windows, ``~/Library/Application Support/banknote_guard``
on macOS and ``$XDG_DATA_HOME/banknote_guard`` (``~/.local/share/banknote_guard``) elsewhere. The
command line and the desktop application use the same file, so both write one history.

A SQLite history must be on a local disk: SQLite's write-ahead log needs shared memory between the
programs that open the file, which network file systems (NFS, SMB/CIFS, sshfs, ...) do not provide;
:func:`network_filesystem` recognises them so that such a file is refused with a clear message. Several
desks share one history through a PostgreSQL server instead (``postgresql://...``).
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

DATA_DIR_ENV = "BANKNOTE_GUARD_DATA_DIR"
HISTORY_FILE = "history.sqlite"
SERVER_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")
#: File-system types on which SQLite's WAL mode is unsafe (Linux /proc/mounts names).
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smbfs", "smb3", "ncpfs", "afs", "9p", "fuse.sshfs", "sshfs", "davfs", "fuse.davfs2",
    "glusterfs", "fuse.glusterfs", "ceph", "fuse.ceph", "lustre", "gpfs", "fuse.s3fs", "fuse.rclone", "vboxsf",
})


def user_data_dir() -> Path:
    """The per-user data folder of banknote_guard (not created here)."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "banknote_guard"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "banknote_guard"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "banknote_guard"


def default_history_path() -> Path:
    """The history file used when none is named."""
    return user_data_dir() / HISTORY_FILE


def is_server_url(location: object) -> bool:
    """Whether ``location`` names a PostgreSQL server rather than a file."""
    return isinstance(location, str) and location.strip().lower().startswith(SERVER_SCHEMES)


def redact(url: str) -> str:
    """A server URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"


def default_station() -> str:
    """This computer's name, the station recorded when none is set."""
    try:
        return socket.gethostname() or "station"
    except OSError:  # pragma: no cover - hostname lookup never fails on the platforms we run on
        return "station"


def default_operator() -> str:
    """The logged-in user's name, the operator recorded when none is set."""
    import getpass

    try:
        return getpass.getuser() or "operator"
    except Exception:  # noqa: BLE001 - no login name (containers, services): a placeholder, never a failure
        return "operator"


def network_filesystem(path: str | Path) -> str | None:
    """The network file-system type ``path`` is on ("nfs", "cifs", "UNC share", ...), or None when local."""
    p = os.path.abspath(path)
    if sys.platform == "win32":
        if p.startswith("\\\\"):
            return "UNC share"
        try:
            import ctypes

            drive = os.path.splitdrive(p)[0] + "\\"
            if ctypes.windll.kernel32.GetDriveTypeW(drive) == 4:  # type: ignore[attr-defined]  # DRIVE_REMOTE
                return "network drive"
        except Exception:  # noqa: BLE001 - no answer: assume local
            return None
        return None
    try:
        with open("/proc/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split()[:3] for line in fh]
    except OSError:
        return None
    best, kind = "", None
    for entry in mounts:
        if len(entry) < 3:
            continue
        mount = entry[1].replace("\\040", " ")
        if (p == mount or p.startswith(mount.rstrip("/") + "/")) and len(mount) >= len(best):
            best, kind = mount, entry[2]
    return kind if kind in NETWORK_FILESYSTEMS else None
