"""The map's counts kept ahead of time (migration 0017_report_counts): what the clusters below the
cluster zoom sum instead of counting report rows (api/casework/tiles.py).

Both tables are written only by the database's triggers (on `reports`, on `areas`), in the same
transaction as the change they follow; the app reads them.
"""

from __future__ import annotations

from datetime import date, datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import Date, DateTime, Index, Integer, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.base import Base, references


class ReportCount(Base):
    """How many reports share one key: every dimension a map filter or the scope rule reads."""

    __tablename__ = "report_counts"

    # a key's counts are split over a few rows by report id (migration 0017): writers rarely wait
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    ward_code: Mapped[str] = mapped_column(Text, primary_key=True)
    agency_code: Mapped[str] = mapped_column(Text, primary_key=True)  # '' when not routed
    category_code: Mapped[str] = mapped_column(Text, primary_key=True)
    status: Mapped[str] = mapped_column(Text, primary_key=True)
    created_day: Mapped[date] = mapped_column(Date, primary_key=True)  # local day (sql.COUNTS_ZONE)
    # The next deadline truncated to its hour ('infinity' when none): a report whose bucket is before
    # now counts as overdue, so the map's overdue count is exact to the hour, not to the second.
    due_hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class ReportWardCount(Base):
    """`ReportCount` rolled up per ward, agency and deadline hour, with how many of them are open: what
    the map sums when no filter needs a category, a status or a date."""

    __tablename__ = "report_ward_counts"

    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    ward_code: Mapped[str] = mapped_column(Text, primary_key=True)
    agency_code: Mapped[str] = mapped_column(Text, primary_key=True)
    due_hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    open_n: Mapped[int] = mapped_column(Integer)


class WardPoint(Base):
    """A fixed point inside each ward (ST_PointOnSurface of its boundary): where its cluster is drawn."""

    __tablename__ = "ward_points"
    __table_args__ = (Index("ix_ward_points_geom", "geom", postgresql_using="gist"),)

    ward_code: Mapped[str] = mapped_column(
        Text, primary_key=True, info=references("areas.code", ondelete="CASCADE")
    )
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), nullable=False
    )
