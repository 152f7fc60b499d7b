"""banknote_guard.model."""
