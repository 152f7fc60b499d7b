"""banknote_guard.reports."""
