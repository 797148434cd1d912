"""The factories (tests/factories/) make what they say: every status through the services, people
whose headers the app accepts, a photo on a report."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core.status import ReportStatus, values
from tests.factories import STEPS, make_city, make_report, photo_report, resident, staff

STATUSES = values(ReportStatus)

HISTORY = {
    "new": ["created"],
    "acknowledged": ["created", "acknowledged"],
    "in_progress": ["created", "acknowledged", "started"],
    "resolved": ["created", "acknowledged", "started", "resolved"],
    "closed": ["created", "acknowledged", "started", "resolved", "confirmed"],
    "rejected": ["created", "rejected"],
    "duplicate": ["created", "merged"],
    "on_hold": ["created", "acknowledged", "started", "on_hold"],
}


def test_every_status_has_a_way() -> None:
    assert list(STEPS) == list(STATUSES) == list(HISTORY)


@pytest.mark.parametrize("status", STATUSES)
async def test_make_report_reaches_each_status_through_the_services(
    db_conn: AsyncConnection, status: str
) -> None:
    await make_city(db_conn)
    report = await make_report(db_conn, "W2", status=status)
    row = (
        await db_conn.execute(
            text("SELECT status, ward_code, duplicate_of FROM reports WHERE id = :id"), {"id": report.id}
        )
    ).one()
    assert (row.status, row.ward_code) == (status, "W2")
    assert (row.duplicate_of is not None) == (status == "duplicate")
    kinds = await db_conn.scalars(
        text("SELECT kind FROM report_events WHERE report_id = :id ORDER BY created_at, id"),
        {"id": report.id},
    )
    assert sorted(kinds) == sorted(HISTORY[status])


async def test_people_are_accepted_by_the_app(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    people = {
        "resident": [await resident(client), await resident(db_conn)],
        "officer": [await staff(db_conn, "officer", ["W1"])],
        "admin": [await staff(db_conn, "admin")],
    }
    for role, persons in people.items():
        for person in persons:
            me = await client.get("/v1/me", headers=person.headers)
            assert me.status_code == 200, me.text
            assert me.json()["id"] == str(person.id) and me.json()["role"] == role
    installs = await db_conn.scalar(
        text("SELECT count(*) FROM app_installs WHERE user_id = ANY(:ids)"),
        {"ids": [p.id for p in people["resident"]]},
    )
    assert installs == 2  # both ways register an app install
    assert (await resident(client, "same")).id == (await resident(client, "same")).id  # a fixed device


async def test_photo_report_attaches_the_upload(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    pid, code = await photo_report(client, me)
    mine = (await client.get(f"/v1/reports/{code}", headers=me)).json()["media"]
    assert [m["id"] for m in mine] == [str(pid)]
