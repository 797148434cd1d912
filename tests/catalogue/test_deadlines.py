"""Deadlines on the working calendar (api/catalogue/deadlines.py): the `holidays` package's Vietnam
calendar, the admin's entries (set through the admin API), office hours or around the clock.

Office hours are the settings' defaults: 07:30–11:30 and 13:00–17:00, Monday to Friday, so a working
day is worth 8 working hours. All instants below are written in local time (api.core.clock). The
package's days are read from the package, not written out here: the tests say which of them a
deadline must skip.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import holidays
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from api.catalogue import deadlines
from api.core import clock
from api.core.db import Database
from tests.factories import staff

VN = clock.local_zone()


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=VN)


def tet(year: int) -> list[date]:
    """The package's Tết days off of `year` (its English names say "Lunar New Year")."""
    return sorted(d for d, n in holidays.Vietnam(years=year).items() if "Lunar New Year" in n)


def weekday_after(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def weekday_before(day: date) -> date:
    day -= timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


async def category(client: httpx.AsyncClient, admin: dict[str, str], code: str, **kw: object) -> None:
    body = {
        "code": code,
        "name_vi": "Thử hạn",
        "name_en": "Deadline test",
        "ack_hours": 4,
        "resolve_value": 2,
    }
    r = await client.post("/v1/admin/categories", json={**body, **kw}, headers=admin)
    assert r.status_code == 201, r.text


async def entry(
    client: httpx.AsyncClient, admin: dict[str, str], day: str, kind: str = "day_off", name: str = "Nghỉ"
) -> None:
    body = {"day": day, "kind": kind, "name": name, "reason": "thử", "decision": "Quyết định số 1/QĐ-UBND"}
    r = await client.post("/v1/admin/holidays", json=body, headers=admin)
    assert r.status_code == 201, r.text


async def due(database: Database, code: str, start: datetime) -> tuple[datetime, datetime]:
    """Computed in a session of its own, as a request would (after the admin changes committed)."""
    async with database.session() as session:
        ack, resolve = await deadlines.due_dates(session, code, start)
    return ack.astimezone(VN), resolve.astimezone(VN)


async def ack_by(database: Database, code: str, start: datetime) -> datetime:
    return (await due(database, code, start))[0]


async def resolve_by(database: Database, code: str, start: datetime) -> datetime:
    return (await due(database, code, start))[1]


@pytest.fixture
async def admin(db_conn: AsyncConnection) -> dict[str, str]:
    return (await staff(db_conn, "admin"))[1]


# March 2031 has no public holiday: Mon 3, Tue 4, Wed 5, Thu 6, Fri 7, Sat 8, Sun 9, Mon 10, Tue 11.


async def test_a_report_at_night_is_due_next_working_morning(
    client: httpx.AsyncClient, database: Database, admin: dict
) -> None:
    """Tuesday 20:13, 4 working hours to acknowledge. The office closed at 17:00, so nothing counts
    until Wednesday 07:30; 07:30–11:30 is the 4 hours: due Wednesday 11:30 (not 00:13 on the wall
    clock). On a Friday night the weekend counts for nothing either: Monday 11:30."""
    await category(client, admin, "dl-night")
    assert await ack_by(database, "dl-night", local(2031, 3, 4, 20, 13)) == local(2031, 3, 5, 11, 30)
    assert await ack_by(database, "dl-night", local(2031, 3, 7, 20, 13)) == local(2031, 3, 10, 11, 30)
    # inside office hours: 10:00 + 4 h = 1 h 30 before lunch, 2 h 30 after it: 15:30
    assert await ack_by(database, "dl-night", local(2031, 3, 4, 10)) == local(2031, 3, 4, 15, 30)
    # during lunch the clock waits for 13:00
    assert await ack_by(database, "dl-night", local(2031, 3, 4, 12)) == local(2031, 3, 4, 17)


async def test_working_days_are_office_days(
    client: httpx.AsyncClient, database: Database, admin: dict
) -> None:
    """A working day is 8 working hours: Thursday 09:00 + 2 → Friday 09:00, (weekend), Monday 09:00."""
    await category(client, admin, "dl-two")
    assert await resolve_by(database, "dl-two", local(2031, 3, 3)) == local(2031, 3, 5)
    assert await resolve_by(database, "dl-two", local(2031, 3, 6)) == local(2031, 3, 10)
    assert await resolve_by(database, "dl-two", local(2031, 3, 4, 15, 30)) == local(2031, 3, 6, 15, 30)


async def test_tet_2026_from_the_package(client: httpx.AsyncClient, database: Database, admin: dict) -> None:
    """The package's Tết 2026 (a working week of days off, with a weekend on each side): a case from
    the last afternoon before it waits the whole break out."""
    days = tet(2026)
    assert len(days) >= 5 and all(not deadlines.is_working_day(d) for d in days)
    before, after = weekday_before(days[0]), weekday_after(days[-1])
    assert (before.weekday(), after.weekday()) == (4, 0)  # Friday before, Monday after
    await category(client, admin, "dl-tet")
    start = at(before, 16)
    # 1 h on Friday (16:00–17:00), then 3 h from 07:30 on the first day back
    assert await ack_by(database, "dl-tet", start) == at(after, 10, 30)
    # 2 working days = 16 h: 1 h Friday, 8 h the first day back, 7 h the next: 16:00
    assert await resolve_by(database, "dl-tet", start) == at(weekday_after(after), 16)
    # every day of the break is skipped: none of it was counted
    async with database.session() as s:
        rules = await deadlines.category_rules(s, "dl-tet", start)
    assert rules is not None
    span = [before + timedelta(days=i) for i in range(1, (after - before).days)]
    assert set(days) <= set(span) and not any(rules.calendar.is_working_day(d) for d in span)


async def test_tet_2027_spanning_a_weekend(
    client: httpx.AsyncClient, database: Database, admin: dict
) -> None:
    """Tết 2027 runs across a weekend (the package's days: Thursday to the next Wednesday)."""
    days = tet(2027)
    assert days[0].weekday() < 5 and any(d.weekday() >= 5 for d in days)
    await category(client, admin, "dl-tet27")
    before = weekday_before(days[0])
    first_back = weekday_after(days[-1])
    assert first_back not in days and first_back.weekday() < 5
    # 2 working days from 10:00 the day before: the first day back 10:00, the next 10:00
    assert await resolve_by(database, "dl-tet27", at(before, 10)) == at(weekday_after(first_back), 10)
    # a report during Tết: nothing counts before the first day back
    assert await ack_by(database, "dl-tet27", at(days[2], 20, 13)) == at(first_back, 11, 30)


async def test_make_up_saturday_counts_as_working(
    client: httpx.AsyncClient, database: Database, admin: dict
) -> None:
    """A make-up Saturday ("làm bù") is a working day: the package's own (22/08/2026, worked for the
    day off on Monday 31/08), and one an admin enters with its decision."""
    await category(client, admin, "dl-sat")
    saturday = date(2026, 8, 22)
    assert saturday.weekday() == 5 and deadlines.package_working_day(saturday) is not None
    # Friday 16:00 + 4 h: 1 h Friday, 3 h Saturday morning
    assert await ack_by(database, "dl-sat", local(2026, 8, 21, 16)) == local(2026, 8, 22, 10, 30)

    assert await ack_by(database, "dl-sat", local(2031, 3, 7, 16)) == local(2031, 3, 10, 10, 30)
    await entry(client, admin, "2031-03-08", "working_day", "Làm bù cho ngày 2/5")
    assert await ack_by(database, "dl-sat", local(2031, 3, 7, 16)) == local(2031, 3, 8, 10, 30)
    assert (await client.delete("/v1/admin/holidays/2031-03-08", headers=admin)).status_code == 204
    assert await ack_by(database, "dl-sat", local(2031, 3, 7, 16)) == local(2031, 3, 10, 10, 30)


async def test_substitute_day_off(client: httpx.AsyncClient, database: Database, admin: dict) -> None:
    """A substitute day off ("nghỉ bù") is skipped: the package's Monday 31/08/2026 before National Day
    (1–2/09), and one an admin enters."""
    await category(client, admin, "dl-sub")
    assert deadlines.package_day_off(date(2026, 8, 31)) is not None
    # Friday 28/08 16:00 + 4 h: 1 h Friday; Sat, Sun, Mon 31 (substitute), Tue 1, Wed 2 off: Thursday
    assert await ack_by(database, "dl-sub", local(2026, 8, 28, 16)) == local(2026, 9, 3, 10, 30)

    await entry(client, admin, "2031-03-10", "day_off", "Nghỉ bù")
    assert await ack_by(database, "dl-sub", local(2031, 3, 7, 16)) == local(2031, 3, 11, 10, 30)


async def test_around_the_clock(client: httpx.AsyncClient, database: Database, admin: dict) -> None:
    """An urgent category counts wall-clock time, nights, weekends and Tết included."""
    await category(
        client,
        admin,
        "dl-urgent",
        ack_hours=1,
        resolve_value=3,
        resolve_unit="hours",
        clock="around_the_clock",
    )
    night_of_tet = at(tet(2027)[2], 20, 13)
    ack, resolve = await due(database, "dl-urgent", night_of_tet)
    assert (ack, resolve) == (night_of_tet + timedelta(hours=1), night_of_tet + timedelta(hours=3))
    await category(client, admin, "dl-urgent-days", resolve_value=1, clock="around_the_clock")
    assert await resolve_by(database, "dl-urgent-days", night_of_tet) == night_of_tet + timedelta(days=1)


async def test_seeded_urgent_categories_run_around_the_clock(client: httpx.AsyncClient, admin: dict) -> None:
    """Dangerous incidents are taken up within hours, whenever they happen (3 hours at most)."""
    rows = {c["code"]: c for c in (await client.get("/v1/admin/categories", headers=admin)).json()["items"]}
    listed = {code: c["clock"] for code, c in rows.items()}
    urgent = {"ngap-nuoc", "cay-gay-do", "mat-dien", "den-giao-thong"}
    assert {c for c, k in listed.items() if k == "around_the_clock"} == urgent
    assert all(rows[c]["ack_hours"] <= 3 for c in urgent)
    assert listed["xay-dung-trai-phep"] == "office_hours"
    public = (await client.get("/v1/categories")).json()["items"]
    assert all(c["deadlines"]["clock"] in deadlines.CLOCKS for c in public)


async def test_hour_deadlines_and_changes(client: httpx.AsyncClient, database: Database, admin: dict) -> None:
    await category(client, admin, "dl-hours", ack_hours=4, resolve_value=12, resolve_unit="hours")
    start = local(2031, 3, 3, 10)
    ack, resolve = await due(database, "dl-hours", start)
    assert ack == local(2031, 3, 3, 15, 30)
    # 12 working hours: 5 h 30 on Monday, 6 h 30 on Tuesday from 07:30 (4 h to 11:30, 2 h 30 to 15:30)
    assert resolve == local(2031, 3, 4, 15, 30)
    # a category's new deadline applies from then on
    r = await client.patch("/v1/admin/categories/dl-hours", json={"ack_hours": 1}, headers=admin)
    assert r.status_code == 200
    assert await ack_by(database, "dl-hours", start) == local(2031, 3, 3, 11)


async def test_the_calendar_counts_local_dates(
    client: httpx.AsyncClient, database: Database, admin: dict
) -> None:
    """Monday 06:00 in Hà Nội is still Sunday in UTC: the calendar must count in local dates."""
    await category(client, admin, "dl-one", resolve_value=1)
    await entry(client, admin, "2031-03-10")  # that Monday off
    start = local(2031, 3, 10, 6)
    assert start.astimezone(UTC).weekday() == 6  # Sunday in UTC
    assert await resolve_by(database, "dl-one", start) == local(2031, 3, 11, 17)


def test_working_time_between_two_instants() -> None:
    """What a hold costs: Friday 16:00 to Monday 09:00 is 1 h + 1 h 30 of office time."""
    cal = deadlines.Calendar()
    held = deadlines.working_seconds(local(2031, 3, 7, 16), local(2031, 3, 10, 9), cal)
    assert held == 2.5 * 3600
    assert deadlines.add_working(local(2031, 3, 7, 17), held, cal) == local(2031, 3, 10, 10)
    around = deadlines.working_seconds(
        local(2031, 3, 7, 16), local(2031, 3, 10, 9), cal, clock_kind=deadlines.AROUND_THE_CLOCK
    )
    assert around == 65 * 3600
