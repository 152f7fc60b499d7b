"""banknote_guard.history: the verification history (engine, no Qt).

One record per verified note, append-only, with a hash-chained audit trail. ``store`` holds the
interface (:class:`~banknote_guard.history.store.History`, :func:`~banknote_guard.history.store.open_history`);
``sqlite`` a desk's file, ``server`` a cash centre's PostgreSQL server, ``station`` a desk of a server
(its file as an outbox); ``sqlstore`` the SQL both share, ``rows`` the row mapping and event hashes,
``schema_v1`` the tables, ``recorder`` the bridge from verification results to records, ``records``
the shapes front ends and reports use.
"""
