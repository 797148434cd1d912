"""Partners of the Open311 interface: their API keys, the residents they file for, their submissions.

A key is stored as its SHA-256 (keys are long random strings: a fast hash is enough and lets each
request find its key by an index look-up). A partner's residents are users of their own, scoped to
the key that brought them, so nothing a partner sends is ever matched with another partner's people.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from api.access.models import User
from api.core.base import Base
from api.reports.models import Report


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Text)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    prefix: Mapped[str] = mapped_column(Text)  # the key's first characters, to tell keys apart
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(User.id, ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PartnerReporter(Base):
    """The resident behind a partner's submission, found again by the contact the partner sent."""

    __tablename__ = "partner_reporters"

    api_key_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    contact_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), ForeignKey(User.id, ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(Text)  # staff only: how to reach the resident
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PartnerSubmission(Base):
    """A report a partner filed; `token` answers a submission still held for review."""

    __tablename__ = "partner_submissions"
    __table_args__ = (Index("ix_partner_submissions_report", "report_id"),)

    token: Mapped[str] = mapped_column(Text, primary_key=True)
    api_key_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("api_keys.id", ondelete="CASCADE")
    )
    report_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(Report.id, ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
