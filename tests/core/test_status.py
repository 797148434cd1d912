"""The one status vocabulary (api/core/status.py) agrees with the schema and with the queue's index."""

from __future__ import annotations

import re

from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from api.casework import sql as casework_sql
from api.core.status import ALL, CLOSED, OPEN, PAUSED, ReportStatus, sql_in, values
from api.reports.models import ReportAsR


def test_groups_split_the_statuses() -> None:
    assert OPEN | CLOSED == ALL == set(ReportStatus) and not OPEN & CLOSED
    assert values(OPEN) == ["new", "acknowledged", "in_progress", "on_hold"]
    assert values(["closed", "new"]) == ["new", "closed"]  # the enum's order, whatever the input's
    assert sql_in(OPEN) == "('new', 'acknowledged', 'in_progress', 'on_hold')"
    assert PAUSED < OPEN  # paused cases are open, with no clock running


async def test_enum_matches_the_check_constraint(db_conn: AsyncConnection) -> None:
    definition = await db_conn.scalar(
        text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ck_reports_status'")
    )
    assert set(re.findall(r"'(\w+)'", definition)) == set(values(ReportStatus))


async def test_queue_order_still_reads_like_its_index(db_conn: AsyncConnection) -> None:
    await db_conn.execute(text("SET LOCAL enable_seqscan = off"))
    await db_conn.execute(text("SET LOCAL enable_sort = off"))
    r = ReportAsR
    query = select(r.code).where(casework_sql.OPEN).order_by(casework_sql.DUE_KEY, r.code).limit(5)
    compiled = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(line for (line,) in await db_conn.execute(text(f"EXPLAIN {compiled}")))
    assert "Index Scan using ix_reports_queue_due" in plan, plan
