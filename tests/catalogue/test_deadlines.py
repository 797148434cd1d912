"""Deadlines on the working calendar (api/reports/deadlines.py), with holidays set through the admin API.

Acknowledge within `ack_hours`; resolve within `resolve_value` working days (weekends and holidays
skipped, local dates) or hours. All instants below are written in local time (api.core.clock).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


async def holiday(client: httpx.AsyncClient, admin: dict[str, str], day: str, name: str = "Nghỉ lễ") -> None:
    r = await client.post("/v1/admin/holidays", json={"day": day, "name": name}, headers=admin)
    assert r.status_code == 201, r.text


async def due(database: Database, code: str, start: datetime) -> tuple[datetime, datetime]:
    """Computed in a session of its own, as a request would (after the admin changes committed)."""
    async with database.session() as session:
        ack, resolve = await deadlines.due_dates(session, code, start)
    return ack, resolve


async def resolve_by(database: Database, code: str, start: datetime) -> datetime:
    return (await due(database, code, start))[1].astimezone(VN)


@pytest.fixture
async def admin(db_conn: AsyncConnection) -> dict[str, str]:
    return (await staff(db_conn, "admin"))[1]


# March 2031: Mon 3, Tue 4, Wed 5, Thu 6, Fri 7, Sat 8, Sun 9, Mon 10, Tue 11, Wed 12.


async def test_working_days_within_a_week(client: httpx.AsyncClient, database: Database, admin: dict) -> None:
    await category(client, admin, "dl-two")
    assert await resolve_by(database, "dl-two", local(2031, 3, 3)) == local(2031, 3, 5)
    assert await resolve_by(database, "dl-two", local(2031, 3, 4, 15, 30)) == local(2031, 3, 6, 15, 30)


async def test_weekend_is_skipped(client: httpx.AsyncClient, database: Database, admin: dict) -> None:
    await category(client, admin, "dl-two")
    await category(client, admin, "dl-one", resolve_value=1)
    # Thursday + 2 working days: Friday, (Sat, Sun), Monday
    assert await resolve_by(database, "dl-two", local(2031, 3, 6)) == local(2031, 3, 10)
    # Friday afternoon + 1: Monday afternoon
    assert await resolve_by(database, "dl-one", local(2031, 3, 7, 16)) == local(2031, 3, 10, 16)
    # Friday + 5 working days: the next Friday
    await category(client, admin, "dl-five", resolve_value=5)
    assert await resolve_by(database, "dl-five", local(2031, 3, 7)) == local(2031, 3, 14)


async def test_holiday_is_skipped_and_removing_it_counts_again(
    client: httpx.AsyncClient, database: Database, admin: dict
) -> None:
    await category(client, admin, "dl-two")
    before = await resolve_by(database, "dl-two", local(2031, 3, 6))
    assert before == local(2031, 3, 10)
    await holiday(client, admin, "2031-03-10")  # the Monday off: Friday, Tuesday
    assert await resolve_by(database, "dl-two", local(2031, 3, 6)) == local(2031, 3, 11)
    # a holiday on a Saturday changes nothing
    await holiday(client, admin, "2031-03-08")
    assert await resolve_by(database, "dl-two", local(2031, 3, 6)) == local(2031, 3, 11)
    r = await client.delete("/v1/admin/holidays/2031-03-10", headers=admin)
    assert r.status_code == 204
    assert await resolve_by(database, "dl-two", local(2031, 3, 6)) == local(2031, 3, 10)


async def test_long_holiday_next_to_a_weekend(
    client: httpx.AsyncClient, database: Database, admin: dict
) -> None:
    """Tết-like break: Mon 27 Jan – Fri 31 Jan 2031 off; a case from Friday 24 Jan + 2 working days."""
    await category(client, admin, "dl-two")
    for day in range(27, 32):
        await holiday(client, admin, f"2031-01-{day:02d}", "Tết Nguyên đán")
    # Fri 24 → (Sat 25, Sun 26, Mon 27 … Fri 31 off, Sat 1, Sun 2) → Mon 3 Feb, Tue 4 Feb
    assert await resolve_by(database, "dl-two", local(2031, 1, 24, 10)) == local(2031, 2, 4, 10)


async def test_holidays_are_local_dates(client: httpx.AsyncClient, database: Database, admin: dict) -> None:
    """Monday 06:00 in Hà Nội is still Sunday in UTC: the calendar must count in local dates."""
    await category(client, admin, "dl-one", resolve_value=1)
    await holiday(client, admin, "2031-03-11")  # Tuesday off
    start = local(2031, 3, 10, 6)
    assert start.astimezone(UTC).weekday() == 6  # Sunday in UTC
    assert await resolve_by(database, "dl-one", start) == local(2031, 3, 12, 6)


async def test_ack_and_hour_deadlines(client: httpx.AsyncClient, database: Database, admin: dict) -> None:
    await category(client, admin, "dl-hours", ack_hours=4, resolve_value=12, resolve_unit="hours")
    start = local(2031, 3, 3, 10)
    ack, resolve = await due(database, "dl-hours", start)
    assert ack == start + timedelta(hours=4)
    assert resolve == start + timedelta(hours=12)
    # a category's new deadline applies from then on
    r = await client.patch("/v1/admin/categories/dl-hours", json={"ack_hours": 1}, headers=admin)
    assert r.status_code == 200
    ack, _ = await due(database, "dl-hours", start)
    assert ack == start + timedelta(hours=1)
