"""Media on reports: attaching through POST /v1/reports and officer actions, limits, visibility."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core.settings import Settings
from tests.assertions import assert_error_shape
from tests.factories import centre, declare, make_city, resident, staff, upload
from tests.media.conftest import Worker
from tests.media.files import jpeg, mp4, png

LAT, LNG = centre("W1")


def report(category: str = "ngap-nuoc", **kw: object) -> dict[str, object]:
    return {"category": category, "description": "Đường ngập sâu", "lat": LAT, "lng": LNG, **kw}


async def test_report_with_photos_and_video_end_to_end(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    ids = [
        await upload(client, me, jpeg(gps=(LAT, LNG))),
        await upload(client, me, png(), content_type="image/png"),
    ]
    vid = await upload(client, me, mp4(), kind="video", content_type="video/mp4")
    r = await client.post("/v1/reports", json=report(media_ids=[str(i) for i in [*ids, vid]]), headers=me)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    # the reporter sees them processing; the public sees none yet
    mine = (await client.get(f"/v1/reports/{code}", headers=me)).json()["media"]
    assert [m["id"] for m in mine] == [str(i) for i in [*ids, vid]]
    assert {m["status"] for m in mine} == {"processing"}
    assert (await client.get(f"/v1/reports/{code}")).json()["media"] == []
    stats = await run_worker()
    assert (stats.ready, stats.rejected) == (3, 0)
    public = (await client.get(f"/v1/reports/{code}")).json()["media"]
    assert [m["status"] for m in public] == ["ready"] * 3
    assert set(public[0]["renditions"]) == {"thumb", "large"} and public[0]["width"] == 640
    assert set(public[2]["renditions"]) == {"video", "poster"} and public[2]["duration_s"] == 1.0
    # what the items say beside their links (a signed link's random letters may spell anything)
    text_ = str([{k: v for k, v in m.items() if k != "renditions"} for m in public])
    assert "gps" not in text_ and "taken_at" not in text_ and "far_from_report" not in text_
    # the rendition links work without a token
    thumb = await client.get(public[0]["renditions"]["thumb"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    assert thumb.content[:4] == b"RIFF"
    # the public media view
    one = await client.get(f"/v1/media/{ids[0]}")
    assert one.status_code == 200 and one.json()["status"] == "ready" and "far_from_report" not in one.json()
    # the photo was taken on the spot: not flagged (staff see the flag)
    row = (
        await db_conn.execute(
            text("SELECT far_from_report, distance_from_report_m, private FROM media WHERE id = :i"),
            {"i": ids[0]},
        )
    ).one()
    assert row.far_from_report is False and row.distance_from_report_m < 50 and row.private["gps"]


async def test_far_from_report_flag_for_staff_only(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    far = await upload(client, me, jpeg(gps=(LAT + 0.05, LNG)))  # ~5.5 km north
    await run_worker()  # processed before it is attached: the flag is set when attaching
    r = await client.post("/v1/reports", json=report(media_ids=[str(far)]), headers=me)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    _, officer = await staff(db_conn, "officer", ["W1"])
    staff_view = (await client.get(f"/v1/media/{far}", headers=officer)).json()
    assert staff_view["far_from_report"] is True
    assert "gps" not in str({k: v for k, v in staff_view.items() if k != "renditions"})
    assert (await client.get(f"/v1/reports/{code}", headers=officer)).json()["media"][0]["far_from_report"]
    assert "far_from_report" not in (await client.get(f"/v1/media/{far}")).json()
    _, officer_w2 = await staff(db_conn, "officer", ["W2"])  # out of scope: the public view
    assert "far_from_report" not in (await client.get(f"/v1/media/{far}", headers=officer_w2)).json()


async def test_attach_rules(client: httpx.AsyncClient, db_conn: AsyncConnection, settings: Settings) -> None:
    await make_city(db_conn)
    _, me = await resident(client, "a")
    _, other = await resident(client, "b")
    photos = [await upload(client, me, jpeg(64, 48, quality=q)) for q in range(70, 76)]
    too_many = await client.post("/v1/reports", json=report(media_ids=[str(i) for i in photos]), headers=me)
    err = assert_error_shape(too_many, 422, "too_many_photos")
    assert err["details"] == {"limit": "PHANANH_MAX_PHOTOS_PER_REPORT", "max": 5, "count": 6}
    vids = [
        await upload(client, me, mp4(0.5 + i / 10), kind="video", content_type="video/mp4") for i in range(2)
    ]
    err = assert_error_shape(
        await client.post("/v1/reports", json=report(media_ids=[str(v) for v in vids]), headers=me),
        422,
        "too_many_videos",
    )
    assert err["details"]["limit"] == "PHANANH_MAX_VIDEOS_PER_REPORT"
    # someone else's media, or an unknown id: the same answer
    theirs = await upload(client, other, jpeg(32, 32))
    for bad in (theirs, uuid.uuid4()):
        err = assert_error_shape(
            await client.post("/v1/reports", json=report(media_ids=[str(bad)]), headers=me),
            422,
            "media_not_found",
        )
        assert err["details"] == {"ids": [str(bad)]}
    # declared but never completed
    t = await declare(client, me, jpeg(16, 16))
    assert_error_shape(
        await client.post("/v1/reports", json=report(media_ids=[t["id"]]), headers=me),
        422,
        "media_not_uploaded",
    )
    # refused at completion
    p = png()
    t = await declare(client, me, p, content_type="image/jpeg")
    await client.put(t["url"], content=p)
    await client.post(f"/v1/uploads/{t['id']}/complete", headers=me)
    err = assert_error_shape(
        await client.post("/v1/reports", json=report(media_ids=[t["id"]]), headers=me), 422, "media_rejected"
    )
    assert err["details"]["reason"] == "type_mismatch"
    # the same id twice
    assert_error_shape(
        await client.post("/v1/reports", json=report(media_ids=[str(photos[0])] * 2), headers=me),
        422,
        "duplicate_media",
    )
    # nothing was attached by the failed attempts; five photos and a video go
    ok = await client.post(
        "/v1/reports", json=report(media_ids=[str(i) for i in photos[:5]] + [str(vids[0])]), headers=me
    )
    assert ok.status_code == 201, ok.text
    # already attached
    assert_error_shape(
        await client.post("/v1/reports", json=report(media_ids=[str(photos[0])]), headers=me),
        422,
        "media_already_attached",
    )
    n = await db_conn.scalar(text("SELECT count(*) FROM media WHERE report_id IS NOT NULL"))
    assert n == 6


async def test_photo_required_category(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    cat = "can-anh-thu"  # a category of this test's own that asks for a photo
    await db_conn.execute(
        text(
            "INSERT INTO categories (code, name_vi, name_en, ack_hours, resolve_value, resolve_unit, "
            "photo_required, active) VALUES (:c, 'Cần ảnh', 'Photo needed', 4, 3, 'days', true, true)"
        ),
        {"c": cat},
    )
    _, me = await resident(client)
    assert_error_shape(await client.post("/v1/reports", json=report(cat), headers=me), 422, "photo_required")
    pid = await upload(client, me, jpeg())
    r = await client.post("/v1/reports", json=report(cat, media_ids=[str(pid)]), headers=me)
    assert r.status_code == 201, r.text


async def test_officer_resolves_with_photos(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    resident_photo = await upload(client, me, jpeg())
    r = await client.post("/v1/reports", json=report(media_ids=[str(resident_photo)]), headers=me)
    code = r.json()["code"]
    _, officer = await staff(db_conn, "officer", ["W1"])
    proof = await upload(client, officer, jpeg(800, 600))
    assert (
        await client.post(f"/v1/reports/{code}/actions", json={"action": "start"}, headers=officer)
    ).is_success
    # a resident's media cannot be attached by the officer
    bad = await client.post(
        f"/v1/reports/{code}/actions",
        json={"action": "resolve", "media_ids": [str(resident_photo)]},
        headers=officer,
    )
    assert_error_shape(bad, 422, "media_not_found")
    r = await client.post(
        f"/v1/reports/{code}/actions",
        json={"action": "resolve", "message": "Đã xử lý", "media_ids": [str(proof)]},
        headers=officer,
    )
    assert r.status_code == 200, r.text
    event_id = r.json().get("event_id")
    await run_worker()
    media = (await client.get(f"/v1/reports/{code}")).json()["media"]
    assert [m["id"] for m in media] == [str(resident_photo), str(proof)]
    assert "event_id" not in media[0] and media[1]["event_id"] == (event_id or media[1]["event_id"])
    # the officer's photos count apart from the resident's
    row = (
        await db_conn.execute(text("SELECT event_id, position FROM media WHERE id = :i"), {"i": proof})
    ).one()
    assert row.event_id is not None and row.position == 0


async def test_media_visibility(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    _, me = await resident(client, "a")
    _, other = await resident(client, "b")
    pid = await upload(client, me, jpeg())
    # unattached: only its uploader
    assert (await client.get(f"/v1/media/{pid}", headers=me)).status_code == 200
    assert_error_shape(await client.get(f"/v1/media/{pid}", headers=other), 404, "media_not_found")
    assert_error_shape(await client.get(f"/v1/media/{pid}"), 404, "media_not_found")
    _, officer = await staff(db_conn, "officer", ["W1"])
    assert (await client.get(f"/v1/media/{pid}", headers=officer)).status_code == 404
    r = await client.post("/v1/reports", json=report(media_ids=[str(pid)]), headers=me)
    assert r.status_code == 201
    # attached to a public report but still processing: staff in scope see it, the public does not
    got = await client.get(f"/v1/media/{pid}", headers=officer)
    assert got.status_code == 200 and got.json()["status"] == "processing" and got.json()["renditions"] == {}
    assert (await client.get(f"/v1/media/{pid}", headers=other)).status_code == 404


async def test_merge_carries_the_duplicates_media_to_the_case(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker
) -> None:
    """Two residents report the same flood; the officer merges one into the other: the case shows
    both residents' photos (the carried one marked with its report), and the duplicate keeps its own."""
    await make_city(db_conn)
    _, first = await resident(client)
    _, second = await resident(client)
    mine = await upload(client, first, jpeg())
    theirs = await upload(client, second, png(), content_type="image/png")
    parent = (await client.post("/v1/reports", json=report(media_ids=[str(mine)]), headers=first)).json()
    dup = (await client.post("/v1/reports", json=report(media_ids=[str(theirs)]), headers=second)).json()
    assert (await run_worker()).ready == 2
    _, officer = await staff(db_conn, "officer", ["W1"])
    r = await client.post(
        f"/v1/reports/{dup['code']}/actions",
        json={"action": "merge", "into": parent["code"]},
        headers=officer,
    )
    assert r.status_code == 200, r.text

    public = (await client.get(f"/v1/reports/{parent['code']}")).json()["media"]
    assert [(m["id"], m.get("from_report")) for m in public] == [
        (str(mine), None),
        (str(theirs), dup["code"]),
    ]
    assert public[1]["status"] == "ready" and set(public[1]["renditions"]) == {"thumb", "large"}
    staff_view = (await client.get(f"/v1/reports/{parent['code']}", headers=officer)).json()["media"]
    assert [m["id"] for m in staff_view] == [str(mine), str(theirs)]
    # the duplicate's resident still sees their own photo on their report
    own = (await client.get(f"/v1/reports/{dup['code']}", headers=second)).json()["media"]
    assert [m["id"] for m in own] == [str(theirs)] and "from_report" not in own[0]
