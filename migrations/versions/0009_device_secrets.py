"""device secrets for app installs; a not-before time per account for revoking its access tokens

Revision ID: 0009_device_secrets
Revises: 0008_retention

`app_installs.secret_hash`: the SHA-256 of the secret an app generates at install and sends with its
device id; the id alone no longer signs anyone in. Installs registered before have none until their
next refresh. `users.tokens_not_before`: access tokens of the account issued before this time are
refused; every API process keeps the recent ones in memory, told of new ones by NOTIFY.
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_device_secrets"
down_revision = "0008_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_installs", sa.Column("secret_hash", sa.LargeBinary()))
    op.add_column("users", sa.Column("tokens_not_before", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_users_tokens_not_before",
        "users",
        ["tokens_not_before"],
        postgresql_where=sa.text("tokens_not_before IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_users_tokens_not_before", table_name="users")
    op.drop_column("users", "tokens_not_before")
    op.drop_column("app_installs", "secret_hash")
