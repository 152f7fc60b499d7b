"""Alembic environment of the history server's schema.

banknote_guard runs the migrations itself when it opens a server (:mod:`banknote_guard.history.server`),
on a connection it passes in ``config.attributes["connection"]``; an administrator can also run them
with the ``alembic`` tool and ``-x url=postgresql+psycopg://...``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from banknote_guard.history.server import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:  # run from the alembic command line
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    with create_engine(url).begin() as conn:
        context.configure(connection=conn, version_table=VERSION_TABLE, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, version_table=VERSION_TABLE, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
