"""ORM models of the catalogue: categories, agencies, category routes, the working calendar's holidays.

The models match the migrations column for column, index for index (tests/core/test_schema_drift.py
compares them with a migrated database). Foreign keys to the geo capability's `areas`, whose table
lives in geo's own metadata, are written as `info={"references": …}` (see `api.schema.schema_metadata`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    Text,
    false,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.core.base import Base, references


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("resolve_unit IN ('hours','days')", name="ck_categories_resolve_unit"),
        # 0012_calendar
        CheckConstraint("clock IN ('office_hours','around_the_clock')", name="ck_categories_clock"),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    group_code: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(Text)
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    ack_hours: Mapped[int] = mapped_column(Integer)
    resolve_value: Mapped[int] = mapped_column(Integer)
    resolve_unit: Mapped[str] = mapped_column(Text, default="days", server_default="days")
    nearby_radius_m: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    sort: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # 0012_calendar: whose clock the deadlines run on (api.catalogue.deadlines): office hours on working
    # days, or around the clock (urgent categories: flooding, fallen trees, power outage)
    clock: Mapped[str] = mapped_column(Text, default="office_hours", server_default="office_hours")


class Agency(Base):
    """An outside body (power company, water company…) that some categories route to."""

    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)


class CategoryRoute(Base):
    """Reports of this category in this area (or below it) go to this agency."""

    __tablename__ = "category_routes"

    category_code: Mapped[str] = mapped_column(
        Text, ForeignKey("categories.code", ondelete="CASCADE"), primary_key=True
    )
    area_code: Mapped[str] = mapped_column(Text, primary_key=True, info=references("areas.code", "CASCADE"))
    agency_code: Mapped[str] = mapped_column(Text, ForeignKey("agencies.code", ondelete="CASCADE"))


class Holiday(Base):
    """The admin's entry on the working calendar for one local date: a day off, or a working day (a
    make-up Saturday); public holidays come from the `holidays` package (api.catalogue.deadlines)."""

    __tablename__ = "holidays"
    __table_args__ = (CheckConstraint("kind IN ('day_off','working_day')", name="ck_holidays_kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    # 0012_calendar
    kind: Mapped[str] = mapped_column(Text, default="day_off", server_default="day_off")
    reason: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(Text)  # the act it comes from: "Quyết định số …"
