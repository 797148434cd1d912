"""Open311 partners: API keys, the residents they file for, and their submissions (tokens)

Revision ID: 0015_open311_partners
Revises: 0014_rate_limits
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0015_open311_partners"
down_revision = "0014_rate_limits"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("key_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("prefix", sa.Text, nullable=False),
        sa.Column("created_by", UUID, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "partner_reporters",
        sa.Column("api_key_id", UUID, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("contact_hash", sa.LargeBinary, primary_key=True),
        sa.Column("user_id", UUID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_table(
        "partner_submissions",
        sa.Column("token", sa.Text, primary_key=True),
        sa.Column("api_key_id", UUID, sa.ForeignKey("api_keys.id", ondelete="CASCADE"), nullable=False),
        sa.Column("report_id", UUID, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
    )
    op.create_index("ix_partner_submissions_report", "partner_submissions", ["report_id"])


def downgrade() -> None:
    op.drop_table("partner_submissions")
    op.drop_table("partner_reporters")
    op.drop_table("api_keys")
