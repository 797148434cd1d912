"""The geo capability's tables (created by migration 0001_foundation).

The models match the migrations column for column, index for index (tests/core/test_schema_drift.py
compares them with a migrated database).
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    Text,
    func,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Area(Base):
    """A node of the area tree (province, district, ward…). Reports go to leaves ("wards")."""

    __tablename__ = "areas"
    __table_args__ = (
        Index("ix_areas_parent", "parent_code"),
        Index("ix_areas_lineage", "lineage", postgresql_using="gin"),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    name_ascii: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    depth: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(Text, ForeignKey("areas.code", ondelete="RESTRICT"))
    lineage: Mapped[list[str]] = mapped_column(ARRAY(Text))  # codes from the root down to this one
    is_leaf: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    source: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AreaPart(Base):
    """A piece of a leaf's boundary (`ST_Subdivide`), GIST-indexed: point tests touch few vertices."""

    __tablename__ = "area_parts"
    __table_args__ = (
        Index("ix_area_parts_geom", "geom", postgresql_using="gist"),
        Index("ix_area_parts_area", "area_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    area_code: Mapped[str] = mapped_column(Text, ForeignKey("areas.code", ondelete="CASCADE"))
    geom: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=False))
