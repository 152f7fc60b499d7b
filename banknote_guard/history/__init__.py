"""banknote_guard.history."""
