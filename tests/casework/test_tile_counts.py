"""The kept counts behind the map's clusters (report_counts, ward_points; api/casework/models.py):
equal to a GROUP BY over the reports after every kind of change (inserts, casework actions through
HTTP, transfers, category and agency changes, deletes), one cluster per ward at every cluster zoom
under the caller's scope, and an overdue count that follows the deadlines' hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.casework import sql
from api.casework.tiles import CLUSTER_BELOW_ZOOM
from tests.casework.conftest import City
from tests.casework.test_tiles import LOW, city_tiles, cluster_total, reports, seed
from tests.factories import insert_report, staff, update_report

# The counts' definition written out over the rows, with the app's deadline (api.casework.sql).
_GROUPED = text(
    "SELECT r.ward_code, COALESCE(r.agency_code, ''), r.category_code, r.status, "
    "CAST(r.created_at AT TIME ZONE '" + sql.COUNTS_ZONE + "' AS date), "
    "COALESCE(date_trunc('hour', " + sql._DUE + ", 'UTC'), CAST('infinity' AS timestamptz)), count(*) "
    "FROM reports r GROUP BY 1, 2, 3, 4, 5, 6"
)
_GROUPED_WARDS = text(
    "SELECT r.ward_code, COALESCE(r.agency_code, ''), "
    "COALESCE(date_trunc('hour', " + sql._DUE + ", 'UTC'), CAST('infinity' AS timestamptz)), count(*), "
    "count(*) FILTER (WHERE " + sql._OPEN + ") FROM reports r GROUP BY 1, 2, 3"
)
# summed over the shards a key is split into
_KEPT_WARDS = text(
    "SELECT ward_code, agency_code, due_hour, sum(n), sum(open_n) FROM report_ward_counts GROUP BY 1, 2, 3"
)
_KEPT = text(
    "SELECT ward_code, agency_code, category_code, status, created_day, due_hour, sum(n) "
    "FROM report_counts GROUP BY 1, 2, 3, 4, 5, 6"
)
_ZEROS = text(
    "SELECT (SELECT count(*) FROM report_counts WHERE n = 0) + (SELECT count(*) FROM report_ward_counts WHERE n = 0)"
)


async def assert_counts_kept(db: AsyncConnection) -> int:
    """report_counts and report_ward_counts are GROUP BYs of the reports, row for row (no zero left
    behind); the total."""
    grouped = {tuple(row) for row in await db.execute(_GROUPED)}
    kept = {tuple(row) for row in await db.execute(_KEPT)}
    assert kept == grouped
    assert {tuple(row) for row in await db.execute(_KEPT_WARDS)} == {
        tuple(row) for row in await db.execute(_GROUPED_WARDS)
    }
    assert await db.scalar(_ZEROS) == 0  # no zero left behind
    return sum(row[-1] for row in kept)


async def other_category(db: AsyncConnection, than: str) -> str:
    code = await db.scalar(
        text("SELECT code FROM categories WHERE code <> :c ORDER BY code LIMIT 1"), {"c": than}
    )
    if code is None:
        code = "test-other"
        await db.execute(
            text(
                "INSERT INTO categories (code, name_vi, name_en, ack_hours, resolve_value, resolve_unit) "
                "VALUES (:c, 'Khác', 'Other', 4, 3, 'days')"
            ),
            {"c": code},
        )
    return str(code)


async def test_counts_follow_every_change(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    c = await seed(db_conn)
    assert await assert_counts_kept(db_conn) == 7

    async def act(code: str, officer: dict[str, str], **body: str) -> None:
        r = await wf_client.post(f"/v1/reports/{code}/actions", json=body, headers=officer)
        assert r.status_code == 200, r.text

    w1, w2 = city.officer_w1[1], city.officer_w2[1]
    await act(c["w2_new"], w2, action="acknowledge")  # status and deadline move
    await assert_counts_kept(db_conn)
    await act(c["w2_new"], w2, action="start")
    await act(c["w1_due_soon"], w1, action="resolve", message="Đã xử lý")
    await assert_counts_kept(db_conn)
    await act(c["w1_on_time"], w1, action="transfer", ward="W2", reason="wrong_ward")  # to another ward
    await assert_counts_kept(db_conn)
    assert await cluster_total(wf_client, w2, LOW) == 3
    assert await cluster_total(wf_client, w1, LOW) == 3

    # no casework action changes the category or the agency: set directly
    await update_report(db_conn, c["w3_new"], category_code=await other_category(db_conn, city.category))
    await update_report(db_conn, c["w2_late"], agency_code="evn")
    await assert_counts_kept(db_conn)
    # a statement of many rows: one grouped change
    await db_conn.execute(text("UPDATE reports SET status = 'closed' WHERE ward_code = 'W1'"))
    await assert_counts_kept(db_conn)

    await db_conn.execute(
        text("DELETE FROM reports WHERE code IN (:a, :b)"), {"a": c["w1_overdue"], "b": c["w2_new"]}
    )
    assert await assert_counts_kept(db_conn) == 5
    await db_conn.execute(text("DELETE FROM reports"))
    assert await assert_counts_kept(db_conn) == 0
    assert await db_conn.scalar(text("SELECT count(*) FROM report_counts")) == 0
    assert await db_conn.scalar(text("SELECT count(*) FROM report_ward_counts")) == 0


async def test_one_cluster_per_ward_in_scope(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    c = await seed(db_conn)
    (only,) = city_tiles(LOW)
    lead = {
        (p["count"], p["open_count"], p["overdue_count"], p.get("code"))
        for p in await reports(wf_client, city.leader[1], only)
    }
    assert lead == {(4, 3, 1, None), (2, 2, 1, None), (1, 1, 0, c["w3_new"])}
    (w1,) = await reports(wf_client, city.officer_w1[1], only)
    assert (w1["count"], w1["open_count"], w1["overdue_count"]) == (4, 3, 1)
    # every cluster zoom: each ward's point in one tile, the counts adding up to the cases in scope
    for z in range(4, CLUSTER_BELOW_ZOOM):
        assert await cluster_total(wf_client, city.leader[1], z) == 7, z
        assert await cluster_total(wf_client, city.officer_w2[1], z) == 2, z
    # agency grants: the routed cases of any ward, counted at their ward's point
    await update_report(db_conn, c["w1_closed"], agency_code="evn")
    await update_report(db_conn, c["w3_new"], agency_code="evn")
    _, evn = await staff(db_conn, "officer", agencies=["evn"])
    got = await reports(wf_client, evn, only)
    assert sorted(p["count"] for p in got) == [1, 1]
    assert {p["code"] for p in got} == {c["w1_closed"], c["w3_new"]}
    assert await cluster_total(wf_client, evn, LOW, "?status=resolved") == 1
    # an officer of W1 who also holds the agency: W1's four, W3's routed one
    _, both = await staff(db_conn, "officer", ["W1"], agencies=["evn"])
    assert sorted(p["count"] for p in await reports(wf_client, both, only)) == [1, 4]


async def test_overdue_follows_the_deadline_hour(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    now = datetime.now(UTC)
    later = now + timedelta(hours=3)
    r1 = await insert_report(db_conn, "W1", status="in_progress", resolve_due_at=later)
    r2 = await insert_report(db_conn, "W1", ack_due_at=later, resolve_due_at=later + timedelta(days=2))
    lead = city.leader[1]
    (only,) = city_tiles(LOW)

    async def overdue() -> tuple[int, int]:
        (p,) = await reports(wf_client, lead, only)
        return p["overdue_count"], await cluster_total(wf_client, lead, LOW, "?overdue=true")

    assert await overdue() == (0, 0)
    # the deadlines pass (set in the past, as time passing would): the counts move with them
    await update_report(db_conn, r1, resolve_due_at=now - timedelta(hours=2))
    assert await overdue() == (1, 1)
    await update_report(db_conn, r2, ack_due_at=now - timedelta(days=1))
    assert await overdue() == (2, 2)
    # a case on hold has no running deadline, a closed one none at all
    await update_report(db_conn, r1, status="on_hold")
    await update_report(db_conn, r2, status="resolved")
    assert await overdue() == (0, 0)
    await assert_counts_kept(db_conn)
