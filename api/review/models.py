"""The review alerts already sent (migration 0010_safety), so the alert step tells moderators once
about each wait. `item_id` is a report's or an event's id; no foreign key: the row only records that
the alert went out."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.core.base import Base


class ReviewAlert(Base):
    __tablename__ = "review_alerts"

    item_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    held_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
