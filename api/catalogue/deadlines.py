"""Deadlines on the Vietnamese working calendar: the one place that adds working time.

The calendar. A local date is a working day when the admin says so (`holidays` rows of kind
`working_day`: a make-up Saturday, "làm bù"), or is not one when the admin says so (kind `day_off`:
a local closure, a substitute day off, "nghỉ bù", decided locally); otherwise the `holidays` package's
Vietnam calendar decides (public holidays off, its make-up Saturdays on); otherwise the office
weekdays (`PHANANH_OFFICE_WEEKDAYS`, Monday–Friday) are working days. Admin entries win over the
package, so a wrong or late package year can be corrected without a release.

The clock. A category runs either in office hours (`office_hours`: only time inside the office
periods of working days counts, `PHANANH_OFFICE_HOURS`, 07:30–11:30 and 13:00–17:00) or around the
clock (`around_the_clock`: urgent categories, wall-clock hours, every day). Acknowledge within
`ack_hours` hours of that clock; resolve within `resolve_value` hours of it, or days: a working day
is one office day's working time (8 hours), a day around the clock is 24 hours. So a report at 20:13
with 4 working hours to acknowledge is due at 11:30 the next working day.

A paused case (on hold) gets its resolve deadline moved by the working time spent on hold
(`working_seconds` then `add_working`), on the same clock.

`sql.RULES` reads a category's rules together with the admin's calendar entries its deadlines can
cross, in one statement: every deadline (reopen, transfer) reads it through `category_rules`, and
submission (which also needs the category's questions and photo rule) embeds it in its own first
statement. The package's calendar is computed in process, once per year.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import holidays as holiday_package
from sqlalchemy.ext.asyncio import AsyncSession

from api.catalogue import sql
from api.core import clock
from api.core.clock import OfficeHours
from api.core.errors import Unprocessable

OFFICE_HOURS: Final = "office_hours"
AROUND_THE_CLOCK: Final = "around_the_clock"
CLOCKS: Final = (OFFICE_HOURS, AROUND_THE_CLOCK)
DAY_OFF: Final = "day_off"
WORKING_DAY: Final = "working_day"
KINDS: Final = (DAY_OFF, WORKING_DAY)
SOURCE_PACKAGE: Final = "holidays"  # the `holidays` package's Vietnam calendar
SOURCE_ADMIN: Final = "admin"

# Admin entries read beyond a deadline's start: a long Tết break plus weekends never spans more
# than this many calendar days, plus a margin per hour or day asked (sql.RULES).
_HORIZON_DAYS = 60
# No calendar leaves a whole year without working time; past this the settings or entries are absurd.
_MAX_DAYS = 3 * 366


# --- the package's calendar -------------------------------------------------------------------


@functools.cache
def package_year(year: int) -> tuple[dict[date, str], dict[date, str]]:
    """The `holidays` package's Vietnam calendar for `year`: days off and make-up working Saturdays
    ("làm bù"), each with its Vietnamese name. The package names a substitute day off after the
    Saturday worked for it ("thay cho ngày 22/08/2026"); the Saturday is named after that day."""
    cal = holiday_package.Vietnam(years=year, language="vi")
    days_off = {d: str(name) for d, name in sorted(cal.items()) if d.year == year}
    working: dict[date, str] = {}
    for d in sorted(getattr(cal, "weekend_workdays", ())):
        if d.year == year:
            off = next((o for o, n in days_off.items() if d.strftime("%d/%m/%Y") in n), None)
            working[d] = "Ngày làm bù" + (f" (nghỉ ngày {off:%d/%m/%Y})" if off else "")
    return days_off, working


def package_day_off(day: date) -> str | None:
    return package_year(day.year)[0].get(day)


def package_working_day(day: date) -> str | None:
    """The name of the package's make-up working day `day`, None if it is not one."""
    return package_year(day.year)[1].get(day)


# --- the effective calendar -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Calendar:
    """The admin's entries over some span of dates; the package and the office weekdays do the rest."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    working_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def of(cls, days_off: Collection[date] | None, working_days: Collection[date] | None) -> Calendar:
        return cls(frozenset(days_off or ()), frozenset(working_days or ()))

    def is_working_day(self, day: date, office: OfficeHours | None = None) -> bool:
        if day in self.days_off:
            return False
        if day in self.working_days:
            return True
        if package_day_off(day) is not None:
            return False
        if package_working_day(day) is not None:
            return True
        return day.weekday() in (office or clock.office_hours()).weekdays


def is_working_day(day: date, calendar: Calendar | None = None) -> bool:
    return (calendar or Calendar()).is_working_day(day)


def _periods(day: date, office: OfficeHours) -> list[tuple[datetime, datetime]]:
    """The office periods of the local `day`, as UTC instants."""
    return [
        (clock.at_local(day, a).astimezone(UTC), clock.at_local(day, b).astimezone(UTC))
        for a, b in office.periods
    ]


def add_working(
    start: datetime,
    seconds: float,
    calendar: Calendar,
    *,
    clock_kind: str = OFFICE_HOURS,
    office: OfficeHours | None = None,
) -> datetime:
    """`start` moved forward by `seconds` of working time on the category's clock.

    Office hours: time counts only inside the office periods of working days; a start outside them
    counts from the next period's opening, and a deadline that uses up a period exactly falls at its
    closing (11:30, not 13:00). Around the clock: plain elapsed time.
    """
    if seconds <= 0:
        return start
    if clock_kind == AROUND_THE_CLOCK:
        return start + timedelta(seconds=seconds)
    office = office or clock.office_hours()
    at = start.astimezone(UTC)
    left = timedelta(seconds=seconds)
    day = clock.local_date(start)
    for _ in range(_MAX_DAYS):
        if calendar.is_working_day(day, office):
            for opens, closes in _periods(day, office):
                begin = max(opens, at)
                if begin >= closes:
                    continue
                if left <= closes - begin:
                    return (begin + left).astimezone(start.tzinfo)
                left -= closes - begin
        day += timedelta(days=1)
    raise ValueError("the working calendar has no working time within three years")


def working_seconds(
    start: datetime,
    end: datetime,
    calendar: Calendar,
    *,
    clock_kind: str = OFFICE_HOURS,
    office: OfficeHours | None = None,
) -> float:
    """The working time between two instants on the category's clock (0 if `end` is not later)."""
    if end <= start:
        return 0.0
    if clock_kind == AROUND_THE_CLOCK:
        return (end - start).total_seconds()
    office = office or clock.office_hours()
    a, b = start.astimezone(UTC), end.astimezone(UTC)
    total = 0.0
    day, last = clock.local_date(start), clock.local_date(end)
    while day <= last:
        if calendar.is_working_day(day, office):
            for opens, closes in _periods(day, office):
                lo, hi = max(opens, a), min(closes, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total


def _window_seconds(value: int, unit: str, clock_kind: str, office: OfficeHours) -> int:
    """A deadline's length in seconds of its clock: hours, or days (an office day's working time,
    or 24 hours around the clock)."""
    if unit == "hours":
        return value * 3600
    return value * (24 * 3600 if clock_kind == AROUND_THE_CLOCK else office.day_seconds)


def due_from(
    start: datetime,
    *,
    ack_hours: int,
    resolve_value: int,
    resolve_unit: str,
    calendar: Calendar,
    clock_kind: str = OFFICE_HOURS,
) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by) for a case (re)starting at `start`."""
    office = clock.office_hours()
    ack = add_working(
        start, _window_seconds(ack_hours, "hours", clock_kind, office), calendar, clock_kind=clock_kind
    )
    resolve = add_working(
        start,
        _window_seconds(resolve_value, resolve_unit, clock_kind, office),
        calendar,
        clock_kind=clock_kind,
    )
    return ack, resolve


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
    clock: str
    calendar: Calendar

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
            clock=row["clock"],
            calendar=Calendar.of(row["admin_days_off"], row["admin_working_days"]),
        )

    def due(self, start: datetime) -> tuple[datetime, datetime]:
        """(acknowledge by, resolve by) for a case of this category (re)starting at `start`."""
        return due_from(
            start,
            ack_hours=self.ack_hours,
            resolve_value=self.resolve_value,
            resolve_unit=self.resolve_unit,
            calendar=self.calendar,
            clock_kind=self.clock,
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


async def admin_calendar(session: AsyncSession, first: date, last: date) -> Calendar:
    """The admin's entries between two local dates (inclusive)."""
    row = await sql.ADMIN_CALENDAR.fetchrow(session, {"first": first, "last": last})
    return Calendar() if row is None else Calendar.of(row["admin_days_off"], row["admin_working_days"])


async def resumed_due(
    session: AsyncSession,
    category_code: str,
    *,
    held_since: datetime,
    resumed_at: datetime,
    resolve_due: datetime | None,
) -> tuple[datetime | None, float]:
    """(the resolve deadline moved by the working time on hold, that working time in seconds), for a
    case held from `held_since` and resumed at `resumed_at`, on its category's clock."""
    rules = await category_rules(session, category_code, held_since)
    if rules is None:
        raise unknown_category(category_code)
    # the span the hold and the moved deadline can cross: from the hold to well past the old deadline
    last = max(resumed_at, resolve_due or resumed_at) + (resumed_at - held_since) * 3
    calendar = await admin_calendar(
        session, clock.local_date(held_since), clock.local_date(last) + timedelta(days=_HORIZON_DAYS)
    )
    held = working_seconds(held_since, resumed_at, calendar, clock_kind=rules.clock)
    if resolve_due is None:
        return None, held
    return add_working(resolve_due, held, calendar, clock_kind=rules.clock), held


def unknown_category(code: str) -> Unprocessable:
    return Unprocessable(
        f"Unknown category {code!r}.",
        message_vi=f"Lĩnh vực {code!r} không tồn tại.",
        code="unknown_category",
        details={"field": "category"},
    )
