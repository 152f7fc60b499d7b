"""banknote_guard.data."""
