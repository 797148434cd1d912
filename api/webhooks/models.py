"""Webhook endpoints (registered by admins) and the outbox of their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    column,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.access.models import User
from api.core.base import Base
from api.reports.models import ReportEvent

EMPTY = "{}"


class WebhookEndpoint(Base):
    """Where to send; empty filters mean every area, category or event type."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)  # whsec_…: the receiver verifies with it
    description: Mapped[str | None] = mapped_column(Text)
    areas: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=EMPTY)
    categories: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=EMPTY)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default=EMPTY)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(User.id, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebhookDelivery(Base):
    """One event for one endpoint. `id` is the message id the receiver sees (`webhook-id`): the same
    on every attempt and on a replay, so receivers can drop what they already have."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'delivered', 'dead', 'skipped')", name="ck_webhook_deliveries_status"
        ),
        Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where=column("status") == "pending"),
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), primary_key=True, server_default=func.gen_random_uuid()
    )
    endpoint_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(WebhookEndpoint.id, ondelete="CASCADE")
    )
    event_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(ReportEvent.id, ondelete="CASCADE")
    )
    event_type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="pending", server_default="pending")
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # rendered at the first attempt
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
