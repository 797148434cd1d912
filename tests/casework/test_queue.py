"""GET /v1/officer/queue: due-first order, overdue computed against now, filters, counts, keyset pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.casework.conftest import City
from tests.factories import insert_report

NOW = datetime.now(UTC)


def h(n: float) -> datetime:
    return NOW + timedelta(hours=n)


async def seed(db_conn: AsyncConnection, city: City) -> dict[str, str]:
    codes = {}
    # new: the acknowledge deadline counts; started: the resolve deadline
    codes["new_late"] = (await insert_report(db_conn, "W1", ack_due_at=h(-2), resolve_due_at=h(40))).code
    codes["new_soon"] = (await insert_report(db_conn, "W1", ack_due_at=h(1), resolve_due_at=h(50))).code
    codes["prog_late"] = (
        await insert_report(db_conn, "W1", status="in_progress", ack_due_at=h(-90), resolve_due_at=h(-1))
    ).code
    codes["ack_later"] = (
        await insert_report(db_conn, "W1", status="acknowledged", ack_due_at=h(-90), resolve_due_at=h(30))
    ).code
    codes["undated"] = (await insert_report(db_conn, "W1")).code
    codes["near"] = (
        await insert_report(
            db_conn,
            "W1",
            ack_due_at=h(5),
            resolve_due_at=h(60),
            near_boundary=True,
            assignee_id=city.officer_w1[0],
        )
    ).code
    codes["done"] = (await insert_report(db_conn, "W1", status="resolved", resolve_due_at=h(-100))).code
    codes["other_ward"] = (await insert_report(db_conn, "W2", ack_due_at=h(-50))).code
    return codes


async def test_order_overdue_and_scope(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    c = await seed(db_conn, city)
    r = await wf_client.get("/v1/officer/queue", headers=city.officer_w1[1])
    assert r.status_code == 200, r.text
    body = r.json()
    order = [i["code"] for i in body["items"]]
    assert order == [c["new_late"], c["prog_late"], c["new_soon"], c["near"], c["ack_later"], c["undated"]]
    overdue = {i["code"] for i in body["items"] if i["overdue"]}
    assert overdue == {c["new_late"], c["prog_late"]}
    assert c["other_ward"] not in r.text and c["done"] not in r.text
    assert body["counts"] == {"new": 4, "in_progress": 1, "acknowledged": 1, "resolved": 1}
    assert body["next_cursor"] is None
    names: dict[str, str] = {c: n for c, n in await db_conn.execute(text("SELECT code, name FROM areas"))}
    assert {(i["ward"], i["ward_name"]) for i in body["items"]} == {("W1", names["W1"])}  # names, not codes
    # the leader of T1 sees both wards
    lead = await wf_client.get("/v1/officer/queue", headers=city.leader[1])
    assert lead.json()["items"][0]["code"] == c["other_ward"]


async def test_filters(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    c = await seed(db_conn, city)
    hd = city.officer_w1[1]

    async def codes(query: str) -> list[str]:
        r = await wf_client.get(f"/v1/officer/queue?{query}", headers=hd)
        assert r.status_code == 200, r.text
        return [i["code"] for i in r.json()["items"]]

    assert await codes("overdue=true") == [c["new_late"], c["prog_late"]]
    assert set(await codes("overdue=false")) == {c["new_soon"], c["near"], c["ack_later"], c["undated"]}
    assert await codes("near_boundary=true") == [c["near"]]
    assert await codes("assigned=me") == [c["near"]]
    assert await codes("status=resolved") == [c["done"]]
    assert set(await codes("status=in_progress,acknowledged")) == {c["prog_late"], c["ack_later"]}
    assert await codes(f"category={city.category}") != []
    assert await codes("category=no-such") == []
    bad = await wf_client.get("/v1/officer/queue?status=nonsense", headers=hd)
    assert bad.status_code == 400


async def test_keyset_pages_cover_everything_once(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    await seed(db_conn, city)
    for i in range(7):  # ties on the deadline, and more undated ones
        await insert_report(db_conn, "W1", ack_due_at=h(3), resolve_due_at=h(70))
        if i % 2:
            await insert_report(db_conn, "W1")
    full = (await wf_client.get("/v1/officer/queue?limit=200", headers=city.officer_w1[1])).json()["items"]
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        q = "/v1/officer/queue?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = (await wf_client.get(q, headers=city.officer_w1[1])).json()
        seen += [i["code"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [i["code"] for i in full]
    assert len(seen) == len(set(seen)) == 6 + 7 + 3
    bad = await wf_client.get("/v1/officer/queue?cursor=@@@", headers=city.officer_w1[1])
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_cursor"
