"""End to end: a resident reports, an officer works and resolves the case, the worker delivers, and
the resident's phone (the fake FCM) gets a localised push with the report code and new status;
the inbox shows it. The officer is told when the case arrives."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

import push
from api import worker
from api.core.db import Database
from api.core.settings import Settings
from tests.factories import (
    any_category,
    insert_report,
    make_city,
    report_event,
    resident,
    staff,
    submit_report,
)
from tests.support.fake_fcm import FakeFcm


async def work_until_idle(database: Database, settings: Settings) -> None:
    """Worker rounds until one finds nothing to do; then the FCM senders are closed."""
    try:
        while await worker.run_once(database, settings):
            pass
    finally:
        await push.close_senders()


async def test_resident_reports_officer_resolves_phone_gets_the_push(
    app: Litestar,
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    database: Database,
    settings: Settings,
    fake_fcm: FakeFcm,
    fcm_credentials: Path,
) -> None:
    await make_city(db_conn)
    _, officer = await staff(db_conn, "officer", ["W1"], settings=settings)
    _, other_ward = await staff(db_conn, "officer", ["W2"], settings=settings)
    _, me = await resident(client, locale="en")

    # phones: the resident's (English) and the officers'
    for auth, token, locale in (
        (me, "resident-phone", "en"),
        (officer, "officer-phone", "vi"),
        (other_ward, "w2-phone", "vi"),
    ):
        r = await client.post(
            "/v1/me/devices", json={"token": token, "platform": "android", "locale": locale}, headers=auth
        )
        assert r.status_code == 200, r.text

    created = await submit_report(
        client,
        {**me, "Idempotency-Key": str(uuid.uuid4())},
        "W1",
        category=await any_category(db_conn),
        description="Rác thải đổ bừa bãi ở đầu hẻm",
    )
    code = created["code"]

    for action in (
        {"action": "acknowledge"},
        {"action": "start"},
        {"action": "resolve", "message": "Đã dọn sạch rác, cảm ơn bạn"},
    ):
        r = await client.post(f"/v1/reports/{code}/actions", json=action, headers=officer)
        assert r.status_code in (200, 201), r.text

    await work_until_idle(database, settings.with_(fcm_credentials=str(fcm_credentials)))

    to_me = [m for m in fake_fcm.delivered if m["token"] == "resident-phone"]
    # one push per public change (sent in one batch, so in no particular order)
    assert sorted(m["data"]["status"] for m in to_me) == ["acknowledged", "in_progress", "resolved"]
    [resolved] = [m for m in to_me if m["data"]["status"] == "resolved"]
    assert resolved["data"]["report_code"] == code
    assert resolved["notification"]["title"] == "Resolved"  # the device's language
    assert code in resolved["notification"]["body"] and "Đã dọn sạch rác" in resolved["notification"]["body"]

    to_officer = [m for m in fake_fcm.delivered if m["token"] == "officer-phone"]
    assert [m["data"]["report_code"] for m in to_officer] == [code]
    assert to_officer[0]["notification"]["title"] == "Phản ánh mới"
    assert not [m for m in fake_fcm.delivered if m["token"] == "w2-phone"]  # another ward's officer

    inbox = (await client.get("/v1/me/notifications", headers={**me, "Accept-Language": "en"})).json()
    assert inbox["unread"] == 3
    assert inbox["items"][0]["report_code"] == code and inbox["items"][0]["title"] == "Resolved"
    assert inbox["items"][0]["data"]["status"] == "resolved"


async def test_events_appended_by_the_reports_service_reach_the_phone_and_the_inbox(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    session: AsyncSession,
    database: Database,
    settings: Settings,
    fake_fcm: FakeFcm,
    fcm_credentials: Path,
) -> None:
    """The same path below HTTP: events written through `api.reports.append_event` (which calls the
    notifications hook in its transaction), delivered by a worker round, read back over HTTP."""
    await make_city(db_conn)
    officer, _ = await staff(db_conn, "officer", ["W1"], settings=settings)
    me, auth = await resident(client, locale="vi")
    r = await client.post(
        "/v1/me/devices", json={"token": "my-phone", "platform": "ios", "locale": "vi"}, headers=auth
    )
    assert r.status_code == 200
    report = await insert_report(db_conn, "W1", reporter_id=me)

    for kind, status, message in (
        ("acknowledged", "acknowledged", None),
        ("resolved", "resolved", "Đã thông cống, hết ngập"),
    ):
        await report_event(session, report, kind, actor=officer, status=status, message=message)
        await session.commit()

    await work_until_idle(database, settings.with_(fcm_credentials=str(fcm_credentials)))

    to_me = [m for m in fake_fcm.delivered if m["token"] == "my-phone"]
    assert sorted(m["data"]["status"] for m in to_me) == ["acknowledged", "resolved"]
    assert {m["data"]["report_code"] for m in to_me} == {report.code}
    [resolved] = [m for m in to_me if m["data"]["status"] == "resolved"]
    assert resolved["notification"] == {
        "title": "Đã xử lý xong",
        "body": f"{report.code}: Đã thông cống, hết ngập",
    }

    inbox = (await client.get("/v1/me/notifications", headers=auth)).json()
    assert inbox["unread"] == 2
    assert {i["title"] for i in inbox["items"]} == {"Đã tiếp nhận phản ánh", "Đã xử lý xong"}
    assert {i["report_code"] for i in inbox["items"]} == {report.code}
