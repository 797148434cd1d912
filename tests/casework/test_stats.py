"""GET /v1/stats against figures computed by hand on a small seeded set (local days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core import clock
from tests.assertions import assert_error_shape
from tests.casework.conftest import City
from tests.factories import insert_report, staff

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
    assert set(groups) == {"W1", "W2"}
    assert pick(groups["W1"]) == (4, 2, 1, 2, 50.0, 2.0, 20.0, 0.5, 4.0)
    assert pick(groups["W2"]) == (2, 0, 0, 1, 100.0, 6.0, 20.0, 0.0, 4.0)


async def test_by_category(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    await seed(db_conn)
    groups = await stats(wf_client, city.leader[1], "group_by=category")
    assert pick(groups["wf-a"]) == (4, 0, 0, 3, 66.7, 4.0, 20.0, 0.3333, 4.0)
    assert pick(groups["wf-b"]) == (2, 2, 1, 0, None, 1.0, None, None, None)


async def test_by_day_uses_local_days(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    await seed(db_conn)
    groups = await stats(wf_client, city.leader[1], "group_by=day")
    assert {k: g["received"] for k, g in groups.items()} == {"2031-03-02": 3, "2031-03-03": 3}


async def test_scope(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:

    await seed(db_conn)
    _, leader_w1 = await staff(db_conn, "leader", ["W1"])
    groups = await stats(wf_client, leader_w1, "group_by=ward")
    assert set(groups) == {"W1"}
    for area in ("W2", "T1", "NOPE"):
        r = await wf_client.get(f"/v1/stats?area={area}", headers=leader_w1)
        assert_error_shape(r, 404, "area_not_found")
    officer = await wf_client.get("/v1/stats", headers=city.officer_w1[1])
    assert officer.status_code == 403
