"""foundation: extensions, areas and their lookup parts, users, app installs, refresh tokens

Revision ID: 0001_foundation
Revises:
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostGIS needs superuser to install; on a managed server create it beforehand (see README).
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # unaccent() is only STABLE; an IMMUTABLE wrapper lets us index accent-free text.
    op.execute(
        """
        CREATE FUNCTION f_unaccent(text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
        AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, replace(replace($1, 'đ', 'd'), 'Đ', 'D'))) $$
        """
    )

    op.create_table(
        "areas",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("name_ascii", sa.Text, nullable=False),
        sa.Column("level", sa.Text, nullable=False),
        sa.Column("depth", sa.SmallInteger, nullable=False),
        sa.Column("parent_code", sa.Text, sa.ForeignKey("areas.code", ondelete="RESTRICT")),
        sa.Column("lineage", pg.ARRAY(sa.Text), nullable=False),
        sa.Column("is_leaf", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False)),
        sa.Column("source", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_areas_parent", "areas", ["parent_code"])
    op.create_index("ix_areas_lineage", "areas", ["lineage"], postgresql_using="gin")

    op.create_table(
        "area_parts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("area_code", sa.Text, sa.ForeignKey("areas.code", ondelete="CASCADE"), nullable=False),
        sa.Column("geom", Geometry("POLYGON", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_area_parts_geom", "area_parts", ["geom"], postgresql_using="gist")
    op.create_index("ix_area_parts_area", "area_parts", ["area_code"])

    op.create_table(
        "users",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("username", sa.Text, unique=True),
        sa.Column("password_hash", sa.Text),
        sa.Column("display_name", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("locale", sa.Text, nullable=False, server_default="vi"),
        sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "role IN ('resident','officer','leader','moderator','admin')", name="ck_users_role"
        ),
    )
    op.create_table(
        "user_areas",
        sa.Column(
            "user_id", pg.UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("area_code", sa.Text, sa.ForeignKey("areas.code", ondelete="CASCADE"), primary_key=True),
    )
    op.create_table(
        "app_installs",
        sa.Column("device_id", sa.Text, primary_key=True),
        sa.Column(
            "user_id", pg.UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("locale", sa.Text, nullable=False),
        sa.Column("app_version", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_app_installs_user", "app_installs", ["user_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id", pg.UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("family_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("token_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_refresh_tokens_family", "refresh_tokens", ["family_id"])


def downgrade() -> None:
    for t in ("refresh_tokens", "app_installs", "user_areas", "users", "area_parts", "areas"):
        op.drop_table(t)
    op.execute("DROP FUNCTION IF EXISTS f_unaccent(text)")
