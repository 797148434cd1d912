"""POST /v1/reports/{code}/actions: every allowed and forbidden transition through HTTP (against the
table written out by hand in tests/workflow/transitions.py), events, scope, transfer, merge, assign,
comment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.casework.conftest import City
from tests.casework.transitions import PAIRS, THROUGH, TRANSITIONS, allowed, pair_id
from tests.factories import insert_report, resident

BODIES: dict[str, dict[str, Any]] = {
    "acknowledge": {},
    "start": {},
    "resolve": {"message": "Đã xử lý xong"},
    "reject": {"reason": "not_actionable", "message": "Không thuộc thẩm quyền"},
    "transfer": {"ward": "W2", "reason": "wrong_ward"},
    "merge": {},  # `into` filled per test
    "assign": {},  # `assignee` filled per test
    "comment": {"message": "Đang xử lý", "note": "gọi lại sau"},
    "hold": {"reason": "waiting_agency", "message": "Chờ điện lực kiểm tra"},
    "resume": {},
}

EVENT_KIND = {
    "acknowledge": "acknowledged",
    "start": "started",
    "resolve": "resolved",
    "reject": "rejected",
    "transfer": "transferred",
    "merge": "merged",
    "assign": "assigned",
    "comment": "commented",
    "hold": "on_hold",
    "resume": "resumed",
}


async def _events(db_conn: AsyncConnection, report_id: uuid.UUID) -> list[Any]:
    return list(
        (
            await db_conn.execute(
                text(
                    "SELECT kind, actor_id, from_status, to_status, public_message, internal_note, reason, "
                    "data, is_public FROM report_events WHERE report_id = :r AND kind <> 'created' "
                    "ORDER BY created_at"
                ),
                {"r": report_id},
            )
        ).all()
    )


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[pair_id(p) for p in PAIRS])
async def test_transition(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City, status: str, action: str
) -> None:
    officer_id, officer = city.officer_w1
    r = await insert_report(db_conn, "W1", status=status)
    v0 = await db_conn.scalar(text("SELECT version FROM reports WHERE id = :i"), {"i": r.id})
    body = {"action": action, **BODIES[action]}
    if action == "merge":
        body["into"] = (await insert_report(db_conn, "W1")).code
    if action == "assign":
        body["assignee"] = str(city.officer_w1b[0])
    resp = await wf_client.post(f"/v1/reports/{r.code}/actions", json=body, headers=officer)
    events = await _events(db_conn, r.id)
    expected = TRANSITIONS[(status, action)]
    if expected is not None:
        assert resp.status_code == 200, resp.text
        out = resp.json()
        assert out["status"] == expected and out["from_status"] == status
        assert out["allowed"] == allowed(expected)
        row = (
            await db_conn.execute(text("SELECT status, version FROM reports WHERE id = :i"), {"i": r.id})
        ).one()
        assert row.status == expected and row.version == v0 + 1
        through = THROUGH.get((status, action), ())
        assert [(e.from_status, e.to_status) for e in events] == list(
            zip((status, *through), (*through, expected), strict=True)
        )
        ev = events[-1]
        assert ev.kind == EVENT_KIND[action] and ev.actor_id == officer_id
    else:
        err = assert_error_shape(resp, 409, "invalid_transition")
        assert err["details"]["allowed"] == allowed(status)
        assert events == []
        row = (
            await db_conn.execute(text("SELECT status, version FROM reports WHERE id = :i"), {"i": r.id})
        ).one()
        assert row.status == status and row.version == v0


async def test_resolve_from_new_in_one_step(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    """A simple case resolved straight from new: acknowledged at the same instant (late if the ack
    deadline had passed), both events in the public timeline, one notification to the resident."""
    reporter_id, _ = await resident(db_conn)
    late = datetime.now(UTC) - timedelta(hours=2)
    r = await insert_report(db_conn, "W1", reporter_id=reporter_id, ack_due_at=late)
    resp = await wf_client.post(
        f"/v1/reports/{r.code}/actions",
        json={"action": "resolve", "message": "Đã vá ổ gà"},
        headers=city.officer_w1[1],
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["from_status"], resp.json()["status"]) == ("new", "resolved")
    row = (
        await db_conn.execute(
            text("SELECT acknowledged_at, resolved_at, ack_due_at FROM reports WHERE id = :i"), {"i": r.id}
        )
    ).one()
    assert row.acknowledged_at is not None and row.acknowledged_at == row.resolved_at
    assert row.acknowledged_at > row.ack_due_at  # the ack clock closed late, by the real time
    events = await _events(db_conn, r.id)
    assert [(e.kind, e.from_status, e.to_status, e.is_public) for e in events] == [
        ("acknowledged", "new", "acknowledged", True),
        ("resolved", "acknowledged", "resolved", True),
    ]
    told = (
        await db_conn.execute(
            text("SELECT kind FROM notifications WHERE user_id = :u AND report_code = :c"),
            {"u": reporter_id, "c": r.code},
        )
    ).all()
    assert [k for (k,) in told] == ["resolved"]


async def test_out_of_scope_is_404(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W2")
    resp = await wf_client.post(
        f"/v1/reports/{r.code}/actions", json={"action": "acknowledge"}, headers=city.officer_w1[1]
    )
    assert_error_shape(resp, 404, "report_not_found")
    missing = await wf_client.post(
        "/v1/reports/PA-NONE-0000/actions", json={"action": "acknowledge"}, headers=city.officer_w1[1]
    )
    assert missing.status_code == 404 and missing.json() == resp.json()
    # the leader of T1 reaches W2
    ok = await wf_client.post(
        f"/v1/reports/{r.code}/actions", json={"action": "acknowledge"}, headers=city.leader[1]
    )
    assert ok.status_code == 200, ok.text


async def test_residents_cannot_act(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1")
    _, someone = await resident(db_conn)
    resp = await wf_client.post(f"/v1/reports/{r.code}/actions", json={"action": "start"}, headers=someone)
    assert resp.status_code == 403


async def test_resolve_records_public_message_and_internal_note(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1", status="in_progress")
    resp = await wf_client.post(
        f"/v1/reports/{r.code}/actions",
        json={"action": "resolve", "message": "Đã vá ổ gà", "note": "đội 3"},
        headers=city.officer_w1[1],
    )
    assert resp.status_code == 200, resp.text
    (ev,) = await _events(db_conn, r.id)
    assert (ev.public_message, ev.internal_note, ev.is_public) == ("Đã vá ổ gà", "đội 3", True)
    resolved_at = await db_conn.scalar(text("SELECT resolved_at FROM reports WHERE id = :i"), {"i": r.id})
    assert resolved_at is not None


async def test_reject_needs_a_listed_reason(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1")
    resp = await wf_client.post(
        f"/v1/reports/{r.code}/actions",
        json={"action": "reject", "reason": "because"},
        headers=city.officer_w1[1],
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["details"]["reasons"] == [
        "not_actionable",
        "not_our_competence",
        "insufficient_information",
        "already_handled",
        "false_report",
        "inappropriate_content",
    ]


async def test_transfer_returns_to_new_in_the_other_ward(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    r = await insert_report(
        db_conn,
        "W1",
        status="in_progress",
        assignee_id=city.officer_w1[0],
        ack_due_at=long_ago,
        resolve_due_at=long_ago,
        acknowledged_at=long_ago,
    )
    before = datetime.now(UTC)
    resp = await wf_client.post(
        f"/v1/reports/{r.code}/actions",
        json={"action": "transfer", "ward": "W2", "reason": "wrong_ward", "note": "phía bên kia đường"},
        headers=city.officer_w1[1],
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["ward"] == "W2" and resp.json()["status"] == "new"
    row = (
        await db_conn.execute(
            text(
                "SELECT ward_code, status, assignee_id, ack_due_at, resolve_due_at, acknowledged_at "
                "FROM reports WHERE id = :i"
            ),
            {"i": r.id},
        )
    ).one()
    assert (row.ward_code, row.status, row.assignee_id, row.acknowledged_at) == ("W2", "new", None, None)
    # deadlines restarted from the transfer, on the category's clock
    assert row.ack_due_at > before and row.resolve_due_at > row.ack_due_at
    (ev,) = await _events(db_conn, r.id)
    assert ev.kind == "transferred" and ev.data == {
        "from_ward": "W1",
        "to_ward": "W2",
        "reason": "wrong_ward",
    }
    # it left W1's scope and entered W2's
    again = await wf_client.post(
        f"/v1/reports/{r.code}/actions", json={"action": "acknowledge"}, headers=city.officer_w1[1]
    )
    assert again.status_code == 404
    there = await wf_client.post(
        f"/v1/reports/{r.code}/actions", json={"action": "acknowledge"}, headers=city.officer_w2[1]
    )
    assert there.status_code == 200


async def test_transfer_checks(wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City) -> None:
    r = await insert_report(db_conn, "W1")
    h = city.officer_w1[1]
    url = f"/v1/reports/{r.code}/actions"
    for body, code in (
        ({"action": "transfer", "ward": "W2"}, "reason_required"),
        ({"action": "transfer", "ward": "W1", "reason": "x"}, "same_ward"),
        ({"action": "transfer", "ward": "T1", "reason": "x"}, "unknown_ward"),
        ({"action": "transfer", "ward": "NOPE", "reason": "x"}, "unknown_ward"),
    ):
        resp = await wf_client.post(url, json=body, headers=h)
        assert_error_shape(resp, 422, code)


async def test_leaders_transfer_only_within_their_area(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    from geo import AreaIn, upsert_area

    await upsert_area(db_conn, AreaIn(code="X", name="Tỉnh Khác", level="province"))
    await upsert_area(db_conn, AreaIn(code="X1", name="Xã Khác", level="commune", parent_code="X"))
    r = await insert_report(db_conn, "W1")
    url = f"/v1/reports/{r.code}/actions"
    out = await wf_client.post(
        url, json={"action": "transfer", "ward": "X1", "reason": "x"}, headers=city.leader[1]
    )
    assert_error_shape(out, 422, "ward_out_of_scope")
    inside = await wf_client.post(
        url, json={"action": "transfer", "ward": "W3", "reason": "x"}, headers=city.leader[1]
    )
    assert inside.status_code == 200 and inside.json()["ward"] == "W3"


async def test_merge_carries_followers(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    dup = await insert_report(db_conn, "W1")
    parent = await insert_report(db_conn, "W1")
    fans = [(await resident(db_conn))[0] for _ in range(3)]
    for fan in fans:
        await db_conn.execute(
            text("INSERT INTO report_follows (report_id, user_id) VALUES (:r, :u)"), {"r": dup.id, "u": fan}
        )
    # one fan already follows the parent: not counted twice
    await db_conn.execute(
        text("INSERT INTO report_follows (report_id, user_id) VALUES (:r, :u)"),
        {"r": parent.id, "u": fans[0]},
    )
    resp = await wf_client.post(
        f"/v1/reports/{dup.code}/actions",
        json={"action": "merge", "into": parent.code, "message": "Trùng với phản ánh khác"},
        headers=city.officer_w1[1],
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "duplicate"
    dup_reporter = await db_conn.scalar(text("SELECT reporter_id FROM reports WHERE id = :i"), {"i": dup.id})
    followers = set(
        (
            await db_conn.scalars(
                text("SELECT user_id FROM report_follows WHERE report_id = :r"), {"r": parent.id}
            )
        ).all()
    )
    assert followers == {*fans, dup_reporter}
    row = (
        await db_conn.execute(text("SELECT follower_count FROM reports WHERE id = :p"), {"p": parent.id})
    ).one()
    assert row.follower_count == 4
    assert (
        await db_conn.scalar(text("SELECT duplicate_of FROM reports WHERE id = :i"), {"i": dup.id})
        == parent.id
    )
    (ev,) = await _events(db_conn, dup.id)
    assert ev.kind == "merged" and ev.data["into"] == parent.code and ev.is_public
    # the duplicate's reporter is told, naming the report it was merged into
    told = (
        await db_conn.execute(
            text("SELECT body_en FROM notifications WHERE user_id = :u AND kind = 'merged'"),
            {"u": dup_reporter},
        )
    ).all()
    assert len(told) == 1 and parent.code in told[0].body_en


async def test_merge_target_must_be_in_scope_and_live(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    dup = await insert_report(db_conn, "W1")
    foreign = await insert_report(db_conn, "W2")
    dead = await insert_report(db_conn, "W1", status="rejected")
    url = f"/v1/reports/{dup.code}/actions"
    h = city.officer_w1[1]
    r1 = await wf_client.post(url, json={"action": "merge", "into": foreign.code}, headers=h)
    assert_error_shape(r1, 404, "merge_target_not_found")
    r2 = await wf_client.post(url, json={"action": "merge", "into": dead.code}, headers=h)
    assert_error_shape(r2, 409, "invalid_merge_target")
    r3 = await wf_client.post(url, json={"action": "merge", "into": dup.code}, headers=h)
    assert r3.status_code == 422


async def test_assign_only_to_staff_in_scope(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1")
    url = f"/v1/reports/{r.code}/actions"
    h = city.officer_w1[1]
    bad = await wf_client.post(url, json={"action": "assign", "assignee": str(city.officer_w2[0])}, headers=h)
    assert_error_shape(bad, 422, "assignee_out_of_scope")
    good = await wf_client.post(
        url, json={"action": "assign", "assignee": str(city.officer_w1b[0])}, headers=h
    )
    assert good.status_code == 200 and good.json()["assignee"] == str(city.officer_w1b[0])
    (ev,) = await _events(db_conn, r.id)
    assert ev.kind == "assigned" and not ev.is_public


async def test_comment_needs_text_and_note_only_is_private(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1", status="resolved")
    url = f"/v1/reports/{r.code}/actions"
    h = city.officer_w1[1]
    empty = await wf_client.post(url, json={"action": "comment"}, headers=h)
    assert empty.status_code == 422
    ok = await wf_client.post(url, json={"action": "comment", "note": "chỉ nội bộ"}, headers=h)
    assert ok.status_code == 200 and ok.json()["status"] == "resolved"
    (ev,) = await _events(db_conn, r.id)
    assert ev.is_public is False and ev.internal_note == "chỉ nội bộ"


async def test_stale_version_is_409(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1")
    url = f"/v1/reports/{r.code}/actions"
    h = city.officer_w1[1]
    v0 = await db_conn.scalar(text("SELECT version FROM reports WHERE id = :i"), {"i": r.id})
    first = await wf_client.post(url, json={"action": "acknowledge", "version": v0}, headers=h)
    assert first.status_code == 200 and first.json()["version"] == v0 + 1
    stale = await wf_client.post(url, json={"action": "start", "version": v0}, headers=h)
    assert_error_shape(stale, 409, "version_conflict")


async def test_unknown_field_is_400(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1")
    resp = await wf_client.post(
        f"/v1/reports/{r.code}/actions", json={"action": "start", "bogus": 1}, headers=city.officer_w1[1]
    )
    assert resp.status_code == 400


async def test_bad_media_leaves_no_trace(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1", status="in_progress")
    resp = await wf_client.post(
        f"/v1/reports/{r.code}/actions",
        json={"action": "resolve", "message": "xong", "media_ids": [str(uuid.uuid4())]},
        headers=city.officer_w1[1],
    )
    assert resp.status_code == 422, resp.text
    status = await db_conn.scalar(text("SELECT status FROM reports WHERE id = :i"), {"i": r.id})
    assert status == "in_progress" and await _events(db_conn, r.id) == []


async def test_staff_timeline_names_who_and_what(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    """The staff view's timeline reads without ids: the acting officer, the assignee, the wards of a
    transfer and the report a duplicate went into, by name; the public view shows none of it."""
    r = await insert_report(db_conn, "W1")
    target = await insert_report(db_conn, "W2")
    url = f"/v1/reports/{r.code}/actions"
    h = city.officer_w1[1]
    assignee = str(city.officer_w1b[0])
    assert (await wf_client.post(url, json={"action": "assign", "assignee": assignee}, headers=h)).is_success
    moved = await wf_client.post(
        url, json={"action": "transfer", "ward": "W2", "reason": "wrong_ward"}, headers=h
    )
    assert moved.is_success, moved.text
    merged = await wf_client.post(
        url, json={"action": "merge", "into": target.code}, headers=city.officer_w2[1]
    )
    assert merged.is_success, merged.text
    names: dict[str, str] = {
        i: n for i, n in await db_conn.execute(text("SELECT id::text, display_name FROM users"))
    }
    view = (await wf_client.get(f"/v1/reports/{r.code}", headers=city.leader[1])).json()
    by_kind = {e["kind"]: e for e in view["timeline"]}
    assert by_kind["assigned"]["actor"] == {
        "id": str(city.officer_w1[0]),
        "name": names[str(city.officer_w1[0])],
    }
    assert by_kind["assigned"]["assignee"] == {"id": assignee, "name": names[assignee]}
    ward_names: dict[str, str] = {
        c: n for c, n in await db_conn.execute(text("SELECT code, name FROM areas WHERE code IN ('W1','W2')"))
    }
    assert by_kind["transferred"]["from_ward"] == {"code": "W1", "name": ward_names["W1"]}
    assert by_kind["transferred"]["to_ward"] == {"code": "W2", "name": ward_names["W2"]}
    assert by_kind["merged"]["into"] == target.code
    assert by_kind["merged"]["actor"]["id"] == str(city.officer_w2[0])
    public = await wf_client.get(f"/v1/reports/{r.code}")
    assert public.status_code == 200, public.text
    assert public.json()["timeline"]
    for e in public.json()["timeline"]:
        assert not {"actor", "assignee", "from_ward", "to_ward", "into"} & set(e)


async def test_options_say_what_the_caller_may_do_now(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1", status="acknowledged")
    got = await wf_client.get(f"/v1/reports/{r.code}/actions", headers=city.officer_w1[1])
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["status"] == "acknowledged" and body["allowed"] == allowed("acknowledged")
    assert "not_actionable" in body["reject_reasons"] and "wrong_ward" in body["transfer_reasons"]
    # the officers and leaders whose scope covers W1, not W2's officer
    ids = {a["id"] for a in body["assignees"]}
    assert {str(city.officer_w1[0]), str(city.officer_w1b[0]), str(city.leader[0])} <= ids
    assert str(city.officer_w2[0]) not in ids
    assert "W2" in {w["code"] for w in body["wards"]} and "W1" not in {w["code"] for w in body["wards"]}
    outside = await wf_client.get(f"/v1/reports/{r.code}/actions", headers=city.officer_w2[1])
    assert outside.status_code == 404
    _, me = await resident(wf_client)
    assert (await wf_client.get(f"/v1/reports/{r.code}/actions", headers=me)).status_code == 403


async def test_a_refused_move_names_the_action_and_status_in_words(
    wf_client: httpx.AsyncClient, db_conn: AsyncConnection, city: City
) -> None:
    r = await insert_report(db_conn, "W1", status="resolved")
    url = f"/v1/reports/{r.code}/actions"
    vi = await wf_client.post(url, json={"action": "start"}, headers=city.officer_w1[1])
    assert vi.status_code == 409 and vi.json()["error"]["code"] == "invalid_transition"
    assert (
        vi.json()["error"]["message"] == "Không thể bắt đầu xử lý phản ánh đang ở trạng thái “đã xử lý xong”."
    )
    en = await wf_client.post(
        url, json={"action": "start"}, headers=city.officer_w1[1] | {"Accept-Language": "en"}
    )
    assert en.json()["error"]["message"] == "Cannot start work on a case that is “resolved”."
    assert en.json()["error"]["details"]["status"] == "resolved"  # the codes stay in the details
