"""The media capability's tables (created by migrations 0003_media and 0011_media_blur).

The model matches the migration column for column, index for index (tests/core/test_schema_drift.py
compares them with a migrated database). Its foreign keys point at the host application's tables
(users, reports, report_events), which this Base's metadata does not hold; the ORM resolves every
`ForeignKey` of a mapped table when it flushes, so they are written as
`info={"references": "table.column", "ondelete": …}` instead, and `api.schema.schema_metadata()`
turns them into real foreign keys where the whole schema is assembled.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    and_,
    column,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

EMPTY_JSON = "{}"  # a jsonb column's server default


class Base(DeclarativeBase):
    pass


class Media(Base):
    """One uploaded file: declared, received, checked, processed (or refused)."""

    __tablename__ = "media"
    __table_args__ = (
        CheckConstraint("kind IN ('photo','video')", name="ck_media_kind"),
        CheckConstraint("status IN ('uploading','processing','ready','rejected')", name="ck_media_status"),
        CheckConstraint("size > 0", name="ck_media_size"),
        # the worker: completed uploads waiting for (or whose lease ran out during) processing
        Index(
            "ix_media_due",
            func.coalesce(column("lease_until"), column("completed_at")),
            postgresql_where=column("status") == "processing",
        ),
        # the cleanup: uploads never attached to a report, by expiry
        Index("ix_media_expiring", "expires_at", postgresql_where=column("report_id").is_(None)),
        Index("ix_media_report", "report_id", "position", postgresql_where=column("report_id").is_not(None)),
        # per-user quotas (uploads in the last hour, pending uploads)
        Index("ix_media_owner_created", "owner_id", "created_at"),
        # the worker: public renditions to make again (new blur boxes, or photos from before blurring)
        Index(
            "ix_media_blur_due",
            func.coalesce(column("lease_until"), column("blur_requested_at")),
            postgresql_where=and_(column("status") == "ready", column("blur_requested_at").is_not(None)),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # NULL once the report's personal data has been erased (`media.erase_personal_data`)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), info={"references": "users.id", "ondelete": "CASCADE"}
    )
    kind: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(Text)
    storage_key: Mapped[str] = mapped_column(Text, unique=True)
    status: Mapped[str] = mapped_column(Text, default="uploading", server_default="uploading")
    reason: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    sniffed_type: Mapped[str | None] = mapped_column(Text)
    received_size: Mapped[int | None] = mapped_column(BigInteger)
    received_sha256: Mapped[str | None] = mapped_column(Text)
    multipart_upload_id: Mapped[str | None] = mapped_column(Text)
    part_size: Mapped[int | None] = mapped_column(BigInteger)
    report_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), info={"references": "reports.id", "ondelete": "SET NULL"}
    )
    event_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), info={"references": "report_events.id", "ondelete": "SET NULL"}
    )
    position: Mapped[int | None] = mapped_column(Integer)
    info: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=EMPTY_JSON)
    private: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=EMPTY_JSON)
    distance_from_report_m: Mapped[float | None] = mapped_column(Float)
    far_from_report: Mapped[bool | None] = mapped_column(Boolean)
    renditions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=EMPTY_JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claim_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # removed unless attached by then
    # what the public renditions hide: [{"box": [x, y, w, h] (fractions), "source": "face" | "plate" |
    # "moderator"}]; NULL until faces and plates were looked for
    blur_boxes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    blur_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # rebuild due
    phash: Mapped[int | None] = mapped_column(BigInteger)  # imagehash.phash, 64 bits as a signed bigint


class MediaMatch(Base):
    """Two photos (or posters) whose perceptual hashes are within `MAX_PHASH_DISTANCE`: most likely the
    same picture. Which reports they are on is read when shown (they may be attached later)."""

    __tablename__ = "media_matches"
    __table_args__ = (
        CheckConstraint("media_id < other_id", name="ck_media_matches_order"),  # each pair once
        Index("ix_media_matches_other", "other_id"),
    )

    media_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    other_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    distance: Mapped[int] = mapped_column(SmallInteger)
