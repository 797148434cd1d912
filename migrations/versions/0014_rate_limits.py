"""rate limits counted in the database, shared by every API process

Revision ID: 0014_rate_limits
Revises: 0013_overdue_notices

`rate_counters` holds one row per key, fixed window and shard; UNLOGGED: a crash forgets the
counters of the current window (a limit, not a record), and the table writes no WAL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_rate_limits"
down_revision = "0013_overdue_notices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("shard", sa.SmallInteger, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        prefixes=["UNLOGGED"],
    )
    op.create_index("ix_rate_counters_expires", "rate_counters", ["expires_at"])


def downgrade() -> None:
    op.drop_table("rate_counters")
