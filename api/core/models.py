"""The shell's own table: the shared rate-limit counters (`api.core.ratelimit`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.core.base import Base


class RateCounter(Base):
    """Hits of one key in one fixed window, on one shard; gone after `expires_at` (the worker prunes)."""

    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_expires", "expires_at"), {"prefixes": ["UNLOGGED"]})

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix seconds
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
