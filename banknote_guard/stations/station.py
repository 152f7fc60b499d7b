"""A station's own models: install published versions, verify them, roll back, name the model in use.

Layout of a station folder::

    STATION/
      station.json              what is installed (the source of truth), the shared folder, a log
      station.json.lock         the lock every change takes (the GUI and the CLI may run together)
      current.bgm               the model in use (a verified copy; a stable path for ``verify``)
      models/v0004-<id>.bgm     the installed version and the previous one (nothing older is kept)

``station.json`` holds ``current`` and ``previous`` (published entries, see
:class:`~banknote_guard.stations.shared.PublishedModel`, with the time they were installed),
``skipped`` (models rolled back from: not installed again automatically), ``shared`` (the shared
folder, remembered from the first update) and ``log`` (the last :data:`LOG_LIMIT` installs, roll-backs
and repairs).

Every model is checked twice before it is used: the bytes against the SHA-256 published with them,
then the model file's own integrity hash when it is opened; ``current.bgm`` is checked against
``station.json`` each time the station starts, and rebuilt from ``models/`` when it does not match.
A change writes the model files first and ``station.json`` last (each atomically), so an interrupted
update leaves the station on its previous model. Nothing is ever judged by a model whose hash does not
match (fail closed).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from banknote_guard.errors import BanknoteGuardError, ModelFileError
from banknote_guard.fileio import atomic_write_bytes, atomic_write_text, locked
from banknote_guard.stations.shared import (
    PublishedModel,
    SharedModels,
    StationError,
    checked_model,
    read_model_file,
    who,
)
from banknote_guard.verify.bundle import now_iso

STATE_NAME = "station.json"
CURRENT_NAME = "current.bgm"
MODELS_DIR = "models"
STATE_FORMAT = "banknote_guard-station"
STATE_VERSION = 1
#: Log entries kept in station.json.
LOG_LIMIT = 200
LOCK_TIMEOUT_S = 60.0

log = logging.getLogger(__name__)


@dataclass
class UpdateCheck:
    """What a station's check of the shared folder found.

    Attributes:
        current: the installed version (None: nothing installed yet).
        offered: the version an update would install, or None (up to date).
        current_withdrawn: the installed version has been withdrawn centrally (with its reason).
        newest: the newest published version, withdrawn or not (None: nothing published).
        message: one line for an operator.
    """

    current: PublishedModel | None
    offered: PublishedModel | None
    current_withdrawn: bool
    newest: PublishedModel | None
    message: str

    @property
    def update_available(self) -> bool:
        return self.offered is not None


@dataclass
class InstallReport:
    """What an update or roll-back did.

    Attributes:
        changed: a different model is now in use.
        current, previous: the versions in use and kept for roll-back afterwards.
        message: one line for an operator.
    """

    changed: bool
    current: PublishedModel | None
    previous: PublishedModel | None
    message: str


@dataclass
class StartReport:
    """The outcome of :meth:`Station.start`: the model to use, what the check did, and a warning (the
    shared folder could not be reached) or None."""

    bundle: Any
    update: InstallReport | None
    warning: str | None
    record: dict[str, Any]


def _entry(data: Any, where: str) -> PublishedModel | None:
    return None if data is None else PublishedModel.from_json(data, where)


def describe_version(entry: PublishedModel | None) -> str:
    """``"version 4 (1a2b3c4d5e6f, published 2026-... by ops@train01)"``, or ``"no model"``."""
    if entry is None:
        return "no model"
    return f"version {entry.version} ({entry.identity}, published {entry.published} by {entry.published_by})"


class Station:
    """One station's folder of installed models.

    Args:
        folder: the station's folder (created on the first install).
        shared: the shared folder to check (default: the one remembered in ``station.json``); a
            folder given here is remembered at the next install.
    """

    def __init__(self, folder: str | Path, shared: str | Path | None = None) -> None:
        self.folder = Path(folder)
        self._shared = None if shared is None else Path(shared)

    @property
    def state_path(self) -> Path:
        return self.folder / STATE_NAME

    @property
    def current_path(self) -> Path:
        """The model in use (``current.bgm``): give this path to ``verify`` or open it in the GUI."""
        return self.folder / CURRENT_NAME

    def __repr__(self) -> str:
        return f"Station({str(self.folder)!r})"

    # --- state ------------------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any]:
        where = f"The station file {str(self.state_path)!r}"
        try:
            raw = self.state_path.read_bytes()
        except FileNotFoundError:
            return {"format": STATE_FORMAT, "format_version": STATE_VERSION, "shared": None, "current": None,
                    "previous": None, "skipped": [], "log": []}
        except OSError as exc:
            raise StationError(f"{where} cannot be read: {exc.strerror or exc}.") from None
        try:
            state = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise StationError(f"{where} is damaged (not valid JSON). Remove it and run 'banknote-guard model "
                               "update' again to reinstall the newest model.") from None
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise StationError(f"{where} is not a banknote_guard station file.")
        if int(state.get("format_version", 0)) > STATE_VERSION:
            raise StationError(f"{where} was written by a newer version of banknote_guard; upgrade this station.")
        _entry(state.get("current"), where), _entry(state.get("previous"), where)  # validated now, not mid-change
        state.setdefault("skipped", [])
        state.setdefault("log", [])
        return state

    def _write_state(self, state: dict[str, Any]) -> None:
        state["log"] = state["log"][-LOG_LIMIT:]
        atomic_write_text(self.state_path, json.dumps(state, indent=2, sort_keys=True) + "\n")

    def _log(self, state: dict[str, Any], action: str, entry: PublishedModel | None, detail: str = "") -> None:
        state["log"].append({
            "time": now_iso(), "action": action, "by": who(), "detail": detail,
            "version": None if entry is None else entry.version, "sha256": None if entry is None else entry.sha256,
        })

    def installed(self) -> tuple[PublishedModel | None, PublishedModel | None]:
        """``(current, previous)`` versions as ``station.json`` records them."""
        state = self._read_state()
        return _entry(state.get("current"), STATE_NAME), _entry(state.get("previous"), STATE_NAME)

    def shared(self) -> SharedModels:
        """The shared folder this station checks (StationError when none was ever given)."""
        if self._shared is not None:
            return SharedModels(self._shared)
        remembered = self._read_state().get("shared")
        if not remembered:
            raise StationError(
                f"The station {str(self.folder)!r} does not know its shared model folder yet; give it once with "
                "--shared DIR (e.g. banknote-guard model update --station STATION --shared SHARED)."
            )
        return SharedModels(remembered)

    def status(self) -> dict[str, Any]:
        """A JSON-able account of the station: shared folder, current and previous versions, skipped, log."""
        state = self._read_state()
        return {
            "station": str(self.folder),
            "model_path": str(self.current_path),
            "shared": str(self._shared) if self._shared is not None else state.get("shared"),
            "current": state.get("current"),
            "previous": state.get("previous"),
            "skipped": list(state.get("skipped", [])),
            "log": list(state.get("log", []))[-20:],
        }

    # --- check, update, roll back -------------------------------------------------------------------

    def check(self) -> UpdateCheck:
        """Look in the shared folder for a model to install (nothing is changed).

        A newer version that is not withdrawn and was not rolled back from here is offered; when the
        installed version has been withdrawn, the newest one that is not is offered even if older.
        """
        state = self._read_state()
        return self._check(state, self.shared().versions())

    def _check(self, state: dict[str, Any], versions: list[PublishedModel]) -> UpdateCheck:
        current = _entry(state.get("current"), STATE_NAME)
        skipped = set(state.get("skipped", []))
        by_version = {e.version: e for e in versions}
        published_current = by_version.get(current.version) if current is not None else None
        withdrawn = bool(published_current is not None and published_current.withdrawn)
        live = [e for e in versions if not e.withdrawn and e.sha256 not in skipped]
        best = max(live, key=lambda e: e.version) if live else None
        newest = versions[-1] if versions else None
        offered = None
        if best is not None and (current is None or withdrawn or best.version > current.version):
            offered = best if current is None or best.sha256 != current.sha256 else None
        if offered is not None:
            why = ("nothing installed yet" if current is None else
                   "the installed one was withdrawn" if withdrawn else "newer than the installed one")
            message = f"Update available: {describe_version(offered)} ({why})."
        elif withdrawn:
            reason = (published_current.withdrawn or {}).get("reason", "") if published_current else ""
            held = sorted(e.version for e in versions if not e.withdrawn and e.sha256 in skipped)
            other = (f"; version(s) {', '.join(map(str, held))} were rolled back from here (install one with "
                     "--version N)" if held else "; no other version is published")
            message = f"WARNING: the installed {describe_version(current)} was withdrawn ({reason}){other}."
        elif current is None:
            message = "No model has been published yet."
        else:
            message = f"Up to date: {describe_version(current)}."
        return UpdateCheck(current, offered, withdrawn, newest, message)

    def update(self, version: int | None = None) -> InstallReport:
        """Install the offered version (see :meth:`check`), or ``version`` when given.

        Installing a given version also clears it from ``skipped``. The bytes are checked against the
        published SHA-256 and the model's own hash before anything at the station changes.

        Raises:
            StationError: the shared folder cannot be reached, the version does not exist or was
                withdrawn, or its file does not match its hashes.
        """
        shared = self.shared()
        with locked(self.state_path, timeout=LOCK_TIMEOUT_S, what="the station"):
            state = self._read_state()
            if version is None:
                found = self._check(state, shared.versions())
                if found.offered is None:
                    current, previous = _entry(state.get("current"), STATE_NAME), _entry(state.get("previous"), STATE_NAME)
                    if self._shared is not None and state.get("shared") != str(self._shared):
                        state["shared"] = str(self._shared)
                        self._write_state(state)
                    return InstallReport(False, current, previous, found.message)
                entry = found.offered
            else:
                entry = shared.get(version)
                if entry.withdrawn:
                    raise StationError(
                        f"Version {version} was withdrawn ({entry.withdrawn.get('reason', '')}); it is not installed."
                    )
            data, _ = shared.fetch(entry)
            state["shared"] = str(shared.root)
            state["skipped"] = [s for s in state.get("skipped", []) if s != entry.sha256]
            return self._install(state, entry, data, "install")

    def rollback(self) -> InstallReport:
        """Go back to the previous model (kept at the station); the model rolled back from is skipped by
        later automatic updates until a newer version is published or it is installed by version."""
        with locked(self.state_path, timeout=LOCK_TIMEOUT_S, what="the station"):
            state = self._read_state()
            previous = _entry(state.get("previous"), STATE_NAME)
            if previous is None:
                raise StationError(f"The station {str(self.folder)!r} has no previous model to roll back to.")
            data = self._local_bytes(previous)
            if data is None:
                try:
                    data, _ = self.shared().fetch(previous)
                except StationError as exc:
                    raise StationError(
                        f"The previous model ({describe_version(previous)}) is damaged or missing at the station and "
                        f"cannot be fetched again: {exc}"
                    ) from None
            current = _entry(state.get("current"), STATE_NAME)
            skipped = [s for s in state.get("skipped", []) if s != previous.sha256]
            if current is not None and current.sha256 not in skipped:
                skipped.append(current.sha256)
            state["skipped"] = skipped
            return self._install(state, previous, data, "rollback")

    def _install(self, state: dict[str, Any], entry: PublishedModel, data: bytes, action: str) -> InstallReport:
        old_raw = state.get("current")
        old = _entry(old_raw, STATE_NAME)
        atomic_write_bytes(self._model_file(entry), data)
        atomic_write_bytes(self.current_path, data)
        if old is not None and old.sha256 != entry.sha256:
            state["previous"] = old_raw
        state["current"] = {**entry.to_json(), "installed": now_iso()}
        self._log(state, action, entry, "" if old is None else f"replaced version {old.version}")
        self._write_state(state)
        self._prune(state)
        previous = _entry(state.get("previous"), STATE_NAME)
        verb = "Rolled back to" if action == "rollback" else "Installed"
        kept = f"; {describe_version(previous)} kept for roll-back" if previous is not None else ""
        return InstallReport(True, entry, previous, f"{verb} {describe_version(entry)}{kept}.")

    def _model_file(self, entry: PublishedModel) -> Path:
        return self.folder / MODELS_DIR / Path(entry.file).name

    def _local_bytes(self, entry: PublishedModel) -> bytes | None:
        """The station's copy of a version, or None when it is missing or does not match its hashes."""
        try:
            data = read_model_file(self._model_file(entry))
        except ModelFileError:
            return None
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.file_sha256:
            return None
        return data

    def _prune(self, state: dict[str, Any]) -> None:
        """Remove installed files of versions that are neither current nor previous."""
        keep = {Path(e["file"]).name for e in (state.get("current"), state.get("previous")) if e}
        folder = self.folder / MODELS_DIR
        for path in folder.glob("v*.bgm"):
            if path.name not in keep:
                try:
                    path.unlink()
                except OSError:  # a reader on Windows holds it open: removed next time
                    pass

    # --- the model in use -----------------------------------------------------------------------------

    def current_model(self) -> Any:
        """The model in use, opened and checked against ``station.json``.

        ``current.bgm`` that is missing, damaged or not the installed version is rebuilt from the
        station's copy in ``models/`` (logged as a repair). Raises StationError when no model is
        installed or no good copy is left (the station then must update before it can verify).
        """
        current, _ = self.installed()
        if current is None:
            raise StationError(
                f"The station {str(self.folder)!r} has no model installed yet: run 'banknote-guard model update "
                "--station STATION --shared SHARED' (the shared folder the models are published to)."
            )
        try:
            bundle = checked_model(read_model_file(self.current_path), str(self.current_path))
            if bundle.sha256 == current.sha256:
                bundle.path = self.current_path
                return bundle
            problem = f"it holds model {bundle.identity}, not the installed {current.identity}"
        except ModelFileError as exc:
            problem = str(exc)
        return self._repair(current, problem)

    def _repair(self, current: PublishedModel, problem: str) -> Any:
        with locked(self.state_path, timeout=LOCK_TIMEOUT_S, what="the station"):
            data = self._local_bytes(current)
            if data is None:
                raise StationError(
                    f"The model in use at {str(self.folder)!r} cannot be trusted ({problem}) and the station's copy of "
                    f"{describe_version(current)} is missing or damaged too. Run 'banknote-guard model update "
                    f"--station {self.folder} --version {current.version}' to fetch it again."
                )
            atomic_write_bytes(self.current_path, data)
            state = self._read_state()
            self._log(state, "repair", current, f"current.bgm rebuilt: {problem}")
            self._write_state(state)
        bundle = checked_model(data, str(self.current_path))
        bundle.path = self.current_path
        return bundle

    def model_record(self) -> dict[str, Any]:
        """What to store with every note this station judges: the model's version, SHA-256, identity and
        where it was published (the history keeps ``model_sha256`` and ``model_id`` per note)."""
        current, _ = self.installed()
        if current is None:
            return {"model_version": None, "model_sha256": None, "model_id": None, "shared": None}
        return {
            "model_version": current.version,
            "model_sha256": current.sha256,
            "model_id": current.identity,
            "shared": self._read_state().get("shared"),
        }

    def start(self, *, check: bool = True) -> StartReport:
        """What a station does when it starts: check the shared folder for a newer model (when ``check``
        and a shared folder is known) and install it, then open the model in use (hash checked).

        An unreachable shared folder does not stop the station: it keeps its installed model and the
        report carries a warning. Raises StationError only when there is no usable model at all.
        """
        report: InstallReport | None = None
        warning: str | None = None
        knows_shared = self._shared is not None or bool(self._read_state().get("shared"))
        if check and knows_shared:
            try:
                report = self.update()
                if not report.changed and report.message.startswith("WARNING"):
                    warning = report.message
            except BanknoteGuardError as exc:
                warning = f"Could not check for a newer model: {exc}"
        try:
            bundle = self.current_model()
        except StationError as exc:
            raise StationError(f"{exc}" + (f" ({warning})" if warning else "")) from None
        return StartReport(bundle, report, warning, self.model_record())


def is_station(path: str | Path) -> bool:
    """Whether ``path`` is a station folder (it holds ``station.json``)."""
    p = Path(path)
    return p.is_dir() and (p / STATE_NAME).is_file()




def open_model(path: str | Path) -> Any:
    """A model to verify with: a model file, or a station folder's model in use.

    For a station folder the station first checks its shared folder and installs a newer model
    (:meth:`Station.start`); what it did, and a shared folder it could not reach, are logged as
    warnings. Raises ModelFileError / StationError when there is no usable model.
    """
    if is_station(path):
        report = Station(path).start()
        if report.update is not None and report.update.changed:
            log.warning("%s", report.update.message)
        if report.warning:
            log.warning("%s", report.warning)
        return report.bundle
    from banknote_guard.verify.bundle import ModelBundle

    return ModelBundle.load(path)


__all__ = ["InstallReport", "StartReport", "Station", "UpdateCheck", "describe_version", "is_station", "open_model"]
