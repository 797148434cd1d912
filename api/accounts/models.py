"""Users, their scopes, app installs and refresh tokens (migrations 0001_foundation, 0005_staff, 0009_device_secrets).

The models match the migrations column for column, index for index (tests/core/test_schema_drift.py).
Foreign keys to the geo capability's `areas`, whose table lives in geo's own metadata, are written
as `info={"references": …}` (see `api.schema.schema_metadata`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.core.base import Base


class AppInstall(Base):
    """One install of the resident app; its device id maps to one resident user."""

    __tablename__ = "app_installs"
    __table_args__ = (Index("ix_app_installs_user", "user_id"),)

    device_id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text)
    app_version: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the secret the app generated at install (0008); NULL: registered before secrets,
    # set on the install's next refresh (api.accounts.service)
    secret_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RefreshToken(Base):
    """Stored hashed. Each use rotates it; a reused one revokes its whole family."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "family_id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
