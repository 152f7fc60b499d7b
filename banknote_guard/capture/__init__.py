"""banknote_guard.capture."""
