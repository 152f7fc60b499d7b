"""banknote_guard: tell genuine banknotes from counterfeits with a Siamese network.

The package is an engine (``data``, ``synth``, ``model``, ``verify``) with two faces on top of it:
the command line (``banknote_guard.cli``) and the desktop application (``banknote_guard.gui``).
Only ``banknote_guard.gui`` imports Qt.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
