"""The admin's calendar entries (POST/GET/DELETE /v1/admin/holidays): a day off or a working day with
its reason and decision, one entry per date (409 `calendar_conflict`, never a silent rename), and the
year's effective list: the `holidays` package's days and the admin's, each with its source."""

from __future__ import annotations

import holidays
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import staff

DECISION = "Quyết định số 123/QĐ-UBND ngày 02/01/2027"


@pytest.fixture
async def admin(db_conn: AsyncConnection) -> dict[str, str]:
    return (await staff(db_conn, "admin"))[1]


async def post(client: httpx.AsyncClient, admin: dict[str, str], **body: object) -> httpx.Response:
    return await client.post("/v1/admin/holidays", json=body, headers=admin)


async def year(client: httpx.AsyncClient, admin: dict[str, str], y: int, **params: int) -> list[dict]:
    """Every item of the year, page by page."""
    items: list[dict] = []
    cursor = ""
    for _ in range(50):
        r = await client.get(
            "/v1/admin/holidays", params={"year": y, "cursor": cursor, **params}, headers=admin
        )
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("no last page")


async def test_entries_and_the_year_2027_with_sources(client: httpx.AsyncClient, admin: dict) -> None:
    r = await post(
        client,
        admin,
        day="2027-03-13",
        kind="working_day",
        name="Làm bù",
        reason="Làm bù cho ngày nghỉ 15/03",
        decision=DECISION,
    )
    assert r.status_code == 201, r.text
    assert r.json() == {
        "day": "2027-03-13",
        "kind": "working_day",
        "name": "Làm bù",
        "source": "admin",
        "reason": "Làm bù cho ngày nghỉ 15/03",
        "decision": DECISION,
    }
    r = await post(
        client, admin, day="2027-03-15", kind="day_off", name="Nghỉ bù", reason="x", decision=DECISION
    )
    assert r.status_code == 201, r.text

    package = holidays.Vietnam(years=2027, language="vi")
    items = await year(client, admin, 2027, limit=7)  # several pages
    days = [i["day"] for i in items]
    assert days == sorted(days) and len(days) == len(set(days))
    by_day = {i["day"]: i for i in items}
    for d, name in package.items():
        assert by_day[d.isoformat()] == {
            "day": d.isoformat(),
            "kind": "day_off",
            "name": name,
            "source": "holidays",
            "reason": None,
            "decision": None,
        }
    assert by_day["2027-03-13"]["source"] == "admin" and by_day["2027-03-13"]["kind"] == "working_day"
    assert by_day["2027-03-15"]["source"] == "admin" and by_day["2027-03-15"]["decision"] == DECISION
    assert len(items) == len(package) + 2
    assert all(i["day"].startswith("2027-") for i in items)


async def test_a_second_entry_for_a_date_is_409_not_a_rename(client: httpx.AsyncClient, admin: dict) -> None:
    first = await post(client, admin, day="2031-03-12", name="Nghỉ theo quyết định", decision=DECISION)
    assert first.status_code == 201
    again = await post(client, admin, day="2031-03-12", name="Tên khác")
    err = assert_error_shape(again, 409, "calendar_conflict")
    assert err["details"]["existing"] == {
        "kind": "day_off",
        "name": "Nghỉ theo quyết định",
        "source": "admin",
    }
    assert "2031-03-12" in err["message"]
    other_kind = await post(client, admin, day="2031-03-12", kind="working_day", name="Làm")
    assert_error_shape(other_kind, 409, "calendar_conflict")
    en = await client.post(
        "/v1/admin/holidays",
        json={"day": "2031-03-12", "name": "x"},
        headers={**admin, "Accept-Language": "en"},
    )
    assert "already" in en.json()["error"]["message"]
    listed = {i["day"]: i for i in await year(client, admin, 2031)}
    assert listed["2031-03-12"]["name"] == "Nghỉ theo quyết định"


async def test_an_entry_that_changes_nothing_is_409(client: httpx.AsyncClient, admin: dict) -> None:
    """A day off on a day the package already gives off, a working day on an ordinary Tuesday."""
    tet = min(d for d, n in holidays.Vietnam(years=2027).items() if "Lunar New Year" in n)
    err = assert_error_shape(
        await post(client, admin, day=tet.isoformat(), name="Tết"), 409, "calendar_conflict"
    )
    assert err["details"]["existing"]["source"] == "holidays"
    assert_error_shape(
        await post(client, admin, day="2031-03-11", kind="working_day", name="Làm"), 409, "calendar_conflict"
    )
    assert_error_shape(await post(client, admin, day="2031-03-09", name="Chủ nhật"), 409, "calendar_conflict")


async def test_an_admin_entry_overrules_the_package(client: httpx.AsyncClient, admin: dict) -> None:
    """A package day off made a working day by decision; removing the entry gives the package back."""
    cultural = next(d for d, n in holidays.Vietnam(years=2027).items() if "Cultural" in n)
    r = await post(
        client, admin, day=cultural.isoformat(), kind="working_day", name="Làm việc", decision=DECISION
    )
    assert r.status_code == 201, r.text
    listed = {i["day"]: i for i in await year(client, admin, 2027)}
    assert listed[cultural.isoformat()]["source"] == "admin"
    assert (await client.delete(f"/v1/admin/holidays/{cultural}", headers=admin)).status_code == 204
    assert_error_shape(
        await client.delete(f"/v1/admin/holidays/{cultural}", headers=admin), 404, "holiday_not_found"
    )
    listed = {i["day"]: i for i in await year(client, admin, 2027)}
    assert listed[cultural.isoformat()]["source"] == "holidays"


async def test_the_package_make_up_saturday_is_listed(client: httpx.AsyncClient, admin: dict) -> None:
    listed = {i["day"]: i for i in await year(client, admin, 2026)}
    assert listed["2026-08-22"] == {
        "day": "2026-08-22",
        "kind": "working_day",
        "name": "Ngày làm bù (nghỉ ngày 31/08/2026)",
        "source": "holidays",
        "reason": None,
        "decision": None,
    }
    assert listed["2026-08-31"]["kind"] == "day_off"
