"""The ``--device`` flag shared by ``train``, ``enroll``, ``verify`` and ``evaluate``."""

from __future__ import annotations

import argparse

DEVICE_HELP = (
    "where the network runs: auto (a CUDA GPU when one is usable, else the CPU), cpu, cuda, cuda:N or mps "
    "(Apple GPU); a GPU that is not there is a clear error (default: auto)"
)


def add_device_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--device`` (default ``auto``)."""
    parser.add_argument("--device", default="auto", metavar="DEVICE", help=DEVICE_HELP)


def apply_device(args: argparse.Namespace) -> str:
    """Check ``args.device`` and make it the process's inference device; returns the device used.

    Raises DeviceUnavailableError (a readable one-line error) when it is not usable here.
    """
    from banknote_guard import api

    return api.use_device(getattr(args, "device", "auto"))
