"""GET /v1/me/export: everything held about the resident asking, and nothing about anyone else."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import push
from api.core.db import Database
from tests.assertions import assert_error_shape
from tests.factories import centre, make_city, resident, set_state, staff


async def _report(client: httpx.AsyncClient, headers: dict[str, str], description: str) -> dict[str, str]:
    lat, lng = centre("W1")
    r = await client.post(
        "/v1/reports",
        json={
            "category": "ngap-nuoc",
            "description": description,
            "lat": lat,
            "lng": lng,
            "address": "12 Lê Lợi",
            "answers": {"depth_cm": 30},
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _photo(db_conn: AsyncConnection, report_id: str, owner: uuid.UUID) -> uuid.UUID:
    """A processed photo of a report (its row only: links are signed without reading the store)."""
    mid = uuid.uuid4()
    await db_conn.execute(
        text(
            """
            INSERT INTO media (id, owner_id, kind, content_type, size, storage_key, status, report_id,
                               position, renditions, attached_at, expires_at)
            VALUES (:id, :owner, 'photo', 'image/jpeg', 20, :key, 'ready', :report, 0,
                    CAST(:renditions AS jsonb), now(), now() + interval '1 day')
            """
        ),
        {
            "id": mid,
            "owner": owner,
            "key": f"o/{uuid.uuid4().hex}",
            "report": report_id,
            "renditions": json.dumps(
                {"large": {"key": f"r/{uuid.uuid4().hex}/large.webp", "content_type": "image/webp"}}
            ),
        },
    )
    return mid


async def test_export_holds_the_residents_data_and_nobody_elses(
    client: httpx.AsyncClient, db_conn: AsyncConnection, database: Database
) -> None:
    await make_city(db_conn)
    me_id, me = await resident(client, "export-me")
    other_id, other = await resident(client, "export-other")
    assert (
        await client.patch(
            "/v1/me", json={"display_name": "Trần Thị Bình", "phone": "0912345678"}, headers=me
        )
    ).is_success
    assert (
        await client.patch(
            "/v1/me", json={"display_name": "Lê Văn Cường", "phone": "0987654321"}, headers=other
        )
    ).is_success
    r = await client.post(
        "/v1/me/devices", json={"token": "fcm-token-of-mine-WXYZ", "platform": "android"}, headers=me
    )
    assert r.status_code == 200, r.text
    await client.post(
        "/v1/me/devices", json={"token": "fcm-token-of-other-QQQQ", "platform": "ios"}, headers=other
    )

    mine = await _report(client, me, "Ngập ở ngã tư")
    theirs = await _report(client, other, "Ngập trước chợ")
    duplicate = await _report(client, other, "Cũng ngập ở ngã tư")
    my_photo = await _photo(db_conn, mine["id"], me_id)
    their_photo = await _photo(db_conn, duplicate["id"], other_id)
    await db_conn.execute(  # their duplicate, merged into mine: its photo is carried over to my case
        text(
            "UPDATE reports SET status = 'duplicate', duplicate_of = :into, closed_at = now() WHERE id = :id"
        ),
        {"into": mine["id"], "id": duplicate["id"]},
    )
    assert (await client.post(f"/v1/reports/{theirs['code']}/follow", headers=me)).is_success
    await set_state(db_conn, mine["code"], status="resolved", resolved_days_ago=1)
    rated = await client.post(
        f"/v1/reports/{mine['code']}/rating", json={"stars": 5, "comment": "Nhanh"}, headers=me
    )
    assert rated.is_success, rated.text
    async with database.session() as s:
        await push.notify(
            s,
            user_ids=[me_id, other_id],
            kind="resolved",
            texts={"vi": push.Text("Đã xử lý", f"Phản ánh {mine['code']}")},
            report_code=mine["code"],
        )
        await s.commit()

    carried = (await client.get(f"/v1/reports/{mine['code']}")).json()["media"]
    assert {m["id"] for m in carried} == {str(my_photo), str(their_photo)}  # the public page shows both

    r = await client.get("/v1/me/export", headers=me)
    assert r.status_code == 200, r.text
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date().isoformat()
    assert r.headers["content-disposition"] == f'attachment; filename="phananh-export-{today}.json"'
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {
        "generated_at",
        "account",
        "app_installs",
        "push_devices",
        "reports",
        "follows",
        "ratings",
        "notifications",
    }
    account = body["account"]
    assert (account["id"], account["display_name"], account["phone"], account["locale"]) == (
        str(me_id),
        "Trần Thị Bình",
        "0912345678",
        "vi",
    )
    assert account["role"] == "resident" and account["created_at"]
    assert [(i["device_id"], i["platform"]) for i in body["app_installs"]] == [("…0001", "android")]
    assert [d["token"] for d in body["push_devices"]] == ["…WXYZ"]

    assert [x["code"] for x in body["reports"]] == [mine["code"]]
    report = body["reports"][0]
    assert report["description"] == "Ngập ở ngã tư" and report["address"] == "12 Lê Lợi"
    assert report["answers"] == {"depth_cm": 30} and report["category"]["code"] == "ngap-nuoc"
    assert report["status"] == "resolved" and {"lat", "lng"} <= set(report)
    assert report["reporter"] == {"display_name": "Trần Thị Bình", "id": str(me_id), "phone": "0912345678"}
    assert [e["kind"] for e in report["timeline"]][:1] == ["created"]
    assert all("note" not in e and "actor_role" not in e for e in report["timeline"])
    assert [m["id"] for m in report["media"]] == [str(my_photo)]
    assert report["media"][0]["renditions"]["large"].startswith("http://testserver/media/local/")

    assert [f["report_code"] for f in body["follows"]] == [theirs["code"]]
    assert [(x["report_code"], x["stars"], x["comment"]) for x in body["ratings"]] == [
        (mine["code"], 5, "Nhanh")
    ]
    notified = [n for n in body["notifications"] if n["kind"] == "resolved"]
    assert [(n["report_code"], n["title_vi"]) for n in notified] == [(mine["code"], "Đã xử lý")]

    # nothing about the other resident: not their account, devices, reports, photos or notifications
    raw = r.text
    for secret in (
        str(other_id),
        "Lê Văn Cường",
        "0987654321",
        "QQQQ",
        "export-other",
        "Ngập trước chợ",
        duplicate["code"],
        str(their_photo),
    ):
        assert secret not in raw, secret
    assert not re.search(r"fcm-token|device-export", raw)  # no whole credential


async def test_export_is_for_residents(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, officer = await staff(db_conn, "officer", ["W1"])
    r = await client.get("/v1/me/export", headers=officer)
    assert_error_shape(r, 403, "staff_account")
    assert (await client.get("/v1/me/export")).status_code == 401
