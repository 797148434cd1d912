"""ORM models of the reporting tables (schema: migrations/versions/0002_reports.py and later, docs/domain.md).

The models match the migrations column for column, index for index (tests/core/test_schema_drift.py
compares them with a migrated database). Foreign keys to the geo capability's `areas`, whose table
lives in geo's own metadata, are written as `info={"references": …}` (see `api.schema.schema_metadata`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    Text,
    UniqueConstraint,
    and_,
    column,
    false,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, aliased, mapped_column

from api.core.base import Base, references
from api.core.status import ALL, OPEN, PAUSED, ReportStatus, sql_in, values
from api.reports import sql

EMPTY_OBJECT = "{}"  # jsonb columns' server defaults
EMPTY_ARRAY = "[]"


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(
            f"status IN {sql_in(ALL)}",
            name="ck_reports_status",
        ),
        CheckConstraint(
            "visibility IN ('public','private','pending_review','hidden')", name="ck_reports_visibility"
        ),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_reports_rating"),
        UniqueConstraint("reporter_id", "client_id", name="uq_reports_reporter_client"),
        Index("ix_reports_reporter_created", "reporter_id", column("created_at").desc(), "id"),
        Index("ix_reports_ward_status", "ward_code", "status"),
        Index("ix_reports_geom", "geom", postgresql_using="gist"),
        # metres queries (nearby, near=) go through geography(geom): the index matches that expression
        Index("ix_reports_geog", func.geography(column("geom")), postgresql_using="gist"),
        Index(
            "ix_reports_search",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index(
            "ix_reports_public_list",
            column("created_at").desc(),
            "id",
            postgresql_where=column("visibility") == "public",
        ),
        # 0006_workflow
        Index(
            "ix_reports_queue_due",
            sql.QUEUE_DUE_INDEX_KEY,
            "code",
            postgresql_where=column("status").in_(values(OPEN)),
        ),
        Index("ix_reports_assignee", "assignee_id", postgresql_where=column("assignee_id").is_not(None)),
        # 0013_overdue_notices: deadlines passed lately (api/notifications/sql.py OVERDUE_CANDIDATES)
        Index(
            "ix_reports_ack_due", "ack_due_at", postgresql_where=column("status") == ReportStatus.NEW.value
        ),
        Index(
            "ix_reports_resolve_due",
            "resolve_due_at",
            postgresql_where=column("status").in_(values(OPEN - PAUSED)),
        ),
        Index("ix_reports_created", "created_at", "code"),
        # 0007_merged_media
        Index(
            "ix_reports_duplicate_of", "duplicate_of", postgresql_where=column("duplicate_of").is_not(None)
        ),
        # 0008_retention
        Index(
            "ix_reports_retention",
            "closed_at",
            postgresql_where=and_(column("erased_at").is_(None), column("closed_at").is_not(None)),
        ),
        # 0010_safety
        Index("ix_reports_pending", "held_at", postgresql_where=column("visibility") == "pending_review"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(Text, unique=True)
    # NULL once the retention step has erased the report's personal data (0008_retention)
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    client_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    category_code: Mapped[str] = mapped_column(Text, ForeignKey("categories.code"))
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    answers: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=EMPTY_OBJECT)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    ward_code: Mapped[str] = mapped_column(Text, info=references("areas.code"))
    agency_code: Mapped[str | None] = mapped_column(Text, ForeignKey("agencies.code"))
    near_boundary: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    snapped_m: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(
        Text, default=ReportStatus.NEW.value, server_default=ReportStatus.NEW.value
    )
    visibility: Mapped[str] = mapped_column(Text, default="public", server_default="public")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("reports.id"))
    ack_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    follower_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # 0008_retention
    # 0010_safety. A moderator's redaction of the text the public reads (None: the resident's own,
    # masked like everything public); the original stays for staff.
    public_description: Mapped[str | None] = mapped_column(Text)
    public_address: Mapped[str | None] = mapped_column(Text)
    # why the report waits for a moderator (abusive_language, flagged) and since when
    held_for: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=EMPTY_ARRAY)
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # 0012_calendar. A case on hold (status on_hold) since `hold_started_at`; `hold_seconds` is the
    # wall-clock time of its holds so far, ended ones (the figures read both).
    hold_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hold_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


TEXT_STATUSES = ("shown", "held", "hidden")


# The report as `r`, for statements that embed hand-written fragments naming it so (the staff scope
# rule, api/casework/sql.py); one object, so that every condition over it means the same FROM entry.
ReportAsR = aliased(Report, name="r")


class ReportEvent(Base):
    """Append-only: one row per change of a case."""

    __tablename__ = "report_events"
    __table_args__ = (
        Index("ix_report_events_report", "report_id", "created_at"),
        CheckConstraint("text_status IN ('shown', 'held', 'hidden')", name="ck_report_events_text_status"),
        Index("ix_report_events_held", "held_at", postgresql_where=column("text_status") == "held"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    report_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("reports.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), ForeignKey("users.id"))
    actor_role: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str | None] = mapped_column(Text)
    public_message: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default=EMPTY_OBJECT)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # clock_timestamp() (as migrated): the time of the row itself, not of its transaction
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    # 0010_safety: its message (public_message, reason) as the public may read it: shown, held for a
    # moderator (held_for says why), or hidden by one. The event itself stays.
    text_status: Mapped[str] = mapped_column(Text, default="shown", server_default="shown")
    held_for: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default=EMPTY_ARRAY)
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Follow(Base):
    __tablename__ = "report_follows"
    __table_args__ = (Index("ix_report_follows_user", "user_id"),)

    report_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    request_hash: Mapped[bytes] = mapped_column(LargeBinary)
    report_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("reports.id", ondelete="CASCADE")
    )
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReportDeadlineAlert(Base):
    """A deadline alert already sent to officers (migration 0004_push), so the timer step is idempotent.

    No foreign key to `reports` (as migrated): the row only records that the alert went out.
    """

    __tablename__ = "report_deadline_alerts"

    report_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    deadline: Mapped[str] = mapped_column(Text, primary_key=True)  # ack | resolve
    stage: Mapped[str] = mapped_column(Text, primary_key=True)  # near | passed
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RetentionRun(Base):
    """One run of the retention step (migration 0008_retention): the audit trail of what was erased."""

    __tablename__ = "retention_runs"
    __table_args__ = (Index("ix_retention_runs_started", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cutoff: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # reports closed before this
    reports_erased: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    media_erased: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
