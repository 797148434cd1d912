"""Through the public API only: a resident reports, the ward's officer finds it at the top of the queue,
acknowledges, starts, transfers it to the right ward; that ward's officer resolves it with a public
message; the resident's timeline shows the public steps and never the internal note."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.casework.conftest import City
from tests.factories import any_category, resident, submit_report


async def test_report_to_resolution(client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    _, me = await resident(client, locale="vi")
    created = await submit_report(
        client,
        {**me, "Idempotency-Key": str(uuid.uuid4())},
        "W1",
        category=await any_category(db_conn),
        description="Cây đổ chắn ngang đường",
    )
    code = created["code"]

    w1, w2 = city.officer_w1[1], city.officer_w2[1]
    queue = (await client.get("/v1/officer/queue", headers=w1)).json()
    assert [i["code"] for i in queue["items"]] == [code]
    item = queue["items"][0]
    assert item["status"] == "new" and item["due_at"] is not None and item["overdue"] is False
    assert (await client.get("/v1/officer/queue", headers=w2)).json()["items"] == []

    async def act(headers: dict[str, str], **body: object) -> dict[str, object]:
        resp = await client.post(f"/v1/reports/{code}/actions", json=body, headers=headers)
        assert resp.status_code == 200, resp.text
        out: dict[str, object] = resp.json()
        return out

    await act(w1, action="acknowledge", message="Đã tiếp nhận")
    await act(w1, action="start", note="bí mật nội bộ")
    moved = await act(w1, action="transfer", ward="W2", reason="wrong_ward", message="Chuyển phường Hai")
    assert moved["status"] == "new" and moved["ward"] == "W2"
    assert [i["code"] for i in (await client.get("/v1/officer/queue", headers=w2)).json()["items"]] == [code]
    await act(w2, action="start")
    done = await act(w2, action="resolve", message="Đã dọn cây")
    assert done["status"] == "resolved"

    page = await client.get(f"/v1/reports/{code}", headers=me)
    assert page.status_code == 200, page.text
    assert "Đã dọn cây" in page.text and "Chuyển phường Hai" in page.text
    assert "bí mật nội bộ" not in page.text
