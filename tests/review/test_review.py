"""Making residents' text safe: held messages (reopen reasons, rating comments), redaction, officers'
flags, a resident's edit screened again, rejection as inappropriate content, and the moderators'
alert when something has waited too long."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core.db import Database
from api.core.settings import Settings
from api.review.jobs import review_alerts
from tests.assertions import assert_error_shape
from tests.factories import any_category, centre, insert_report, make_city, resident, set_state, staff


async def submit(
    client: httpx.AsyncClient, db_conn: AsyncConnection, headers: dict[str, str], description: str
) -> Any:
    lat, lng = centre("W1")
    body = {"category": await any_category(db_conn), "description": description, "lat": lat, "lng": lng}
    r = await client.post("/v1/reports", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def entry(view: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(e for e in view["timeline"] if e["kind"] == kind)


async def queue(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.get("/v1/moderation/queue", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def test_an_abusive_reopen_reason_holds_that_message_alone(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, mod = await staff(db_conn, "moderator")
    _, me = await resident(client)
    code = (await submit(client, db_conn, me, "Hẻm 45 ngập sâu"))["code"]
    await set_state(db_conn, code, status="resolved", resolved_days_ago=1)
    r = await client.post(
        f"/v1/reports/{code}/reopen", json={"reason": "dit me may, van ngap. Goi toi 0903123456"}, headers=me
    )
    assert r.status_code == 200 and r.json()["status"] == "in_progress"  # the case goes on

    view = (await client.get(f"/v1/reports/{code}")).json()  # the report stays public
    reopened = entry(view, "reopened")
    assert reopened["text_status"] == "held" and "reason" not in reopened and "dit" not in str(view)
    (item,) = await queue(client, mod)
    assert item["kind"] == "message" and item["event_kind"] == "reopened" and item["code"] == code
    assert item["held_for"] == ["abusive_language"] and item["message"].startswith("dit me may")
    _, officer = await staff(db_conn, "officer", ["W1"])
    staff_view = (await client.get(f"/v1/reports/{code}", headers=officer)).json()
    assert entry(staff_view, "reopened")["reason"].startswith("dit me may")  # staff read the original

    event_id = item["event_id"]
    hide = {"action": "hide_message", "event_id": event_id, "reason": "chửi thề"}
    r = await client.post(f"/v1/moderation/{code}", json=hide, headers=mod)
    assert r.status_code == 200, r.text
    assert r.json()["text_status"] == "hidden" and r.json()["message_event_id"] == event_id
    assert await queue(client, mod) == []
    assert entry((await client.get(f"/v1/reports/{code}")).json(), "reopened")["text_status"] == "hidden"
    # published after all: masked like every public text
    publish = {"action": "publish_message", "event_id": event_id}
    assert (await client.post(f"/v1/moderation/{code}", json=publish, headers=mod)).json()[
        "text_status"
    ] == "shown"
    reopened = entry((await client.get(f"/v1/reports/{code}")).json(), "reopened")
    assert (
        reopened["reason"] == "dit me may, van ngap. Goi toi [số điện thoại]"
        and "text_status" not in reopened
    )
    err = assert_error_shape(
        await client.post(f"/v1/moderation/{code}", json=publish, headers=mod), 409, "invalid_transition"
    )
    assert err["details"] == {"text_status": "shown", "allowed": ["hide_message"]}
    assert_error_shape(
        await client.post(f"/v1/moderation/{code}", json={"action": "hide_message"}, headers=mod),
        422,
        "event_required",
    )
    assert_error_shape(
        await client.post(
            f"/v1/moderation/{code}",
            json={"action": "hide_message", "event_id": str(uuid.uuid4())},
            headers=mod,
        ),
        404,
        "event_not_found",
    )
    # every decision is a staff-only event naming the message
    moderated = [
        e
        for e in (await client.get(f"/v1/reports/{code}", headers=officer)).json()["timeline"]
        if e["kind"] == "moderated"
    ]
    assert len(moderated) == 2
    data = (
        (
            await db_conn.execute(
                text(
                    "SELECT data FROM report_events e JOIN reports r ON r.id = e.report_id WHERE r.code = :c AND kind = 'moderated' ORDER BY e.created_at"
                ),
                {"c": code},
            )
        )
        .scalars()
        .all()
    )
    assert data[0] == {
        "action": "hide_message",
        "event_id": event_id,
        "event_kind": "reopened",
        "from_text_status": "held",
        "to_text_status": "hidden",
    }


async def test_an_abusive_rating_comment_is_held_and_a_clean_one_shown_masked(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, mod = await staff(db_conn, "moderator")
    _, me = await resident(client)
    code = (await submit(client, db_conn, me, "Đèn đường hỏng"))["code"]
    await set_state(db_conn, code, status="resolved", resolved_days_ago=1)
    r = await client.post(
        f"/v1/reports/{code}/rating", json={"stars": 1, "comment": "Xử lý chậm vcl"}, headers=me
    )
    assert r.status_code == 200
    assert (await client.get(f"/v1/reports/{code}")).json().get("rating_comment") is None
    assert (await client.get(f"/v1/reports/{code}", headers=me)).json()["rating_comment"] == "Xử lý chậm vcl"
    (item,) = await queue(client, mod)
    assert item["event_kind"] == "rated" and item["message"] == "Xử lý chậm vcl"
    # a new rating replaces the old one; its comment is screened afresh
    r = await client.post(
        f"/v1/reports/{code}/rating",
        json={"stars": 4, "comment": "Đã sửa, cảm ơn. Gọi 0903 123 456"},
        headers=me,
    )
    view = (await client.get(f"/v1/reports/{code}")).json()
    assert view["rating"] == 4 and view["rating_comment"] == "Đã sửa, cảm ơn. Gọi [số điện thoại]"
    assert await queue(client, mod) == []  # the replaced comment waits no more


async def test_redaction_keeps_the_original_for_staff(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, mod = await staff(db_conn, "moderator")
    _, officer = await staff(db_conn, "officer", ["W1"])
    _, me = await resident(client)
    original = "Thằng ngu nào đổ rác ở hẻm 45, bốc mùi quá"
    created = await submit(client, db_conn, me, original)
    code = created["code"]
    assert created["visibility"] == "pending_review"
    (item,) = await queue(client, mod)
    assert item["kind"] == "report" and item["held_for"] == ["abusive_language"]

    url = f"/v1/moderation/{code}"
    assert_error_shape(
        await client.post(url, json={"action": "redact"}, headers=mod), 422, "nothing_to_redact"
    )
    redact = {
        "action": "redact",
        "description": "Ai đó đổ rác ở hẻm 45, bốc mùi quá",
        "address": "",
        "reason": "bỏ lời lẽ xúc phạm",
    }
    r = await client.post(url, json=redact, headers=mod)
    assert r.status_code == 200 and r.json()["visibility"] == "pending_review", r.text
    assert (await client.post(url, json={"action": "publish"}, headers=mod)).json()["visibility"] == "public"

    public = (await client.get(f"/v1/reports/{code}")).json()
    assert public["description"] == "Ai đó đổ rác ở hẻm 45, bốc mùi quá" and public.get("address") is None
    listed = (await client.get("/v1/reports")).json()["items"]
    assert [i["description"] for i in listed if i["code"] == code] == [public["description"]]
    (record,) = (await client.get(f"/open311/v2/requests/{code}.json")).json()
    assert record["description"] == public["description"]
    staff_view = (await client.get(f"/v1/reports/{code}", headers=officer)).json()
    assert (
        staff_view["description"] == original
        and staff_view["public_text"]["description"] == public["description"]
    )
    assert (await client.get(f"/v1/reports/{code}", headers=me)).json()["description"] == original
    # public search follows the redacted text
    assert (await client.get("/v1/reports", params={"q": "thang ngu"})).json()["items"] == []
    assert len((await client.get("/v1/reports", params={"q": "ai do do rac"})).json()["items"]) == 1
    # audited: who, why, the public text before and after
    row = (
        await db_conn.execute(
            text(
                "SELECT e.actor_role, e.reason, e.data, e.is_public FROM report_events e JOIN reports r ON r.id = e.report_id "
                "WHERE r.code = :c AND e.kind = 'redacted'"
            ),
            {"c": code},
        )
    ).one()
    assert row.actor_role == "moderator" and row.reason == "bỏ lời lẽ xúc phạm" and row.is_public is False
    assert row.data == {
        "fields": ["description", "address"],
        "before": {"description": None, "address": None},
        "after": {"description": "Ai đó đổ rác ở hẻm 45, bốc mùi quá", "address": ""},
    }


async def test_an_edit_is_screened_again_and_releases_what_only_screening_held(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, mod = await staff(db_conn, "moderator")
    _, officer = await staff(db_conn, "officer", ["W1"])
    _, me = await resident(client)
    code = (await submit(client, db_conn, me, "Đm cống nghẹt, gọi 0903 123 456"))["code"]
    assert (await client.get(f"/v1/reports/{code}")).status_code == 404
    r = await client.patch(
        f"/v1/reports/{code}", json={"description": "Cống nghẹt, gọi 0903 123 456"}, headers=me
    )
    assert r.json()["visibility"] == "public"  # the phone number alone never holds a report
    assert (await client.get(f"/v1/reports/{code}")).json()[
        "description"
    ] == "Cống nghẹt, gọi [số điện thoại]"
    assert await queue(client, mod) == []

    # what an officer flagged keeps waiting whatever the resident edits
    r = await client.post(
        f"/v1/reports/{code}/flag", json={"reason": "ảnh và chữ không khớp"}, headers=officer
    )
    assert r.status_code == 200 and r.json()["visibility"] == "pending_review", r.text
    assert (await client.get(f"/v1/reports/{code}")).status_code == 404
    r = await client.patch(f"/v1/reports/{code}", json={"description": "Cống nghẹt ở hẻm 45"}, headers=me)
    assert r.json()["visibility"] == "pending_review"
    (item,) = await queue(client, mod)
    assert item["held_for"] == ["flagged"]
    assert (
        await client.post(f"/v1/moderation/{code}", json={"action": "publish"}, headers=mod)
    ).status_code == 200
    assert (await client.get(f"/v1/reports/{code}")).status_code == 200


async def test_officers_flag_text_in_their_scope(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, mod = await staff(db_conn, "moderator")
    _, officer = await staff(db_conn, "officer", ["W1"])
    _, other_ward = await staff(db_conn, "officer", ["W2"])
    _, me = await resident(client)
    code = (await submit(client, db_conn, me, "Vỉa hè bị lấn chiếm"))["code"]
    await set_state(db_conn, code, status="resolved", resolved_days_ago=1)
    await client.post(f"/v1/reports/{code}/reopen", json={"reason": "Vẫn còn bày hàng"}, headers=me)
    staff_view = (await client.get(f"/v1/reports/{code}", headers=officer)).json()
    event_id = entry(staff_view, "reopened")["id"]

    flag = {"event_id": event_id, "reason": "nêu tên người bán"}
    assert_error_shape(
        await client.post(f"/v1/reports/{code}/flag", json=flag, headers=other_ward), 404, "report_not_found"
    )
    assert_error_shape(await client.post(f"/v1/reports/{code}/flag", json=flag, headers=me), 403, "forbidden")
    r = await client.post(f"/v1/reports/{code}/flag", json=flag, headers=officer)
    assert r.status_code == 200 and r.json() | {"event_id": None} == {
        "code": code,
        "visibility": "public",
        "event_id": None,
        "text_status": "held",
    }
    view = (await client.get(f"/v1/reports/{code}")).json()
    assert "reason" not in entry(view, "reopened") and entry(view, "reopened")["text_status"] == "held"
    (item,) = await queue(client, mod)
    assert item["kind"] == "message" and item["held_for"] == ["flagged"] and item["event_id"] == event_id
    flagged = (
        await db_conn.execute(
            text("SELECT actor_role, internal_note, is_public FROM report_events WHERE kind = 'flagged'")
        )
    ).one()
    assert tuple(flagged) == ("officer", "nêu tên người bán", False)


async def test_rejecting_as_inappropriate_content_takes_the_text_off_the_public(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, officer = await staff(db_conn, "officer", ["W1"])
    _, me = await resident(client)
    code = (await submit(client, db_conn, me, "Quảng cáo bán hàng, không phải phản ánh"))["code"]
    assert (await client.get(f"/v1/reports/{code}")).status_code == 200
    r = await client.post(
        f"/v1/reports/{code}/actions",
        json={"action": "reject", "reason": "inappropriate_content"},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    assert (await client.get(f"/v1/reports/{code}")).status_code == 404
    assert code not in (await client.get("/v1/reports")).text
    assert code not in (await client.get("/open311/v2/requests.json")).text
    mine = (await client.get(f"/v1/reports/{code}", headers=me)).json()  # its reporter still follows it
    assert mine["status"] == "rejected" and mine["visibility"] == "hidden"
    # other reasons leave it public
    other = (await submit(client, db_conn, me, "Đèn đường hỏng"))["code"]
    await client.post(
        f"/v1/reports/{other}/actions",
        json={"action": "reject", "reason": "already_handled"},
        headers=officer,
    )
    assert (await client.get(f"/v1/reports/{other}")).status_code == 200


async def test_moderators_are_told_once_what_waited_too_long(
    client: httpx.AsyncClient, db_conn: AsyncConnection, database: Database, settings: Settings
) -> None:
    await make_city(db_conn)
    everyone, _ = await staff(db_conn, "moderator")
    w1, _ = await staff(db_conn, "moderator", ["W1"])
    w2, _ = await staff(db_conn, "moderator", ["W2"])
    admin, _ = await staff(db_conn, "admin")
    old = await insert_report(db_conn, "W1", visibility="pending_review")
    fresh = await insert_report(db_conn, "W1", visibility="pending_review")
    await db_conn.execute(
        text("UPDATE reports SET held_at = now() - interval '40 minutes' WHERE id = :o"), {"o": old.id}
    )
    await db_conn.execute(
        text("UPDATE reports SET held_at = now() - interval '5 minutes' WHERE id = :f"), {"f": fresh.id}
    )
    message = await insert_report(db_conn, "W2")
    await db_conn.execute(
        text(
            "UPDATE report_events SET text_status = 'held', held_for = '[\"abusive_language\"]', "
            "held_at = now() - interval '31 minutes', reason = 'vcl' WHERE report_id = :r"
        ),
        {"r": message.id},
    )

    assert settings.review_alert_min == 30
    assert await review_alerts(database, settings) == 2
    assert await review_alerts(database, settings) == 0  # once per wait
    told = (
        await db_conn.execute(
            text("SELECT user_id, kind, report_code FROM notifications WHERE kind LIKE 'review_%'")
        )
    ).all()
    assert sorted((u, k, c) for u, k, c in told) == sorted(
        [
            (everyone, "review_report", old.code),
            (w1, "review_report", old.code),
            (everyone, "review_message", message.code),
            (w2, "review_message", message.code),
        ]
    )
    assert admin not in {u for u, _, _ in told}
    # held again later: a new wait, told again
    await db_conn.execute(
        text("UPDATE reports SET held_at = now() - interval '35 minutes' WHERE id = :o"), {"o": old.id}
    )
    assert await review_alerts(database, settings) == 1
