"""The one clock (api/core/clock.py): the local zone comes from PHANANH_TIMEZONE and every local rule
follows it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from api.catalogue.deadlines import add_working_days
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
    # Vietnam: Saturday 03:00 → next working day Monday, 03:00 local
    assert add_working_days(friday_night_utc, 1, ()) == datetime(2031, 3, 9, 20, 0, tzinfo=UTC)
    clock.configure(Settings(timezone="UTC"))
    assert clock.local_date(friday_night_utc) == date(2031, 3, 7)
    assert clock.local_midnight(date(2031, 3, 7)) == datetime(2031, 3, 7, tzinfo=UTC)
    assert add_working_days(friday_night_utc, 1, ()) == datetime(2031, 3, 10, 20, 0, tzinfo=UTC)
    assert local_time(friday_night_utc) == "20:00 07/03"
