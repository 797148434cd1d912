"""The public league table's JSON (GET /v1/public/wards)."""

from __future__ import annotations

from datetime import date

import msgspec


class WardFigures(msgspec.Struct):
    """One ward's figures over the period (definitions: api/casework/stats.py), null where there is
    nothing to measure (no report resolved, none rated…)."""

    code: str
    name: str
    received: int
    open: int
    overdue: int
    resolved: int
    on_time_pct: float | None  # of the reports resolved, the share resolved by their deadline
    median_days_to_resolve: float | None
    reopen_rate: float | None  # 0–1: of the reports ever resolved, the share reopened
    mean_rating: float | None  # 1–5
    ratings: int


class AreaRef(msgspec.Struct):
    code: str | None  # null: every ward of every top area
    name: str


class WardTable(msgspec.Struct):
    area: AreaRef
    date_from: date = msgspec.field(name="from")
    date_to: date = msgspec.field(name="to")
    sort: str
    dir: str
    wards: list[WardFigures]
