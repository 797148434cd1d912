"""The one clock: instants are UTC; the local zone (`PHANANH_TIMEZONE`) decides calendar days (deadlines,
date filters, figures per day) and the times people read; office hours (`PHANANH_OFFICE_HOURS`,
`PHANANH_OFFICE_WEEKDAYS`) are the local periods in which office-hours deadlines count.

The zone and the office hours are process-wide: `configure(settings)` at start-up (the app factory,
the CLI); until then the settings' defaults. SQL gets the zone as a parameter (`AT TIME ZONE :tz`
with `zone_name()`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.core.settings import Settings


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError for an unknown or malformed name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Working periods of an office day (local clock times, in order, not overlapping) and the
    weekdays that are office days (0 = Monday, as `date.weekday()`)."""

    periods: tuple[tuple[time, time], ...]
    weekdays: frozenset[int]

    @property
    def day_seconds(self) -> int:
        """The working time of one office day (what a working day of a deadline is worth)."""
        return sum(_seconds(b) - _seconds(a) for a, b in self.periods)


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_office_hours(hours: str, weekdays: str) -> OfficeHours:
    """`"07:30-11:30,13:00-17:00"` and `"1-5"` (ISO weekdays: a range or a comma list); ValueError."""
    periods: list[tuple[time, time]] = []
    for part in hours.split(","):
        m = _PERIOD.match(part)
        if m is None:
            raise ValueError(f"office hours must read like 07:30-11:30,13:00-17:00, got {hours!r}")
        h1, m1, h2, m2 = (int(x) for x in m.groups())
        if not (h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60):
            raise ValueError(f"not a clock time in {part.strip()!r}")
        a, b = time(h1, m1), time(h2, m2)
        if not a < b or (periods and not periods[-1][1] <= a):
            raise ValueError(f"office hours must be periods in order that do not overlap, got {hours!r}")
        periods.append((a, b))
    days: set[int] = set()
    for part in weekdays.split(","):
        lo, _, hi = part.strip().partition("-")
        if not (lo.isdigit() and (not hi or hi.isdigit())):
            raise ValueError(f"office weekdays must read like 1-5 or 1,2,3,4,5,6, got {weekdays!r}")
        first, last = int(lo), int(hi or lo)
        if not 1 <= first <= last <= 7:
            raise ValueError(f"office weekdays are 1 (Monday) to 7 (Sunday), got {weekdays!r}")
        days.update(range(first - 1, last))
    return OfficeHours(tuple(periods), frozenset(days))


_zone = zone(Settings().timezone)
_office = parse_office_hours(Settings().office_hours, Settings().office_weekdays)


def configure(settings: Settings) -> None:
    global _zone, _office
    _zone = zone(settings.timezone)
    _office = parse_office_hours(settings.office_hours, settings.office_weekdays)


def office_hours() -> OfficeHours:
    return _office


def local_zone() -> ZoneInfo:
    return _zone


def zone_name() -> str:
    """The zone's IANA name, for SQL (`AT TIME ZONE :tz`)."""
    return _zone.key


def now_utc() -> datetime:
    return datetime.now(UTC)


def to_local(when: datetime) -> datetime:
    return when.astimezone(_zone)


def local_date(when: datetime) -> date:
    return when.astimezone(_zone).date()


def local_midnight(day: date) -> datetime:
    """The instant the local `day` begins."""
    return datetime.combine(day, time(0), tzinfo=_zone)


def at_local(day: date, clock_time: time) -> datetime:
    """The instant of `clock_time` (its own tzinfo ignored) on the local `day`."""
    return datetime.combine(day, clock_time, tzinfo=_zone)


__all__ = [
    "OfficeHours",
    "at_local",
    "configure",
    "local_date",
    "local_midnight",
    "local_zone",
    "now_utc",
    "office_hours",
    "parse_office_hours",
    "to_local",
    "zone",
    "zone_name",
]
