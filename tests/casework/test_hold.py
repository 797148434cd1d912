"""A case on hold: waiting on another agency or on the resident, its resolve clock paused.

hold and resume go through the one action service with a given `now`, so that the time on hold is
known: held from Friday 16:00 to Monday 09:00 is 1 h + 1 h 30 of office time (07:30–11:30,
13:00–17:00), and the resolve deadline moves by exactly that.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.access.tokens import Principal
from api.casework import service
from api.core import clock
from tests.assertions import assert_error_shape
from tests.casework.conftest import City
from tests.factories import insert_report

VN = clock.local_zone()


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


async def _row(db_conn: AsyncConnection, code: str) -> Any:
    return (
        await db_conn.execute(
            text(
                "SELECT status, resolve_due_at, hold_started_at, hold_seconds, reporter_id "
                "FROM reports WHERE code = :c"
            ),
            {"c": code},
        )
    ).one()


async def _kinds(db_conn: AsyncConnection, user_id: Any) -> list[str]:
    rows = await db_conn.execute(
        text("SELECT kind FROM notifications WHERE user_id = :u ORDER BY created_at"), {"u": user_id}
    )
    return list(rows.scalars())


@pytest.fixture
async def clock_category(db_conn: AsyncConnection) -> str:
    await db_conn.execute(
        text(
            "INSERT INTO categories (code, name_vi, name_en, ack_hours, resolve_value, resolve_unit, clock) "
            "VALUES ('hold-office', 'Giờ hành chính', 'Office hours', 4, 2, 'days', 'office_hours'), "
            "('hold-urgent', 'Khẩn cấp', 'Urgent', 1, 3, 'hours', 'around_the_clock')"
        )
    )
    return "hold-office"


async def test_hold_pauses_and_resume_moves_the_resolve_deadline(
    wf_client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    session: AsyncSession,
    city: City,
    clock_category: str,
) -> None:
    officer = Principal(city.officer_w1[0], "officer")
    due = local(2031, 3, 12, 17)  # Wednesday 17:00
    r = await insert_report(db_conn, "W1", category=clock_category, status="in_progress", resolve_due_at=due)

    held = await service.act(
        session,
        officer,
        r.code,
        service.Action("hold", reason="waiting_agency", message="Chờ điện lực, gọi 0912345678"),
        now=local(2031, 3, 7, 16),  # Friday 16:00
    )
    assert held.status == "on_hold" and held.allowed == [
        "reject",
        "transfer",
        "merge",
        "assign",
        "comment",
        "resume",
    ]
    row = await _row(db_conn, r.code)
    assert row.hold_started_at == local(2031, 3, 7, 16) and row.resolve_due_at == due

    # while on hold no deadline runs: the queue does not count the case overdue, even past its due
    queue = (await wf_client.get("/v1/officer/queue", headers=city.officer_w1[1])).json()["items"]
    mine = next(i for i in queue if i["code"] == r.code)
    assert mine["status"] == "on_hold" and mine["due_at"] is None and mine["overdue"] is False

    resumed = await service.act(
        session,
        officer,
        r.code,
        service.Action("resume"),
        now=local(2031, 3, 10, 9),  # Monday 09:00
    )
    assert resumed.status == "in_progress"
    row = await _row(db_conn, r.code)
    # 2 h 30 of office time on hold: Wednesday 17:00 + 2 h 30 = Thursday 07:30 + 2 h 30 = 10:00
    assert row.resolve_due_at == local(2031, 3, 13, 10)
    assert row.hold_started_at is None and row.hold_seconds == 65 * 3600  # wall clock, for the figures

    # the timeline says why it waited, in public text through the one masking place
    timeline = (await wf_client.get(f"/v1/reports/{r.code}")).json()["timeline"]
    hold_entry = next(e for e in timeline if e["kind"] == "on_hold")
    assert hold_entry["status"] == "on_hold" and hold_entry["reason"] == "waiting_agency"
    assert "Chờ điện lực" in hold_entry["message"] and "0912345678" not in hold_entry["message"]
    assert [e["kind"] for e in timeline][-2:] == ["on_hold", "resumed"]
    data = (
        await db_conn.execute(
            text("SELECT data FROM report_events WHERE report_id = :r AND kind = 'resumed'"), {"r": r.id}
        )
    ).scalar_one()
    assert data["held_working_seconds"] == 2.5 * 3600 and data["held_seconds"] == 65 * 3600

    # the resident is told of both, like any other change of their case
    assert await _kinds(db_conn, row.reporter_id) == ["on_hold", "resumed"]
    body = (
        await db_conn.execute(
            text("SELECT body_vi FROM notifications WHERE user_id = :u AND kind = 'on_hold'"),
            {"u": row.reporter_id},
        )
    ).scalar_one()
    assert "cơ quan khác" in body and "0912345678" not in body


async def test_around_the_clock_hold_moves_by_elapsed_time(
    db_conn: AsyncConnection, session: AsyncSession, city: City, clock_category: str
) -> None:
    officer = Principal(city.officer_w1[0], "officer")
    due = local(2031, 3, 8, 2)
    r = await insert_report(db_conn, "W1", category="hold-urgent", status="acknowledged", resolve_due_at=due)
    await service.act(
        session, officer, r.code, service.Action("hold", reason="waiting_resident"), now=local(2031, 3, 7, 22)
    )
    await service.act(session, officer, r.code, service.Action("resume"), now=local(2031, 3, 8, 1, 30))
    assert (await _row(db_conn, r.code)).resolve_due_at == local(2031, 3, 8, 5, 30)


async def test_hold_needs_a_reason_and_a_held_case_resumes_before_it_resolves(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1", status="in_progress")
    url, headers = f"/v1/reports/{r.code}/actions", city.officer_w1[1]
    err = assert_error_shape(
        await wf_client.post(url, json={"action": "hold"}, headers=headers), 422, "reason_required"
    )
    assert err["details"]["reasons"] == ["waiting_agency", "waiting_resident"]
    ok = await wf_client.post(url, json={"action": "hold", "reason": "waiting_resident"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["status"] == "on_hold"
    refused = await wf_client.post(url, json={"action": "resolve"}, headers=headers)
    assert_error_shape(refused, 409, "invalid_transition")
    # a case closed while on hold keeps the time it waited
    rejected = await wf_client.post(
        url, json={"action": "reject", "reason": "not_actionable"}, headers=headers
    )
    assert rejected.status_code == 200
    row = await _row(db_conn, r.code)
    assert row.status == "rejected" and row.hold_started_at is None and row.hold_seconds >= 0
