"""Deadlines on the Vietnamese working calendar.

Acknowledging is due within the category's `ack_hours` clock hours (someone must look soon, even at
weekends). Resolving is due within `resolve_value` clock hours, or working days: counted on local dates
(api.core.clock), skipping Saturdays, Sundays and the `holidays` table, keeping the time of day.

`sql.RULES` reads a category's rules together with the holidays its deadline can cross, in one
statement: every deadline (reopen, transfer) reads it through `category_rules`, and submission
(which also needs the category's questions and photo rule) embeds it in its own first statement.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue import sql
from api.core import clock
from api.core.errors import Unprocessable

# a long Tết break plus weekends never spans more than this many calendar days per working day asked
_HORIZON_DAYS = 60


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: datetime, days: int, holidays: Collection[date]) -> datetime:
    """`start` moved forward by `days` working days (local dates), same local time of day."""
    local = clock.to_local(start)
    day = local.date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return clock.at_local(day, local.time()).astimezone(start.tzinfo)


def due_from(
    start: datetime, *, ack_hours: int, resolve_value: int, resolve_unit: str, holidays: Collection[date]
) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) for a case (re)starting at `start`."""
    ack = start + timedelta(hours=ack_hours)
    if resolve_unit == "hours":
        return ack, start + timedelta(hours=resolve_value)
    return ack, add_working_days(start, resolve_value, holidays)


@dataclass(frozen=True, slots=True)
class CategoryRules:
    code: str
    active: bool
    photo_required: bool
    questions: list[dict[str, Any]]
    nearby_radius_m: float | None
    ack_hours: int
    resolve_value: int
    resolve_unit: str
    holidays: frozenset[date]

    @classmethod
    def from_row(cls, row: Any) -> CategoryRules:
        """From a row of `sql.RULES` (or of a larger statement that has its columns)."""
        questions = row["questions"]
        return cls(
            code=row["code"],
            active=row["active"],
            photo_required=row["photo_required"],
            questions=list(questions) if isinstance(questions, list) else [],
            nearby_radius_m=row["nearby_radius_m"],
            ack_hours=row["ack_hours"],
            resolve_value=row["resolve_value"],
            resolve_unit=row["resolve_unit"],
            holidays=frozenset(row["holidays"] or ()),
        )

    def due(self, start: datetime) -> tuple[datetime, datetime]:
        """(acknowledge by, resolve by) for a case of this category (re)starting at `start`."""
        return due_from(
            start,
            ack_hours=self.ack_hours,
            resolve_value=self.resolve_value,
            resolve_unit=self.resolve_unit,
            holidays=self.holidays,
        )


def rules_params(category_code: str, start: datetime) -> dict[str, Any]:
    """`sql.RULES`'s parameters for a case of the category (re)starting at `start`."""
    return {"category": category_code, "day": clock.local_date(start), "horizon": _HORIZON_DAYS}


async def category_rules(session: AsyncSession, category_code: str, start: datetime) -> CategoryRules | None:
    """The category's rules and calendar for a case starting at `start`; None for an unknown code."""
    row = await sql.RULES.fetchrow(session, rules_params(category_code, start))
    return None if row is None else CategoryRules.from_row(row)


async def due_dates(session: AsyncSession, category_code: str, start: datetime) -> tuple[datetime, datetime]:
    rules = await category_rules(session, category_code, start)
    if rules is None:
        raise unknown_category(category_code)
    return rules.due(start)


def unknown_category(code: str) -> Unprocessable:
    return Unprocessable(
        f"Unknown category {code!r}.",
        message_vi=f"Lĩnh vực {code!r} không tồn tại.",
        code="unknown_category",
        details={"field": "category"},
    )
