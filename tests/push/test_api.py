"""`/v1/me/devices` and `/v1/me/notifications` over HTTP."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import push
from push import Text
from tests.assertions import assert_error_shape
from tests.factories import resident


def texts(n: int) -> dict[str, Text]:
    return {"vi": Text(f"Tiêu đề {n}", f"Nội dung {n}"), "en": Text(f"Title {n}", f"Body {n}")}


async def test_register_refresh_list_and_remove_devices(client: httpx.AsyncClient) -> None:
    _, auth = await resident(client)
    body = {"token": "fcm-token:APA91b-1", "platform": "android", "locale": "en-GB", "app_version": "1.0"}
    r = await client.post("/v1/me/devices", json=body, headers=auth)
    assert r.status_code == 200 and r.json()["locale"] == "en"
    r = await client.post("/v1/me/devices", json={**body, "app_version": "1.1"}, headers=auth)
    assert r.status_code == 200 and r.json()["app_version"] == "1.1"
    await client.post("/v1/me/devices", json={**body, "token": "second-phone"}, headers=auth)
    listed = (await client.get("/v1/me/devices", headers=auth)).json()
    assert sorted(d["token"] for d in listed) == ["fcm-token:APA91b-1", "second-phone"]

    assert (await client.delete("/v1/me/devices/second-phone", headers=auth)).status_code == 204
    assert (await client.delete("/v1/me/devices/second-phone", headers=auth)).status_code == 204
    listed = (await client.get("/v1/me/devices", headers=auth)).json()
    assert [d["token"] for d in listed] == ["fcm-token:APA91b-1"]


async def test_device_validation_and_auth(client: httpx.AsyncClient) -> None:
    _, auth = await resident(client)
    r = await client.post("/v1/me/devices", json={"token": "t", "platform": "android", "x": 1}, headers=auth)
    assert_error_shape(r, 400, "validation_error")
    r = await client.post("/v1/me/devices", json={"token": "t", "platform": "nokia"}, headers=auth)
    assert_error_shape(r, 400, "validation_error")
    r = await client.post("/v1/me/devices", json={"token": "t", "platform": "ios"})
    assert_error_shape(r, 401, "unauthorized")
    assert_error_shape(await client.get("/v1/me/notifications"), 401, "unauthorized")


async def test_a_token_moves_to_the_account_that_registers_it(client: httpx.AsyncClient) -> None:
    _, alice = await resident(client)
    _, bob = await resident(client)
    dev = {"token": "shared-tablet", "platform": "android"}
    await client.post("/v1/me/devices", json=dev, headers=alice)
    await client.post("/v1/me/devices", json=dev, headers=bob)
    assert (await client.get("/v1/me/devices", headers=alice)).json() == []
    assert [d["token"] for d in (await client.get("/v1/me/devices", headers=bob)).json()] == ["shared-tablet"]
    # Alice cannot remove Bob's token
    await client.delete("/v1/me/devices/shared-tablet", headers=alice)
    assert len((await client.get("/v1/me/devices", headers=bob)).json()) == 1


async def test_inbox_pages_counts_and_marks_read(client: httpx.AsyncClient, session: AsyncSession) -> None:
    uid, auth = await resident(client)
    other, other_auth = await resident(client)
    for n in range(5):
        await push.notify(
            session, user_ids=[uid], kind="started", texts=texts(n), report_code=f"PA-0000-000{n}"
        )
        # distinct times inside the test's one transaction (now() is the transaction's start)
        await session.execute(
            text(
                "UPDATE notifications SET created_at = created_at + make_interval(secs => :n) WHERE title_en = :t"
            ),
            {"n": n, "t": f"Title {n}"},
        )
    await push.notify(session, user_ids=[other], kind="started", texts=texts(9))
    await session.commit()

    first = (await client.get("/v1/me/notifications?limit=2", headers=auth)).json()
    assert first["unread"] == 5
    assert [i["title"] for i in first["items"]] == ["Tiêu đề 4", "Tiêu đề 3"]  # account language: vi
    assert first["items"][0]["report_code"] == "PA-0000-0004" and first["items"][0]["read_at"] is None
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (
            await client.get("/v1/me/notifications", params={"limit": 2, "cursor": cursor}, headers=auth)
        ).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5

    en = (await client.get("/v1/me/notifications", headers={**auth, "Accept-Language": "en-US,en"})).json()
    assert en["items"][0]["title"] == "Title 4" and en["items"][0]["body"] == "Body 4"

    r = await client.post("/v1/me/notifications/read", json={"ids": seen[:2]}, headers=auth)
    assert r.status_code == 200 and r.json() == {"marked": 2, "unread": 3}
    unread = (await client.get("/v1/me/notifications?unread_only=true", headers=auth)).json()
    assert len(unread["items"]) == 3 and unread["unread"] == 3
    # someone else's ids do nothing
    mine = seen[2]
    r = await client.post("/v1/me/notifications/read", json={"ids": [mine]}, headers=other_auth)
    assert r.json()["marked"] == 0
    r = await client.post("/v1/me/notifications/read", json={"all": True}, headers=auth)
    assert r.json() == {"marked": 3, "unread": 0}
    assert (await client.get("/v1/me/notifications", headers=other_auth)).json()["unread"] == 1


async def test_read_body_and_cursor_are_checked(client: httpx.AsyncClient) -> None:
    _, auth = await resident(client)
    assert_error_shape(
        await client.post("/v1/me/notifications/read", json={}, headers=auth), 400, "bad_read_request"
    )
    r = await client.post("/v1/me/notifications/read", json={"all": True, "ids": []}, headers=auth)
    assert_error_shape(r, 400, "bad_read_request")
    r = await client.get("/v1/me/notifications", params={"cursor": "bm9wZQ"}, headers=auth)
    assert_error_shape(r, 400, "bad_cursor")
    r = await client.get("/v1/me/notifications", params={"limit": 0}, headers=auth)
    assert_error_shape(r, 400, "validation_error")
