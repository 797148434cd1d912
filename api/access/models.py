"""ORM models of who is who: users (residents and staff) and staff scope (areas, agencies).

The models match the migrations column for column, index for index (tests/core/test_schema_drift.py
compares them with a migrated database). Foreign keys to the geo capability's `areas`, whose table
lives in geo's own metadata, are written as `info={"references": …}` (see `api.schema.schema_metadata`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    column,
    false,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.core.base import Base, references


class UserAgency(Base):
    """A staff member's scope by agency (beside `api.accounts.models.UserArea`)."""

    __tablename__ = "user_agencies"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agency_code: Mapped[str] = mapped_column(
        Text, ForeignKey("agencies.code", ondelete="CASCADE"), primary_key=True
    )


ROLES = ("resident", "officer", "leader", "moderator", "admin")


STAFF_ROLES = ("officer", "leader", "moderator", "admin")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('resident','officer','leader','moderator','admin')", name="ck_users_role"),
        CheckConstraint("role = 'resident' OR username IS NOT NULL", name="ck_users_staff_username"),  # 0005
        Index("ux_users_username_lower", func.lower(column("username")), unique=True),  # 0005
        Index("ix_users_role", "role", postgresql_where=column("role") != "resident"),  # 0005
        Index(  # 0008: the revocations each API process loads when its listener (re)connects
            "ix_users_tokens_not_before",
            "tokens_not_before",
            postgresql_where=column("tokens_not_before").is_not(None),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    role: Mapped[str] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(Text, unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    display_name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text, default="vi", server_default="vi")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # 0005
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # 0005
    # access tokens issued before this are refused (api.access.revocation)
    tokens_not_before: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # 0008
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class UserArea(Base):
    """A staff member's scope: every leaf area under any of these codes."""

    __tablename__ = "user_areas"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    area_code: Mapped[str] = mapped_column(Text, primary_key=True, info=references("areas.code", "CASCADE"))
