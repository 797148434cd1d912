"""staff accounts, scopes and admin (officers, leaders, moderators)

Revision ID: 0005_staff
Revises: 0004_push

Staff sign in with a username and password (argon2 hash in `users.password_hash`; lockout with
`failed_logins` / `locked_until`, all from 0001). This revision adds what sign-in and the admin
screens need on top: when the password was last set and when the user last signed in, usernames
unique regardless of case, and a constraint that every staff account has a username.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_staff"
down_revision = "0004_push"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("password_changed_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(timezone=True)))
    op.create_index("ux_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.create_index("ix_users_role", "users", ["role"], postgresql_where=sa.text("role <> 'resident'"))
    op.create_check_constraint(
        "ck_users_staff_username", "users", "role = 'resident' OR username IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_constraint("ck_users_staff_username", "users", type_="check")
    op.drop_index("ix_users_role", table_name="users")
    op.drop_index("ux_users_username_lower", table_name="users")
    op.drop_column("users", "last_login_at")
    op.drop_column("users", "password_changed_at")
