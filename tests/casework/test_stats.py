"""GET /v1/stats against figures computed by hand on a small seeded set (local days and weeks): names
beside codes, every ward of the scope and every active category listed (zeros included), empty days and
weeks of the window listed, the map's filters, officers limited to their wards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core import clock
from tests.assertions import assert_error_shape
from tests.casework.conftest import City
from tests.factories import insert_report, resident, staff

VN = clock.local_zone()


def local(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=VN)


async def seed(db_conn: AsyncConnection) -> None:
    for code in ("wf-a", "wf-b"):
        await db_conn.execute(
            text(
                "INSERT INTO categories (code, name_vi, name_en, ack_hours, resolve_value, resolve_unit) "
                "VALUES (:c, 'Thử', 'Test', 4, 3, 'days')"
            ),
            {"c": code},
        )
    now = datetime.now(UTC)

    async def put(ward: str, cat: str, created: str, status: str, **kw: Any) -> None:
        t0 = local(created)
        cols: dict[str, Any] = {"created_at": t0}
        for name, col in (("ack", "acknowledged_at"), ("res", "resolved_at"), ("due", "resolve_due_at")):
            if name in kw:
                cols[col] = t0 + timedelta(hours=kw.pop(name))
        cols.update(kw)
        await insert_report(db_conn, ward, category=cat, status=status, **cols)

    # W1
    await put("W1", "wf-a", "2031-03-02T08:00", "closed", ack=2, res=10, due=24, rating=5)  # a: on time
    await put(
        "W1", "wf-a", "2031-03-02T09:00", "resolved", ack=4, res=30, due=24, reopen_count=1, rating=3
    )  # b
    await put(
        "W1", "wf-b", "2031-03-03T10:00", "in_progress", ack=1, resolve_due_at=now - timedelta(hours=1)
    )  # c
    await put("W1", "wf-b", "2031-03-03T23:30", "new", ack_due_at=now + timedelta(days=3))  # d (16:30 UTC)
    # W2
    await put("W2", "wf-a", "2031-03-02T12:00", "closed", ack=6, res=20, due=48, rating=4)  # e
    await put("W2", "wf-a", "2031-03-03T07:00", "rejected")  # f
    # outside the window (by local day; g is still 03-03 in UTC)
    await put("W1", "wf-a", "2031-03-04T00:30", "new")  # g
    await put("W1", "wf-a", "2031-03-01T23:59", "new")  # h


WINDOW = "from=2031-03-02&to=2031-03-03"


async def stats(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> dict[str, Any]:
    r = await client.get(f"/v1/stats?{WINDOW}&{query}", headers=headers)
    assert r.status_code == 200, r.text
    return {g["key"]: g for g in r.json()["groups"]}


def pick(g: dict[str, Any]) -> tuple[Any, ...]:
    return (
        g["received"],
        g["open"],
        g["overdue"],
        g["resolved"],
        g["resolved_on_time_pct"],
        g["median_ack_hours"],
        g["median_resolve_hours"],
        g["reopen_rate"],
        g["mean_rating"],
    )


async def test_by_ward(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    await seed(db_conn)
    groups = await stats(wf_client, city.leader[1], "group_by=ward&area=T1")
    assert list(groups) == ["W1", "W2", "W3"]  # W3: no report, listed with zeros
    assert pick(groups["W1"]) == (4, 2, 1, 2, 50.0, 2.0, 20.0, 0.5, 4.0)
    assert pick(groups["W2"]) == (2, 0, 0, 1, 100.0, 6.0, 20.0, 0.0, 4.0)
    assert pick(groups["W3"]) == (0, 0, 0, 0, None, None, None, None, None)
    assert [g["name"] for g in groups.values()] == ["Phường Một", "Phường Hai", "Phường Ba"]
    assert groups["W3"]["ratings"] == 0 and groups["W3"]["name_vi"] == "Phường Ba"


async def test_total_and_ack_on_time(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    await seed(db_conn)
    r = await wf_client.get(f"/v1/stats?{WINDOW}&group_by=ward", headers=city.leader[1])
    body = r.json()
    assert body["total"]["received"] == 6 and body["total"]["resolved"] == 3
    assert body["total"]["median_resolve_hours"] == 20.0 and body["total"]["mean_rating"] == 4.0
    # no ack deadline was set on the seeded cases: acknowledged, none on time
    assert (body["total"]["acknowledged"], body["total"]["acknowledged_on_time_pct"]) == (4, 0.0)


async def test_by_category(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    await seed(db_conn)
    groups = await stats(wf_client, city.leader[1], "group_by=category")
    assert pick(groups["wf-a"]) == (4, 0, 0, 3, 66.7, 4.0, 20.0, 0.3333, 4.0)
    assert pick(groups["wf-b"]) == (2, 2, 1, 0, None, 1.0, None, None, None)
    assert (groups["wf-a"]["name_vi"], groups["wf-a"]["name_en"]) == ("Thử", "Test")
    # every active category is listed, those without a report with zeros
    active = {c for (c,) in (await db_conn.execute(text("SELECT code FROM categories WHERE active"))).all()}
    assert set(groups) == active and len(active) > 2
    others = [g for k, g in groups.items() if k not in ("wf-a", "wf-b")]
    assert all(g["received"] == 0 and g["name_vi"] for g in others)
    # the filter names categories: those alone
    named = await stats(wf_client, city.leader[1], "group_by=category&category=wf-b")
    assert list(named) == ["wf-b"] and named["wf-b"]["received"] == 2


async def test_by_day_uses_local_days(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    await seed(db_conn)
    groups = await stats(wf_client, city.leader[1], "group_by=day")
    assert {k: g["received"] for k, g in groups.items()} == {"2031-03-02": 3, "2031-03-03": 3}
    # empty days of the window are listed
    r = await wf_client.get("/v1/stats?from=2031-02-28&to=2031-03-05&group_by=day", headers=city.leader[1])
    days = [(g["key"], g["received"]) for g in r.json()["groups"]]
    assert days == [
        ("2031-02-28", 0),
        ("2031-03-01", 1),  # h: 23:59 local
        ("2031-03-02", 3),
        ("2031-03-03", 3),
        ("2031-03-04", 1),  # g: 00:30 local, still the 3rd in UTC
        ("2031-03-05", 0),
    ]
    assert r.json()["groups"][0]["start"] == r.json()["groups"][0]["end"] == "2031-02-28"


async def test_by_week(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    """Local weeks from Monday: 2031-03-02 is a Sunday, 2031-03-03 a Monday."""
    await seed(db_conn)
    r = await wf_client.get("/v1/stats?from=2031-02-27&to=2031-03-20&group_by=week", headers=city.leader[1])
    assert r.status_code == 200, r.text
    weeks = [(g["key"], g["start"], g["end"], g["received"]) for g in r.json()["groups"]]
    assert weeks == [
        ("2031-02-24", "2031-02-24", "2031-03-02", 4),  # h (03-01) and a, b, e (03-02)
        ("2031-03-03", "2031-03-03", "2031-03-09", 4),  # c, d, f (03-03) and g (03-04)
        ("2031-03-10", "2031-03-10", "2031-03-16", 0),
        ("2031-03-17", "2031-03-17", "2031-03-23", 0),
    ]
    w = {g["key"]: g for g in r.json()["groups"]}
    assert w["2031-02-24"]["median_resolve_hours"] == 20.0 and w["2031-03-03"]["open"] == 3


async def test_map_filters(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    """status, category, ward, overdue, period: the filters of the map and the exports."""
    await seed(db_conn)
    groups = await stats(wf_client, city.leader[1], "group_by=ward&status=open")
    assert {k: g["received"] for k, g in groups.items()} == {"W1": 2, "W2": 0, "W3": 0}
    groups = await stats(wf_client, city.leader[1], "group_by=ward&overdue=true")
    assert {k: g["received"] for k, g in groups.items()} == {"W1": 1, "W2": 0, "W3": 0}
    groups = await stats(wf_client, city.leader[1], "group_by=ward&ward=W2&category=wf-a")
    assert {k: g["received"] for k, g in groups.items()} == {"W2": 2}
    r = await wf_client.get("/v1/stats?period=7d&group_by=day", headers=city.leader[1])
    assert r.status_code == 200, r.text
    today = clock.local_date(datetime.now(UTC))
    assert [g["key"] for g in r.json()["groups"]] == [
        (today - timedelta(days=6 - i)).isoformat() for i in range(7)
    ]
    bad = await wf_client.get("/v1/stats?period=forever", headers=city.leader[1])
    assert_error_shape(bad, 400, "invalid_parameter")


async def test_scope(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:

    await seed(db_conn)
    _, leader_w1 = await staff(db_conn, "leader", ["W1"])
    groups = await stats(wf_client, leader_w1, "group_by=ward")
    assert set(groups) == {"W1"}
    for area in ("W2", "T1", "NOPE"):
        r = await wf_client.get(f"/v1/stats?area={area}", headers=leader_w1)
        assert_error_shape(r, 404, "area_not_found")


async def test_officers_see_their_wards(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    await seed(db_conn)
    groups = await stats(wf_client, city.officer_w1[1], "group_by=ward")
    assert list(groups) == ["W1"] and groups["W1"]["received"] == 4
    cats = await stats(wf_client, city.officer_w1[1], "group_by=category")
    assert cats["wf-a"]["received"] == 2 and cats["wf-b"]["received"] == 2
    for area in ("W2", "T1"):
        r = await wf_client.get(f"/v1/stats?area={area}", headers=city.officer_w1[1])
        assert_error_shape(r, 404, "area_not_found")
    _, someone = await resident(db_conn)
    assert (await wf_client.get("/v1/stats", headers=someone)).status_code == 403


async def test_the_waits_on_hold_show_in_the_figures(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    """A case waiting now (two hours so far) and one that waited an hour before it was resolved: one on
    hold, three hours waited in the ward; nothing in the other ward."""
    now = datetime.now(UTC)
    await insert_report(db_conn, "W1", status="on_hold", hold_started_at=now - timedelta(hours=2))
    await insert_report(db_conn, "W1", status="resolved", resolved_at=now, hold_seconds=3600)
    await insert_report(db_conn, "W2", status="new")
    r = await wf_client.get("/v1/stats", params={"group_by": "ward"}, headers=city.leader[1])
    assert r.status_code == 200, r.text
    by_ward = {g["key"]: g for g in r.json()["groups"]}
    assert by_ward["W1"]["on_hold"] == 1 and abs(by_ward["W1"]["hold_hours"] - 3.0) < 0.1
    assert by_ward["W2"]["on_hold"] == 0 and by_ward["W2"]["hold_hours"] == 0
