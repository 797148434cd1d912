"""Admin catalogue (categories, routes, agencies) and the moderation review; the calendar's entries:
tests/catalogue/test_calendar.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import any_category, insert_report, make_city, resident, staff, submit_report

CATEGORY = {
    "code": "thu-nghiem",
    "name_vi": "Cây đổ",
    "name_en": "Fallen tree",
    "ack_hours": 2,
    "resolve_value": 1,
    "resolve_unit": "days",
    "photo_required": True,
    "questions": [
        {"key": "blocking", "label_vi": "Cản đường?", "label_en": "Blocking the road?", "type": "boolean"}
    ],
    "sort": 5,
}


async def test_categories_routes_and_agencies(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, admin = await staff(db_conn, "admin")
    r = await client.post("/v1/admin/categories", json=CATEGORY, headers=admin)
    assert r.status_code == 201, r.text
    cat = r.json()
    assert cat["photo_required"] is True and cat["questions"] == CATEGORY["questions"] and cat["routes"] == []
    assert (cat["ack_hours"], cat["resolve_value"], cat["resolve_unit"], cat["active"]) == (
        2,
        1,
        "days",
        True,
    )
    assert_error_shape(
        await client.post("/v1/admin/categories", json=CATEGORY, headers=admin), 409, "category_exists"
    )
    bad = {**CATEGORY, "code": "x", "ack_hours": 0}
    assert_error_shape(
        await client.post("/v1/admin/categories", json=bad, headers=admin), 400, "validation_error"
    )
    choice = {"key": "when", "type": "choice", "label_vi": "Khi nào", "label_en": "When"}
    bad = {**CATEGORY, "code": "x", "questions": [choice]}
    r = await client.post("/v1/admin/categories", json=bad, headers=admin)
    assert assert_error_shape(r, 422, "invalid_questions")["details"] == {"questions": ["when"]}
    bad = {**CATEGORY, "code": "x", "questions": [{**choice, "options": ["sang"], "colour": "red"}]}
    r = await client.post("/v1/admin/categories", json=bad, headers=admin)
    assert_error_shape(r, 400, "validation_error")

    # residents' apps see the new category at once, in their language
    public = (await client.get("/v1/categories", headers={"Accept-Language": "en"})).json()["items"]
    mine = next(c for c in public if c["code"] == "thu-nghiem")
    assert mine["name"] == "Fallen tree" and mine["deadlines"]["acknowledge_hours"] == 2

    r = await client.patch(
        "/v1/admin/categories/thu-nghiem",
        json={
            "name_en": "Fallen tree or branch",
            "resolve_value": 12,
            "resolve_unit": "hours",
            "active": False,
        },
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name_en"], r.json()["resolve_value"], r.json()["resolve_unit"]) == (
        "Fallen tree or branch",
        12,
        "hours",
    )
    assert r.json()["name_vi"] == "Cây đổ" and r.json()["active"] is False
    public = (await client.get("/v1/categories")).json()["items"]
    assert "thu-nghiem" not in [c["code"] for c in public]  # inactive: no longer offered
    assert_error_shape(
        await client.patch("/v1/admin/categories/nope", json={"sort": 1}, headers=admin),
        404,
        "category_not_found",
    )

    # routes need existing areas and agencies
    r = await client.put(
        "/v1/admin/agencies/CX-TEST",
        json={"name_vi": "Công ty cây xanh", "name_en": "Parks company"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["code"] == "CX-TEST"
    assert "CX-TEST" in [
        a["code"] for a in (await client.get("/v1/admin/agencies", headers=admin)).json()["items"]
    ]
    routes = {"routes": [{"area": "T1", "agency": "CX-TEST"}]}
    r = await client.put("/v1/admin/categories/thu-nghiem/routes", json=routes, headers=admin)
    assert r.status_code == 200 and r.json()["routes"] == [{"area": "T1", "agency": "CX-TEST"}]
    stored = (
        await db_conn.execute(
            text("SELECT area_code, agency_code FROM category_routes WHERE category_code = 'thu-nghiem'")
        )
    ).all()
    assert [tuple(x) for x in stored] == [("T1", "CX-TEST")]
    r = await client.put(
        "/v1/admin/categories/thu-nghiem/routes",
        json={"routes": [{"area": "T9", "agency": "NOPE"}]},
        headers=admin,
    )
    err = assert_error_shape(r, 422, "unknown_code")
    assert err["details"] == {"unknown": ["NOPE", "T9"]}
    r = await client.put("/v1/admin/categories/thu-nghiem/routes", json={"routes": []}, headers=admin)
    assert r.json()["routes"] == []
    listed = (await client.get("/v1/admin/categories", headers=admin)).json()["items"]
    assert "thu-nghiem" in [c["code"] for c in listed]


async def test_moderation_review(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    t0 = datetime(2031, 3, 3, 2, 0, tzinfo=UTC)
    r1 = await insert_report(db_conn, "W1", visibility="pending_review", created_at=t0)
    r2 = await insert_report(db_conn, "W2", visibility="pending_review", created_at=t0 + timedelta(minutes=5))
    shown = await insert_report(db_conn, "W2", visibility="public")
    mod_id, mod = await staff(db_conn, "moderator")
    _, mod_w2 = await staff(db_conn, "moderator", ["W2"])

    def codes(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        return [i["code"] for i in r.json()["items"]]

    assert codes(await client.get("/v1/moderation/queue", headers=mod)) == [r1.code, r2.code]
    assert codes(await client.get("/v1/moderation/queue", headers=mod_w2)) == [r2.code]
    page = await client.get("/v1/moderation/queue?limit=1", headers=mod)
    assert codes(page) == [r1.code]
    cursor = page.json()["next_cursor"]
    page = await client.get("/v1/moderation/queue", params={"cursor": cursor}, headers=mod)
    assert codes(page) == [r2.code] and page.json()["next_cursor"] is None

    # scoped moderator: another ward's report does not exist for them
    assert_error_shape(
        await client.post(f"/v1/moderation/{r1.code}", json={"action": "publish"}, headers=mod_w2),
        404,
        "report_not_found",
    )
    r = await client.post(
        f"/v1/moderation/{r1.code}", json={"action": "hide", "reason": "quảng cáo"}, headers=mod
    )
    assert r.status_code == 200 and r.json()["visibility"] == "hidden"
    ev = (
        await db_conn.execute(
            text("SELECT kind, actor_id, is_public, reason, data FROM report_events WHERE id = :id"),
            {"id": r.json()["event_id"]},
        )
    ).one()
    assert (
        ev.kind == "moderated"
        and ev.actor_id == mod_id
        and ev.is_public is False
        and ev.reason == "quảng cáo"
    )
    assert ev.data == {"action": "hide", "from_visibility": "pending_review", "to_visibility": "hidden"}
    assert codes(await client.get("/v1/moderation/queue", headers=mod)) == [r2.code]
    # a hidden report can be published after all; a public one cannot be published again
    assert (await client.post(f"/v1/moderation/{r1.code}", json={"action": "publish"}, headers=mod)).json()[
        "visibility"
    ] == "public"
    err = assert_error_shape(
        await client.post(f"/v1/moderation/{shown.code}", json={"action": "publish"}, headers=mod_w2),
        409,
        "invalid_transition",
    )
    assert err["details"] == {"visibility": "public", "allowed": ["hide"]}
    vis = await db_conn.scalar(text("SELECT visibility FROM reports WHERE id = :id"), {"id": r1.id})
    assert vis == "public"
    assert_error_shape(
        await client.post("/v1/moderation/PA-NONE-NONE", json={"action": "hide"}, headers=mod),
        404,
        "report_not_found",
    )


async def test_screened_report_is_reviewed_then_public(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    """A report whose text is abusive is held back; a moderator publishes it."""
    await make_city(db_conn)
    _, mod = await staff(db_conn, "moderator")
    category = await any_category(db_conn)
    _, me = await resident(client, locale="vi")
    held = await submit_report(client, me, "W1", category=category, description="Cống nghẹt cả tuần, dkm")
    code = held["code"]
    assert held["visibility"] == "pending_review"
    assert code not in (await client.get("/v1/reports")).text
    items = (await client.get("/v1/moderation/queue", headers=mod)).json()["items"]
    assert [(i["code"], i["held_for"]) for i in items] == [(code, ["abusive_language"])]
    r = await client.post(f"/v1/moderation/{code}", json={"action": "publish"}, headers=mod)
    assert r.status_code == 200 and r.json()["visibility"] == "public"
    assert code in (await client.get("/v1/reports")).text
    assert (await client.get("/v1/moderation/queue", headers=mod)).json()["items"] == []
