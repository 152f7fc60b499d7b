"""banknote_guard.verify."""
