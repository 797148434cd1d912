"""The notifications' own table: overdue notices already sent to leaders (migration 0013)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.core.base import Base


class OverdueNotice(Base):
    """Leaders were told that this deadline of this case passed. The key holds the due time: a case
    transferred (new deadlines) that runs late again is told about again; the same deadline never is,
    whatever the number of workers (the insert that wins decides who notifies)."""

    __tablename__ = "report_overdue_notices"

    report_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    deadline: Mapped[str] = mapped_column(Text, primary_key=True)  # ack | resolve
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    notified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
