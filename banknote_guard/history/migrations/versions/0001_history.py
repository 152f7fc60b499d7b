"""The history: records, reviews, stored pictures and the audit chain (append-only).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from alembic import op

from banknote_guard.history import schema_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Version 1 of the tables, shared with a desk's SQLite file (frozen: later versions get new revisions).
STATEMENTS = schema_v1.statements("postgresql")


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("events", "reviews", "records", "blobs", "meta"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP FUNCTION IF EXISTS banknote_guard_append_only()")
