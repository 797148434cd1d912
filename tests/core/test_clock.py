"""The one clock (api/core/clock.py): the local zone comes from PHANANH_TIMEZONE and every local rule
follows it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from api.catalogue.deadlines import Calendar, add_working
from api.core import clock
from api.core.settings import Settings, SettingsError, load_settings
from api.notifications.texts import local_time


@pytest.fixture
def zone_back() -> Iterator[None]:
    yield
    clock.configure(Settings())


def test_default_zone_is_the_settings_default() -> None:
    assert clock.zone_name() == Settings().timezone == "Asia/Ho_Chi_Minh"
    assert clock.local_date(datetime(2031, 1, 1, 20, 0, tzinfo=UTC)) == date(2031, 1, 2)
    assert local_time(datetime(2031, 1, 1, 7, 30, tzinfo=UTC)) == "14:30 01/01"


def test_a_bad_zone_stops_start_up() -> None:
    with pytest.raises(SettingsError, match="PHANANH_TIMEZONE"):
        load_settings({"PHANANH_TIMEZONE": "Mars/Olympus"})
    assert load_settings({"PHANANH_TIMEZONE": "Asia/Bangkok"}).timezone == "Asia/Bangkok"


def test_local_rules_follow_the_configured_zone(zone_back: None) -> None:
    friday_night_utc = datetime(2031, 3, 7, 20, 0, tzinfo=UTC)  # already Saturday in Vietnam
    day = 8 * 3600  # one office day of working time
    # Vietnam: Saturday 03:00 → the working day is Monday, 07:30–17:00 local (10:00 UTC)
    assert add_working(friday_night_utc, day, Calendar()) == datetime(2031, 3, 10, 10, 0, tzinfo=UTC)
    clock.configure(Settings(timezone="UTC"))
    assert clock.local_date(friday_night_utc) == date(2031, 3, 7)
    assert clock.local_midnight(date(2031, 3, 7)) == datetime(2031, 3, 7, tzinfo=UTC)
    assert add_working(friday_night_utc, day, Calendar()) == datetime(2031, 3, 10, 17, 0, tzinfo=UTC)
    assert local_time(friday_night_utc) == "20:00 07/03"


def test_office_hours_come_from_the_settings(zone_back: None) -> None:
    for bad in ({"PHANANH_OFFICE_HOURS": "8-17"}, {"PHANANH_OFFICE_HOURS": "13:00-17:00,07:30-11:30"}):
        with pytest.raises(SettingsError, match="PHANANH_OFFICE_HOURS"):
            load_settings(bad)
    with pytest.raises(SettingsError, match="PHANANH_OFFICE_WEEKDAYS"):
        load_settings({"PHANANH_OFFICE_WEEKDAYS": "0-4"})
    six_days = load_settings({"PHANANH_OFFICE_HOURS": "08:00-12:00", "PHANANH_OFFICE_WEEKDAYS": "1-6"})
    clock.configure(six_days)
    assert clock.office_hours().day_seconds == 4 * 3600
    # a Saturday office: Friday 11:00 + 2 h = 1 h Friday, 1 h Saturday morning (local)
    friday = datetime(2031, 3, 7, 4, 0, tzinfo=UTC)  # 11:00 in Vietnam
    assert add_working(friday, 2 * 3600, Calendar()) == datetime(2031, 3, 8, 2, 0, tzinfo=UTC)
