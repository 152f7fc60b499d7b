"""``banknote-guard model ...``: publish models to a shared folder, and keep stations on them.

On the training workstation::

    banknote-guard model publish model.bgm --shared /mnt/models --note "March retrain"
    banknote-guard model list --shared /mnt/models
    banknote-guard model withdraw 7 --shared /mnt/models --reason "too many false alarms"

At each station (``STATION`` is the station's own folder; the shared folder is remembered)::

    banknote-guard model update --station STATION --shared /mnt/models   # first time, then at every start
    banknote-guard model check --station STATION
    banknote-guard model rollback --station STATION
    banknote-guard model status --station STATION
    banknote-guard verify STATION scans/          # checks for a newer model, then verifies with it
"""

from __future__ import annotations

import argparse
import json
from typing import Any

EXIT_UP_TO_DATE = 0
EXIT_UPDATE_AVAILABLE = 1

EPILOG = """exit codes:
  0  done (check: the station is up to date)
  1  check: an update is available, or the installed model was withdrawn
  2  error (shared folder unreachable, damaged file, hash mismatch, ...)
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``model`` sub-command and its actions."""
    p = subparsers.add_parser(
        "model",
        help="publish models to a shared folder; check, update and roll back stations",
        description="Central models for many stations. A training workstation publishes a model file to a shared "
        "folder as the next version, with its SHA-256; each station checks that folder (at start and on "
        "demand), verifies the hashes, installs the newest version into its own folder and keeps the "
        "previous one to roll back to. STATION/current.bgm is always the verified model in use.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = p.add_subparsers(dest="model_action", metavar="ACTION", required=True)

    a = actions.add_parser("publish", help="publish a model file as the next version")
    a.add_argument("model", help="model file (.bgm) to publish")
    a.add_argument("--shared", required=True, metavar="DIR", help="the shared folder stations read models from")
    a.add_argument("--note", default="", help="what changed, shown at the stations")
    a.set_defaults(func=run_publish)

    a = actions.add_parser("list", help="list the published versions")
    a.add_argument("--shared", required=True, metavar="DIR", help="the shared folder")
    a.add_argument("--json", action="store_true", help="print the versions as JSON")
    a.set_defaults(func=run_list)

    a = actions.add_parser("withdraw", help="withdraw a published version (stations move off it)")
    a.add_argument("version", type=int, help="version number")
    a.add_argument("--shared", required=True, metavar="DIR", help="the shared folder")
    a.add_argument("--reason", required=True, help="why (shown at every station)")
    a.set_defaults(func=run_withdraw)

    for name, helptext, func in (
        ("check", "say whether a newer model is published for this station (changes nothing)", run_check),
        ("update", "install the newest published model at this station (hashes verified)", run_update),
        ("rollback", "go back to the station's previous model", run_rollback),
        ("status", "show the station's models and its recent installs", run_status),
    ):
        a = actions.add_parser(name, help=helptext)
        a.add_argument("--station", required=True, metavar="STATION", help="the station's own folder")
        if name in ("check", "update", "status"):
            a.add_argument("--shared", default=None, metavar="DIR",
                           help="the shared folder (remembered by the station after the first update)")
        if name == "update":
            a.add_argument("--version", type=int, default=None, metavar="N",
                           help="install this version (also one rolled back from) instead of the newest")
        if name == "status":
            a.add_argument("--json", action="store_true", help="print the status as JSON")
        a.set_defaults(func=func)


def _station(args: argparse.Namespace) -> Any:
    from banknote_guard.api import Station

    return Station(args.station, shared=getattr(args, "shared", None))


def run_publish(args: argparse.Namespace) -> int:
    from banknote_guard.api import SharedModels

    entry, new = SharedModels(args.shared).publish(args.model, note=args.note)
    if new:
        print(f"Published {args.model} as version {entry.version} (model {entry.identity}, SHA-256 {entry.sha256}).")
    else:
        print(f"{args.model} is already published as version {entry.version} (model {entry.identity}); nothing changed.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from banknote_guard.api import SharedModels

    versions = SharedModels(args.shared).versions()
    if args.json:
        print(json.dumps([e.to_json() for e in versions], indent=2))
        return 0
    if not versions:
        print(f"Nothing has been published to {args.shared} yet.")
        return 0
    for e in versions:
        state = f"WITHDRAWN ({e.withdrawn.get('reason', '')})" if e.withdrawn else "live"
        denoms = ", ".join(e.model.get("denominations") or [])
        print(f"v{e.version:<4} {e.identity}  {e.published}  {e.published_by:<20} {state:<10} {denoms}"
              + (f"  - {e.note}" if e.note else ""))
    return 0


def run_withdraw(args: argparse.Namespace) -> int:
    from banknote_guard.api import SharedModels

    entry = SharedModels(args.shared).withdraw(args.version, reason=args.reason)
    print(f"Version {entry.version} ({entry.identity}) is withdrawn: {entry.withdrawn['reason'] if entry.withdrawn else ''}. "
          "Stations running it move to the newest version that is not withdrawn at their next check.")
    return 0


def run_check(args: argparse.Namespace) -> int:
    found = _station(args).check()
    print(found.message)
    return EXIT_UPDATE_AVAILABLE if found.update_available or found.current_withdrawn else EXIT_UP_TO_DATE


def run_update(args: argparse.Namespace) -> int:
    report = _station(args).update(version=args.version)
    print(report.message)
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    report = _station(args).rollback()
    print(report.message)
    return 0


def run_status(args: argparse.Namespace) -> int:
    status = _station(args).status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0
    print(f"station:  {status['station']}")
    print(f"shared:   {status['shared'] or '(not set: give --shared DIR to update)'}")
    for key in ("current", "previous"):
        e = status[key]
        text = "none" if e is None else (f"version {e['version']} ({e['sha256'][:12]}), published {e['published']} by "
                                         f"{e['published_by']}, installed {e.get('installed')}")
        print(f"{key + ':':<9} {text}")
    print(f"model in use: {status['model_path']}")
    for line in status["log"][-5:]:
        print(f"  {line['time']}  {line['action']:<8} version {line['version']}  {line['detail']}")
    return 0
