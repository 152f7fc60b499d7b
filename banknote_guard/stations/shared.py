"""The shared folder models are published to (a network share every station can read).

Layout::

    SHARED/
      manifest.json                 the published versions (see below)
      manifest.json.lock            the lock publishers take (fileio.locked)
      models/v0003-1a2b3c4d5e6f.bgm one file per version: v<version>-<model identity>.bgm

``manifest.json`` is ``{"format": "banknote_guard-published-models", "format_version": 1, "models":
[entry, ...]}``; an entry (:class:`PublishedModel`) holds the version (1, 2, 3, ... in publishing
order), the file, the model's SHA-256 (its content digest, the same hash ``verify --json`` and the
history show for the model that judged a note), the SHA-256 and size of the file's bytes, who
published it and when, a note, a few facts about the model, and, once withdrawn, when and why.

Publishing is a read-modify-write under an exclusive lock on the manifest, so two workstations
publishing at the same moment get two versions and lose nothing. The model file is written (atomically)
before the manifest names it, and the manifest is replaced atomically, so a station never sees a
version whose file is missing or half written. A model is checked (it opens, its integrity hash
matches) before it is published; publishing the same model again returns its existing version.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import socket
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from banknote_guard.errors import BanknoteGuardError, ModelFileError
from banknote_guard.fileio import atomic_write_bytes, atomic_write_text, locked
from banknote_guard.verify.bundle import now_iso

MANIFEST_NAME = "manifest.json"
MODELS_DIR = "models"
MANIFEST_FORMAT = "banknote_guard-published-models"
MANIFEST_VERSION = 1
#: A manifest larger than this is not ours (thousands of versions fit in a few MB).
MAX_MANIFEST_BYTES = 32 * 2**20
#: How long a publisher waits for another one to finish (seconds).
LOCK_TIMEOUT_S = 60.0


class StationError(BanknoteGuardError):
    """The shared model folder or a station's folder cannot be used (unreachable, damaged, no such
    version, a hash that does not match); the message says which and what to do."""


@dataclass
class PublishedModel:
    """One published version (an entry of the manifest).

    Attributes:
        version: 1, 2, 3, ... in publishing order.
        file: the model file, relative to the shared folder.
        sha256: the model's content digest (``ModelBundle.sha256``); ``sha256[:12]`` is its identity.
        file_sha256, size: SHA-256 and length of the file's bytes, checked after every copy.
        published, published_by: UTC time (ISO 8601) and ``user@host`` of the publisher.
        note: what the publisher wrote about it.
        model: facts about the model (created, app version, backbone, denominations, metrics).
        withdrawn: None, or ``{"time", "by", "reason"}``: stations no longer install it and move off it.
    """

    version: int
    file: str
    sha256: str
    file_sha256: str
    size: int
    published: str
    published_by: str
    note: str = ""
    model: dict[str, Any] = field(default_factory=dict)
    withdrawn: dict[str, Any] | None = None

    @property
    def identity(self) -> str:
        return self.sha256[:12]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, where: str) -> "PublishedModel":
        try:
            entry = cls(
                version=int(data["version"]), file=str(data["file"]), sha256=str(data["sha256"]),
                file_sha256=str(data["file_sha256"]), size=int(data["size"]), published=str(data["published"]),
                published_by=str(data.get("published_by", "")), note=str(data.get("note", "")),
                model=dict(data.get("model") or {}), withdrawn=data.get("withdrawn"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise StationError(f"{where} is damaged: a published version lacks {exc} or has a bad value.") from None
        if entry.version < 1 or Path(entry.file).is_absolute() or ".." in Path(entry.file).parts:
            raise StationError(f"{where} is damaged: version {entry.version} names the file {entry.file!r}.")
        if len(entry.sha256) != 64 or len(entry.file_sha256) != 64:
            raise StationError(f"{where} is damaged: version {entry.version} has no valid SHA-256.")
        return entry


def who() -> str:
    """``user@host`` of this process (for the manifest and the station log)."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some service environments
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def read_model_file(path: Path) -> bytes:
    """The bytes of a model file (a regular file, at most the largest size a model may have)."""
    from banknote_guard.verify.bundle import MAX_MODEL_BYTES

    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(f"{str(path)!r} is not a model file (it is a folder or a special file).")
        if info.st_size > MAX_MODEL_BYTES:
            raise ModelFileError(f"{str(path)!r} is far larger than any banknote_guard model; it was not read.")
        with open(path, "rb") as fh:
            return fh.read(MAX_MODEL_BYTES + 1)
    except FileNotFoundError:
        raise ModelFileError(f"Model file {str(path)!r} does not exist.") from None
    except OSError as exc:
        raise ModelFileError(f"Cannot read model file {str(path)!r}: {exc.strerror or exc}.") from None


def checked_model(data: bytes, name: str) -> Any:
    """The :class:`~banknote_guard.verify.bundle.ModelBundle` in ``data``, its integrity hash checked
    (ModelFileError for a damaged, foreign or altered file)."""
    from banknote_guard.verify.bundle import ModelBundle

    return ModelBundle.from_bytes(data, name=name)


def model_facts(bundle: Any) -> dict[str, Any]:
    """The facts the manifest keeps about a model (from ``ModelBundle.describe``)."""
    d = bundle.describe()
    keep = ("created", "app_version", "backbone", "denominations", "false_alarm_rate", "epochs_trained", "metrics")
    facts = {k: d.get(k) for k in keep}
    summary = getattr(bundle, "summary", {}) or {}
    facts["world_size"] = summary.get("world_size")
    facts["devices"] = summary.get("devices")
    return facts


class SharedModels:
    """The shared folder of published models.

    Args:
        root: the folder (a network share, a mounted drive, ...). Publishing creates it; reading it
            requires that it exists.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    def __repr__(self) -> str:
        return f"SharedModels({str(self.root)!r})"

    # --- reading --------------------------------------------------------------------------------

    def versions(self) -> list[PublishedModel]:
        """Every published version, oldest first (withdrawn ones included).

        Raises StationError when the folder cannot be reached or its manifest is damaged.
        """
        if not self.root.is_dir():
            raise StationError(
                f"The shared model folder {str(self.root)!r} cannot be reached (it does not exist, or the network "
                "share is not mounted). Check the path and the connection."
            )
        return self._read_manifest()

    def get(self, version: int) -> PublishedModel:
        """One published version; StationError when there is no such version."""
        for entry in self.versions():
            if entry.version == version:
                return entry
        raise StationError(f"Version {version} has not been published to {str(self.root)!r}.")

    def latest(self) -> PublishedModel | None:
        """The newest version that has not been withdrawn, or None."""
        live = [e for e in self.versions() if not e.withdrawn]
        return max(live, key=lambda e: e.version) if live else None

    def fetch(self, entry: PublishedModel) -> tuple[bytes, Any]:
        """The bytes and the opened model of a published version, every hash checked.

        Raises StationError when the file is missing, its bytes do not match the manifest's SHA-256 or
        size, or the model inside is not the one published (another content digest).
        """
        path = self.root / entry.file
        try:
            data = read_model_file(path)
        except ModelFileError as exc:
            raise StationError(f"Version {entry.version} cannot be fetched from {str(self.root)!r}: {exc}") from None
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.file_sha256:
            raise StationError(
                f"Version {entry.version} in {str(self.root)!r} does not match its published SHA-256: the file was "
                "damaged or replaced after publishing. It was not installed; publish the model again."
            )
        try:
            bundle = checked_model(data, str(path))
        except ModelFileError as exc:
            raise StationError(f"Version {entry.version} in {str(self.root)!r} is not a usable model: {exc}") from None
        if bundle.sha256 != entry.sha256:
            raise StationError(
                f"Version {entry.version} in {str(self.root)!r} holds another model than the one published "
                f"({bundle.identity} instead of {entry.identity}). It was not installed."
            )
        return data, bundle

    # --- publishing -------------------------------------------------------------------------------

    def publish(self, model_path: str | Path, *, note: str = "") -> tuple[PublishedModel, bool]:
        """Publish a model file as the next version.

        The model is opened first (integrity hash, consistency checks): a damaged file is never
        published. Returns ``(entry, new)``: ``new`` is False when this very model (same SHA-256)
        was already published and not withdrawn, and ``entry`` is then that version.

        Raises:
            ModelFileError: the file is not a usable model.
            FileBusyError: another publisher held the lock for longer than :data:`LOCK_TIMEOUT_S`.
            OutputError: the shared folder cannot be written.
            StationError: the manifest there is damaged.
        """
        source = Path(model_path)
        data = read_model_file(source)
        bundle = checked_model(data, str(source))
        file_sha = hashlib.sha256(data).hexdigest()
        with locked(self.manifest_path, timeout=LOCK_TIMEOUT_S, what="the shared model folder"):
            entries = self._read_manifest() if self.manifest_path.exists() else []
            for entry in entries:
                if entry.sha256 == bundle.sha256 and not entry.withdrawn:
                    return entry, False
            version = max((e.version for e in entries), default=0) + 1
            entry = PublishedModel(
                version=version, file=f"{MODELS_DIR}/v{version:04d}-{bundle.identity}.bgm", sha256=bundle.sha256,
                file_sha256=file_sha, size=len(data), published=now_iso(), published_by=who(), note=note,
                model=model_facts(bundle),
            )
            atomic_write_bytes(self.root / entry.file, data)
            self._write_manifest([*entries, entry])
        return entry, True

    def withdraw(self, version: int, *, reason: str) -> PublishedModel:
        """Mark a version withdrawn: stations stop installing it, and stations running it move to the
        newest version that is not withdrawn at their next check. Its file stays for the record."""
        if not reason.strip():
            raise StationError("Say why the version is withdrawn (the reason is shown at every station).")
        with locked(self.manifest_path, timeout=LOCK_TIMEOUT_S, what="the shared model folder"):
            entries = self.versions()
            for entry in entries:
                if entry.version == version:
                    if not entry.withdrawn:
                        entry.withdrawn = {"time": now_iso(), "by": who(), "reason": reason.strip()}
                        self._write_manifest(entries)
                    return entry
        raise StationError(f"Version {version} has not been published to {str(self.root)!r}.")

    # --- the manifest -------------------------------------------------------------------------------

    def _read_manifest(self) -> list[PublishedModel]:
        where = f"The manifest of the shared model folder {str(self.root)!r}"
        try:
            with open(self.manifest_path, "rb") as fh:
                raw = fh.read(MAX_MANIFEST_BYTES + 1)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StationError(f"{where} cannot be read: {exc.strerror or exc}.") from None
        if len(raw) > MAX_MANIFEST_BYTES:
            raise StationError(f"{where} is far too large to be ours; it was not read.")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise StationError(f"{where} is damaged (not valid JSON). Restore it from a backup.") from None
        if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
            raise StationError(f"{where} is not a banknote_guard manifest.")
        if int(doc.get("format_version", 0)) > MANIFEST_VERSION:
            raise StationError(f"{where} was written by a newer version of banknote_guard; upgrade this station.")
        models = doc.get("models")
        if not isinstance(models, list):
            raise StationError(f"{where} is damaged (no list of models).")
        entries = [PublishedModel.from_json(m, where) for m in models]
        if len({e.version for e in entries}) != len(entries):
            raise StationError(f"{where} is damaged (a version number appears twice).")
        return sorted(entries, key=lambda e: e.version)

    def _write_manifest(self, entries: list[PublishedModel]) -> None:
        doc = {"format": MANIFEST_FORMAT, "format_version": MANIFEST_VERSION, "models": [e.to_json() for e in entries]}
        atomic_write_text(self.manifest_path, json.dumps(doc, indent=2, sort_keys=True) + "\n")


__all__ = ["PublishedModel", "SharedModels", "StationError", "checked_model", "read_model_file", "who"]
