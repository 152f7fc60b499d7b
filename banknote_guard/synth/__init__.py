"""banknote_guard.synth."""
