"""banknote_guard.gui."""
