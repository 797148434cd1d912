"""Deadlines on the Vietnamese working calendar.

Acknowledging is due within the category's `ack_hours` clock hours (someone must look soon, even at
weekends). Resolving is due within `resolve_value` clock hours, or working days: counted on local dates
in Asia/Ho_Chi_Minh, skipping Saturdays, Sundays and the `holidays` table, keeping the time of day.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Unprocessable
from api.reports.models import Category, Holiday

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# a long Tết break plus weekends never spans more than this many calendar days per working day asked
_HORIZON_DAYS = 60


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: datetime, days: int, holidays: Collection[date]) -> datetime:
    """`start` moved forward by `days` working days (local dates), same local time of day."""
    local = start.astimezone(LOCAL_TZ)
    day = local.date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LOCAL_TZ)
    return moved.astimezone(start.tzinfo)


def due_from(
    start: datetime, *, ack_hours: int, resolve_value: int, resolve_unit: str, holidays: Collection[date]
) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) for a case (re)starting at `start`."""
    ack = start + timedelta(hours=ack_hours)
    if resolve_unit == "hours":
        return ack, start + timedelta(hours=resolve_value)
    return ack, add_working_days(start, resolve_value, holidays)


async def holidays_between(session: AsyncSession, first: date, last: date) -> set[date]:
    rows = await session.scalars(select(Holiday.day).where(Holiday.day.between(first, last)))
    return set(rows)


async def due_dates(session: AsyncSession, category_code: str, start: datetime) -> tuple[datetime, datetime]:
    category = await session.get(Category, category_code)
    if category is None:
        raise Unprocessable(
            f"Unknown category {category_code!r}.",
            message_vi=f"Lĩnh vực {category_code!r} không tồn tại.",
            code="unknown_category",
        )
    holidays: set[date] = set()
    if category.resolve_unit == "days":
        first = start.astimezone(LOCAL_TZ).date()
        holidays = await holidays_between(
            session, first, first + timedelta(days=_HORIZON_DAYS + 3 * category.resolve_value)
        )
    return due_from(
        start,
        ack_hours=category.ack_hours,
        resolve_value=category.resolve_value,
        resolve_unit=category.resolve_unit,
        holidays=holidays,
    )
