"""The worker closes resolved reports nobody confirmed within `auto_close_days`."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core.db import Database
from api.core.settings import Settings
from api.reports.jobs import close_unconfirmed
from tests.factories import insert_report, make_city, resident, set_state


async def test_auto_close_after_seven_days(
    client: httpx.AsyncClient, db_conn: AsyncConnection, database: Database, settings: Settings
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    old = await insert_report(db_conn, "W1", reporter_id=uid)
    recent = await insert_report(db_conn, "W1", reporter_id=uid)
    await set_state(db_conn, old.code, status="resolved", resolved_days_ago=8)
    await set_state(db_conn, recent.code, status="resolved", resolved_days_ago=6)
    assert await close_unconfirmed(database, settings) == 1
    assert await close_unconfirmed(database, settings) == 0
    rows = {r.code: r.status for r in await db_conn.execute(text("SELECT code, status FROM reports"))}
    assert rows == {old.code: "closed", recent.code: "resolved"}
    view = (await client.get(f"/v1/reports/{old.code}", headers=me)).json()
    assert view["timeline"][-1]["kind"] == "closed" and view["can_reopen"] is True  # still within 14 days
