"""banknote_guard.reports: verification reports (CSV, JSON; PDF and HTML), rendered from records or results."""
