"""Entry point of the frozen station bundle (PyInstaller): the ``banknote-guard`` command line.

With no arguments it opens the desktop application on the Verify page with the bundled demo model and
sample notes; with arguments it is the command line (``banknote-guard verify MODEL NOTES...``, ...).
Started as ``banknote-guard-gui`` (the Windows program without a console, a link elsewhere) it is the
desktop application and takes its options (``--model``, ``--screenshot``, ...).
"""

import multiprocessing
import sys
from pathlib import Path

from banknote_guard.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    if Path(sys.argv[0]).name.lower().startswith("banknote-guard-gui"):
        args = ["gui", *sys.argv[1:]]
    else:
        args = sys.argv[1:] or ["gui"]
    sys.exit(main(args))
