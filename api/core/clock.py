"""The one clock: instants are UTC; the local zone (`PHANANH_TIMEZONE`) decides calendar days (deadlines,
date filters, figures per day) and the times people read.

The zone is process-wide: `configure(settings)` at start-up (the app factory, the CLI); until then
the settings' default. SQL gets it as a parameter (`AT TIME ZONE :tz` with `zone_name()`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from api.core.settings import Settings


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`; ValueError for an unknown or malformed name."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


_zone = zone(Settings().timezone)


def configure(settings: Settings) -> None:
    global _zone
    _zone = zone(settings.timezone)


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
    "at_local",
    "configure",
    "local_date",
    "local_midnight",
    "local_zone",
    "now_utc",
    "to_local",
    "zone",
    "zone_name",
]
