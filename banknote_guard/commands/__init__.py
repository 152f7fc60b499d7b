"""One module per ``banknote-guard`` sub-command; see :mod:`banknote_guard.cli`."""
