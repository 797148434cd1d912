"""The push capability's tables (created by migration 0004_push).

The models match the migration column for column, index for index (tests/core/test_schema_drift.py
compares them with a migrated database). Foreign keys to the host application's `users` table,
which this Base's metadata does not hold (the ORM resolves every `ForeignKey` of a mapped table when
it flushes), are written as `info={"references": "table.column", "ondelete": …}`;
`api.schema.schema_metadata()` turns them into real foreign keys where the whole schema is assembled.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    column,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

EMPTY_JSON = "{}"  # a jsonb column's server default
USERS_FK: dict[str, Any] = {"references": "users.id", "ondelete": "CASCADE"}


class Base(DeclarativeBase):
    pass


class Device(Base):
    """An FCM registration token of one of a user's phones."""

    __tablename__ = "push_devices"
    __table_args__ = (Index("ix_push_devices_user", "user_id"),)

    token: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), info=USERS_FK)
    platform: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(Text, default="vi", server_default="vi")
    app_version: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Notification(Base):
    """An inbox entry. Texts are kept in both languages; the reader's language picks one."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key", name="uq_notifications_dedupe"),
        Index("ix_notifications_user_created", "user_id", column("created_at").desc(), "id"),
        Index("ix_notifications_unread", "user_id", postgresql_where=column("read_at").is_(None)),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), info=USERS_FK)
    kind: Mapped[str] = mapped_column(Text)
    report_code: Mapped[str | None] = mapped_column(Text)
    title_vi: Mapped[str] = mapped_column(Text)
    body_vi: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=EMPTY_JSON)
    dedupe_key: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxRow(Base):
    """One push to one device. `due_at` is also the claim lease."""

    __tablename__ = "push_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending','sent','failed','skipped')", name="ck_push_outbox_status"),
        Index("ix_push_outbox_due", "due_at", postgresql_where=column("status") == "pending"),
        Index("ix_push_outbox_token", "token", postgresql_where=column("status") == "pending"),
        Index("ix_push_outbox_notification", "notification_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("notifications.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))  # no foreign key (as migrated)
    token: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=EMPTY_JSON)
    status: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claim_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
