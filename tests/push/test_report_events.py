"""Who is told what: events appended over real report rows, and the deadline-warning step."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.core.db import Database
from api.core.settings import Settings
from api.notifications.jobs import deadline_warnings
from tests.factories import insert_report, make_city, report_event, resident, staff


@pytest.fixture
async def city(db_conn: AsyncConnection) -> AsyncIterator[None]:
    await make_city(db_conn)
    yield


async def inbox(session: AsyncSession, user: uuid.UUID) -> list[tuple[str, str, str]]:
    rows = await session.execute(
        text(
            "SELECT kind, title_en, body_vi FROM notifications WHERE user_id = :u ORDER BY created_at, kind"
        ),
        {"u": user},
    )
    return [tuple(r) for r in rows]


async def test_public_events_reach_reporter_and_followers_not_the_actor(
    city: None, db_conn: AsyncConnection, session: AsyncSession
) -> None:
    reporter = (await resident(session)).id
    follower = (await resident(session, locale="en")).id
    officer, _ = await staff(db_conn, "officer", ["W1"])
    report = await insert_report(db_conn, "W1", reporter_id=reporter)
    await session.execute(
        text("INSERT INTO report_follows (report_id, user_id) VALUES (:r, :u)"),
        {"r": report.id, "u": follower},
    )

    await report_event(session, report, "resolved", actor=officer, status="resolved", message="Đã vá ổ gà")
    await report_event(session, report, "commented", actor=officer, public=False, message="ghi chú nội bộ")
    await report_event(session, report, "assigned", actor=officer)

    for user in (reporter, follower):
        [(kind, title_en, body_vi)] = await inbox(session, user)
        assert (kind, title_en) == ("resolved", "Resolved")
        assert body_vi == f"{report.code}: Đã vá ổ gà"
    assert await inbox(session, officer) == []
    data = await session.scalar(text("SELECT data FROM notifications WHERE user_id = :u"), {"u": reporter})
    assert data["report_code"] == report.code and data["status"] == "resolved"


async def test_rejection_carries_the_reason_and_a_merge_names_the_survivor(
    city: None, db_conn: AsyncConnection, session: AsyncSession
) -> None:
    reporter = (await resident(session)).id
    officer, _ = await staff(db_conn, "officer", ["W1"])
    dup = await insert_report(db_conn, "W1", reporter_id=reporter)
    main = await insert_report(db_conn, "W1")
    await report_event(
        session, dup, "rejected", actor=officer, status="rejected", reason="Không thuộc thẩm quyền"
    )
    await report_event(session, dup, "merged", actor=officer, status="duplicate", data={"into": str(main.id)})
    got = {kind: body for kind, _, body in await inbox(session, reporter)}
    assert set(got) == {"rejected", "merged"}
    assert got["rejected"] == f"{dup.code}: Không thuộc thẩm quyền"
    assert main.code in got["merged"]


async def test_officers_of_the_ward_hear_of_new_transferred_and_reopened_cases(
    city: None, db_conn: AsyncConnection, session: AsyncSession
) -> None:
    w1, _ = await staff(db_conn, "officer", ["W1"])
    w2, _ = await staff(db_conn, "officer", ["W2"])
    province, _ = await staff(db_conn, "officer", ["T1"])  # scope above the ward covers it
    leader, _ = await staff(db_conn, "leader", ["T1"])
    reporter = (await resident(session)).id
    report = await insert_report(db_conn, "W1", reporter_id=reporter)

    await report_event(session, report, "created", actor=reporter, status="new")
    assert [k for k, _, _ in await inbox(session, w1)] == ["officer_created"]
    assert [k for k, _, _ in await inbox(session, province)] == ["officer_created"]
    assert await inbox(session, w2) == [] and await inbox(session, leader) == []
    assert await inbox(session, reporter) == []  # not told about their own report's creation

    await session.execute(text("UPDATE reports SET ward_code = 'W2' WHERE id = :r"), {"r": report.id})
    await report_event(
        session, report, "transferred", actor=w1, status="new", data={"from_ward": "W1", "to_ward": "W2"}
    )
    assert [k for k, _, _ in await inbox(session, w2)] == ["officer_transferred"]
    assert [k for k, _, _ in await inbox(session, w1)] == ["officer_created"]  # the actor: nothing new
    assert [k for k, _, _ in await inbox(session, reporter)] == ["transferred"]

    await report_event(session, report, "reopened", actor=reporter, status="new")
    assert sorted(k for k, _, _ in await inbox(session, w2)) == ["officer_reopened", "officer_transferred"]


async def test_followers_of_a_hidden_case_are_not_told(
    city: None, db_conn: AsyncConnection, session: AsyncSession
) -> None:
    reporter, follower = (await resident(session)).id, (await resident(session)).id
    report = await insert_report(db_conn, "W1", reporter_id=reporter, visibility="hidden")
    await session.execute(
        text("INSERT INTO report_follows (report_id, user_id) VALUES (:r, :u)"),
        {"r": report.id, "u": follower},
    )
    await report_event(session, report, "acknowledged", status="acknowledged")
    assert len(await inbox(session, reporter)) == 1 and await inbox(session, follower) == []


async def test_deadline_warnings_are_sent_once_per_stage(
    city: None, db_conn: AsyncConnection, session: AsyncSession, database: Database, settings: Settings
) -> None:
    officer, _ = await staff(db_conn, "officer", ["W1"])
    other, _ = await staff(db_conn, "officer", ["W3"])
    late = await insert_report(db_conn, "W1")
    soon = await insert_report(db_conn, "W1")
    calm = await insert_report(db_conn, "W1")
    await session.execute(
        text(
            "UPDATE reports SET ack_due_at = now() + make_interval(hours => h.h), "
            "resolve_due_at = now() + interval '5 days' "
            "FROM (VALUES (CAST(:a AS uuid), -1), (CAST(:b AS uuid), 1), (CAST(:c AS uuid), 48)) AS h(id, h) "
            "WHERE reports.id = h.id"
        ),
        {"a": str(late.id), "b": str(soon.id), "c": str(calm.id)},
    )
    await session.commit()

    assert await deadline_warnings(database, settings) == 2
    assert await deadline_warnings(database, settings) == 0  # idempotent
    got = await session.execute(
        text("SELECT report_code, kind FROM notifications WHERE user_id = :u ORDER BY kind"), {"u": officer}
    )
    assert sorted(tuple(r) for r in got) == sorted(
        [(late.code, "deadline_ack_passed"), (soon.code, "deadline_ack_near")]
    )
    assert await inbox(session, other) == []

    # the near one's deadline passes: one more warning, for that stage only
    await session.execute(
        text("UPDATE reports SET ack_due_at = now() - interval '1 minute' WHERE id = :r"), {"r": soon.id}
    )
    await session.commit()
    assert await deadline_warnings(database, settings) == 1
    assert await deadline_warnings(database, settings) == 0
    # acknowledged cases are no longer watched for the acknowledge deadline
    await session.execute(
        text(
            "UPDATE reports SET status = 'acknowledged', ack_due_at = now() - interval '2 hours' WHERE id = :r"
        ),
        {"r": calm.id},
    )
    await session.commit()
    assert await deadline_warnings(database, settings) == 0
