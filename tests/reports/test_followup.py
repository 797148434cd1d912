"""Follow ("me too"), confirm, reopen and rate: the resident closes the loop."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import insert_report, make_city, resident, set_state


async def test_follow_counts(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    owner, mine = await resident(client, "owner")
    _, a = await resident(client, "a")
    _, b = await resident(client, "b")
    rep = await insert_report(db_conn, "W1", reporter_id=owner)
    url = f"/v1/reports/{rep.code}/follow"
    assert (await client.post(url, headers=a)).json() == {
        "code": rep.code,
        "following": True,
        "follower_count": 1,
    }
    assert (await client.post(url, headers=a)).json()["follower_count"] == 1  # idempotent
    assert (await client.post(url, headers=b)).json()["follower_count"] == 2
    view = (await client.get(f"/v1/reports/{rep.code}", headers=a)).json()
    assert view["follower_count"] == 2 and view["following"] is True
    assert (await client.delete(url, headers=a)).json() == {
        "code": rep.code,
        "following": False,
        "follower_count": 1,
    }
    assert (await client.delete(url, headers=a)).json()["follower_count"] == 1
    assert_error_shape(await client.post(url, headers=mine), 409, "own_report")
    assert_error_shape(await client.post(url), 401, "unauthorized")
    hidden = await insert_report(db_conn, "W1", visibility="hidden")
    assert_error_shape(
        await client.post(f"/v1/reports/{hidden.code}/follow", headers=a), 404, "report_not_found"
    )


async def test_confirm_closes_within_the_window(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    _, other = await resident(client, "other")
    rep = await insert_report(db_conn, "W1", reporter_id=uid)
    url = f"/v1/reports/{rep.code}/confirm"
    err = assert_error_shape(await client.post(url, headers=me), 409, "invalid_transition")
    assert err["details"]["allowed_from"] == ["resolved"]
    await set_state(db_conn, rep.code, status="resolved", resolved_days_ago=1)
    assert_error_shape(await client.post(url, headers=other), 403, "not_reporter")
    r = await client.post(url, headers=me)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    timeline = (await client.get(f"/v1/reports/{rep.code}")).json()["timeline"]
    assert timeline[-1]["kind"] == "confirmed" and timeline[-1]["status"] == "closed"
    # a confirmed fix cannot be reopened
    assert_error_shape(
        await client.post(f"/v1/reports/{rep.code}/reopen", headers=me, json={"reason": "lại hỏng"}),
        409,
        "invalid_transition",
    )


async def test_confirm_after_the_window_is_refused(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    rep = await insert_report(db_conn, "W1", reporter_id=uid)
    await set_state(db_conn, rep.code, status="resolved", resolved_days_ago=15)
    assert_error_shape(
        await client.post(f"/v1/reports/{rep.code}/confirm", headers=me), 409, "confirm_window_passed"
    )


async def test_reopen_within_the_window_goes_back_to_in_progress(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    rep = await insert_report(db_conn, "W2", reporter_id=uid)
    await set_state(db_conn, rep.code, status="resolved", resolved_days_ago=13)
    url = f"/v1/reports/{rep.code}/reopen"
    assert (await client.post(url, headers=me, json={"reason": ""})).status_code == 400
    r = await client.post(url, headers=me, json={"reason": "Vẫn còn ngập"})
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    view = (await client.get(f"/v1/reports/{rep.code}", headers=me)).json()
    assert view["reopen_count"] == 1
    assert view["timeline"][-1]["kind"] == "reopened" and view["timeline"][-1]["reason"] == "Vẫn còn ngập"
    assert view["due"]["resolve_by"] is not None


async def test_reopen_of_an_auto_closed_case_and_after_the_window(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    auto = await insert_report(db_conn, "W1", reporter_id=uid)
    await set_state(db_conn, auto.code, status="closed", resolved_days_ago=8)
    r = await client.post(f"/v1/reports/{auto.code}/reopen", headers=me, json={"reason": "Chưa sửa"})
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    late = await insert_report(db_conn, "W1", reporter_id=uid)
    await set_state(db_conn, late.code, status="closed", resolved_days_ago=20)
    err = assert_error_shape(
        await client.post(f"/v1/reports/{late.code}/reopen", headers=me, json={"reason": "Chưa sửa"}),
        409,
        "reopen_window_passed",
    )
    assert err["details"] == {"window_days": 14}


async def test_rating(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    rep = await insert_report(db_conn, "W3", reporter_id=uid)
    url = f"/v1/reports/{rep.code}/rating"
    assert_error_shape(await client.post(url, headers=me, json={"stars": 4}), 409, "invalid_transition")
    await set_state(db_conn, rep.code, status="resolved", resolved_days_ago=0)
    assert (await client.post(url, headers=me, json={"stars": 6})).status_code == 400
    assert (await client.post(url, headers=me, json={"stars": 2, "comment": "Chậm"})).status_code == 200
    assert (await client.post(url, headers=me, json={"stars": 4})).status_code == 200  # replaces
    row = (
        await db_conn.execute(text("SELECT rating, rating_comment FROM reports WHERE id = :i"), {"i": rep.id})
    ).one()
    assert row == (4, None)
    assert (await client.get(f"/v1/reports/{rep.code}")).json()["rating"] == 4


async def test_reporter_may_hide_their_name_later(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    _, other = await resident(client, "other")
    assert (await client.patch("/v1/me", json={"display_name": "Chị Lan"}, headers=me)).status_code == 200
    rep = await insert_report(db_conn, "W1", reporter_id=uid)
    url = f"/v1/reports/{rep.code}"
    assert (await client.get(url)).json()["reporter"] == {"display_name": "Chị Lan"}

    r = await client.patch(url, json={"anonymous": True}, headers=me)
    assert r.status_code == 200 and r.json()["anonymous"] is True
    public = (await client.get(url)).json()
    assert public.get("reporter") is None and "Chị Lan" not in str(public)
    # the reporter still sees it is theirs
    assert (await client.get(url, headers=me)).json()["reporter"]["display_name"] == "Chị Lan"

    assert (await client.patch(url, json={"anonymous": False}, headers=me)).json()["anonymous"] is False
    assert (await client.get(url)).json()["reporter"] == {"display_name": "Chị Lan"}

    assert_error_shape(await client.patch(url, json={"anonymous": True}, headers=other), 403, "not_reporter")
    assert_error_shape(await client.patch(url, json={"anonymous": True}), 401, "unauthorized")
    assert_error_shape(
        await client.patch(url, json={"anonymous": "yes"}, headers=me), 400, "validation_error"
    )
    assert_error_shape(
        await client.patch("/v1/reports/PA-ZZZZ-ZZZZ", json={"anonymous": True}, headers=me),
        404,
        "report_not_found",
    )


async def test_reporter_may_fix_the_text_while_new_and_soon_after(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    uid, me = await resident(client)
    _, other = await resident(client, "other")
    rep = await insert_report(db_conn, "W1", reporter_id=uid)
    url = f"/v1/reports/{rep.code}"

    fixed = "Cột đèn ho\u0309ng ở đầu hẻm"  # "hỏng" typed decomposed (NFD), as some keyboards do
    r = await client.patch(url, json={"description": fixed, "address": "12 Lê Lợi"}, headers=me)
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "Cột đèn hỏng ở đầu hẻm" and r.json()["address"] == "12 Lê Lợi"
    found = (await client.get("/v1/reports", params={"q": "cot den hong"})).json()["items"]
    assert [i["code"] for i in found] == [rep.code]
    # staff see that it was edited; the public timeline does not
    row = (
        await db_conn.execute(
            text("SELECT data, is_public FROM report_events WHERE report_id = :r AND kind = 'edited'"),
            {"r": rep.id},
        )
    ).one()
    assert row.data == {"fields": ["description", "address"]} and row.is_public is False
    assert "edited" not in str((await client.get(url)).json()["timeline"])
    # "" removes the address; the description stays
    assert (await client.patch(url, json={"address": ""}, headers=me)).json().get("address") is None

    assert_error_shape(await client.patch(url, json={}, headers=me), 422, "nothing_to_change")
    assert_error_shape(
        await client.patch(url, json={"description": "  "}, headers=me), 422, "description_required"
    )
    assert_error_shape(
        await client.patch(url, json={"description": "x" * 2001}, headers=me), 400, "text_too_long"
    )
    assert_error_shape(
        await client.patch(url, json={"description": "Sửa"}, headers=other), 403, "not_reporter"
    )

    # a phone number typed into the fix is published masked, like at submission; the reporter sees it
    r = await client.patch(url, json={"description": "Gọi tôi 0903123456"}, headers=me)
    assert r.status_code == 200 and r.json()["visibility"] == "public"
    assert r.json()["description"] == "Gọi tôi 0903123456"
    assert (await client.get(url)).json()["description"] == "Gọi tôi [số điện thoại]"
    # abuse holds it for review; fixing the abuse away releases it
    r = await client.patch(url, json={"description": "Đm cột đèn hỏng"}, headers=me)
    assert r.json()["visibility"] == "pending_review" and (await client.get(url)).status_code == 404
    r = await client.patch(url, json={"description": "Cột đèn hỏng"}, headers=me)
    assert r.json()["visibility"] == "public" and (await client.get(url)).status_code == 200

    # once an officer has picked it up, or after the window, the text is fixed for good
    await set_state(db_conn, rep.code, status="acknowledged")
    closed = await client.patch(url, json={"description": "Khác"}, headers=me)
    assert_error_shape(closed, 409, "edit_window_closed")
    assert closed.json()["error"]["details"] == {"status": "acknowledged", "window_min": 30}
    late = await insert_report(db_conn, "W1", reporter_id=uid)
    await db_conn.execute(
        text("UPDATE reports SET created_at = now() - interval '31 minutes' WHERE id = :i"), {"i": late.id}
    )
    assert_error_shape(
        await client.patch(f"/v1/reports/{late.code}", json={"description": "Khác"}, headers=me),
        409,
        "edit_window_closed",
    )
    # showing or hiding the name stays possible at any time
    assert (
        await client.patch(f"/v1/reports/{late.code}", json={"anonymous": True}, headers=me)
    ).status_code == 200
