"""``python -m banknote_guard``: with no arguments, open the desktop application."""

import sys

from banknote_guard.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["gui"]))
