"""Two officers resolving the same case at the same moment, on a real pool (separate transactions):
exactly one wins, the other gets 409, and exactly one `resolved` event exists."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from api.app import create_app
from api.core.db import make_engine
from api.core.settings import Settings
from tests.conftest import serving
from tests.factories import insert_report, make_city, staff


async def test_two_officers_resolve_at_once(settings: Settings, fresh_db: str) -> None:
    engine = make_engine(fresh_db, pool_size=2, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await make_city(conn)
            _, a = await staff(conn, "officer", ["W1"])
            _, b = await staff(conn, "officer", ["W1"])
            cases = [await insert_report(conn, "W1", status="in_progress") for _ in range(5)]

        app = create_app(settings, database_url=fresh_db)
        async with serving(app) as client:
            for r in cases:
                url = f"/v1/reports/{r.code}/actions"
                ra, rb = await asyncio.gather(
                    client.post(url, json={"action": "resolve", "message": "A"}, headers=a),
                    client.post(url, json={"action": "resolve", "message": "B"}, headers=b),
                )
                assert sorted([ra.status_code, rb.status_code]) == [200, 409], (ra.text, rb.text)
                loser = ra if ra.status_code == 409 else rb
                assert loser.json()["error"]["code"] in ("invalid_transition", "version_conflict")

        async with engine.connect() as conn:
            for r in cases:
                n = await conn.scalar(
                    text("SELECT count(*) FROM report_events WHERE report_id = :r AND kind = 'resolved'"),
                    {"r": r.id},
                )
                changes = await conn.scalar(
                    text("SELECT count(*) FROM report_events WHERE report_id = :r AND kind <> 'created'"),
                    {"r": r.id},
                )
                assert (n, changes) == (1, 1)
    finally:
        await engine.dispose()
