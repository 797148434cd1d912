"""The upload flow against the local store, through HTTP: declare → PUT → complete."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core.settings import Settings
from tests.assertions import assert_error_shape
from tests.factories import declare, resident, upload
from tests.media.files import jpeg, mp4, png


def stored_files(settings: Settings) -> list[Path]:
    root = settings.media_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def row(db_conn: AsyncConnection, media_id: uuid.UUID | str) -> dict[str, object] | None:
    r = (
        await db_conn.execute(
            text("SELECT status, reason, storage_key, sniffed_type, owner_id FROM media WHERE id = :i"),
            {"i": uuid.UUID(str(media_id))},
        )
    ).first()
    return dict(r._mapping) if r else None


async def test_photo_and_video_round_trip(
    client: httpx.AsyncClient, db_conn: AsyncConnection, settings: Settings
) -> None:
    uid, me = await resident(client)
    for data, kind, ct in (
        (jpeg(), "photo", "image/jpeg"),
        (png(), "photo", "image/png"),
        (mp4(), "video", "video/mp4"),
    ):
        ticket = await declare(client, me, data, kind=kind, content_type=ct)
        assert ticket["method"] == "PUT" and "/v1/uploads/" in ticket["url"] and "sig=" in ticket["url"]
        assert ticket["headers"] == {"Content-Type": ct} and ticket["expires_at"]
        # the signed URL needs no token (like an S3 presigned URL)
        r = await client.put(ticket["url"], content=data, headers=ticket["headers"])
        assert r.status_code == 200, r.text
        assert r.json()["received"] == len(data)
        r = await client.post(f"/v1/uploads/{ticket['id']}/complete", headers=me)
        assert r.status_code == 200, r.text
        assert r.json() == {"media_id": ticket["id"], "status": "processing"}
        got = await row(db_conn, ticket["id"])
        assert got is not None and got["status"] == "processing" and got["sniffed_type"] == ct
        assert got["owner_id"] == uid
        # the key is random: neither the uploader nor the media id appear in it
        key = str(got["storage_key"])
        assert str(uid) not in key and ticket["id"] not in key
        assert (settings.media_dir / key).read_bytes() == data
        r = await client.get(f"/v1/media/{ticket['id']}", headers=me)
        assert r.status_code == 200 and r.json()["status"] == "processing" and r.json()["kind"] == kind


async def test_bearer_put_by_the_uploader_only(client: httpx.AsyncClient) -> None:
    _, me = await resident(client, "a")
    _, other = await resident(client, "b")
    data = jpeg()
    t = await declare(client, me, data)
    path = f"/v1/uploads/{t['id']}/content"
    assert_error_shape(await client.put(path, content=data), 401, "unauthorized")
    assert_error_shape(await client.put(path, content=data, headers=other), 404, "media_not_found")
    tampered = t["url"].replace("sig=", "sig=x")
    assert_error_shape(await client.put(tampered, content=data), 403, "invalid_signature")
    r = await client.put(path, content=data, headers=me)
    assert r.status_code == 200, r.text
    r = await client.post(f"/v1/uploads/{t['id']}/complete", headers=me)
    assert r.status_code == 200
    # once completed, no more bytes
    assert_error_shape(await client.put(t["url"], content=data), 409, "upload_already_completed")


async def test_too_large_body_is_refused_and_leaves_nothing(
    client: httpx.AsyncClient, settings: Settings, db_conn: AsyncConnection
) -> None:
    _, me = await resident(client)
    data = jpeg()
    t = await declare(client, me, data, sha256=False)

    async def body():
        yield data
        for _ in range(64):
            yield b"\0" * 65536

    r = await client.put(t["url"], content=body(), headers=t["headers"])
    err = assert_error_shape(r, 413, "body_too_large")
    assert err["details"] == {"declared_size": len(data)}
    assert stored_files(settings) == []
    # a second, correct PUT replaces the failed one
    r = await client.put(t["url"], content=data, headers=t["headers"])
    assert r.status_code == 200
    assert len(stored_files(settings)) == 1
    # and a PUT that is too short is found by complete (size mismatch)
    r = await client.put(t["url"], content=data[:-10], headers=t["headers"])
    assert r.status_code == 200
    err = assert_error_shape(
        await client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 422, "size_mismatch"
    )
    assert err["details"]["declared_size"] == len(data) and err["details"]["received_size"] == len(data) - 10
    assert stored_files(settings) == []
    got = await row(db_conn, t["id"])
    assert got is not None and got["status"] == "rejected" and got["reason"] == "size_mismatch"


async def test_hash_and_type_mismatch_delete_the_object(
    client: httpx.AsyncClient, settings: Settings, db_conn: AsyncConnection
) -> None:
    _, me = await resident(client)
    data = jpeg()
    # wrong hash
    r = await client.post(
        "/v1/uploads",
        json={"kind": "photo", "content_type": "image/jpeg", "size": len(data), "sha256": "ab" * 32},
        headers=me,
    )
    t = r.json()
    await client.put(t["url"], content=data)
    assert_error_shape(await client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 422, "hash_mismatch")
    assert stored_files(settings) == []
    # a PNG declared as JPEG
    p = png()
    t = await declare(client, me, p, content_type="image/jpeg")
    await client.put(t["url"], content=p)
    err = assert_error_shape(
        await client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 422, "type_mismatch"
    )
    assert err["details"]["declared"] == "image/jpeg" and err["details"]["detected"] == "image/png"
    assert stored_files(settings) == []
    # not a photo at all (a ZIP), and a retry gets the same answer
    z = b"PK\x03\x04" + b"\0" * 200
    t = await declare(client, me, z)
    await client.put(t["url"], content=z)
    for _ in range(2):
        r = await client.post(f"/v1/uploads/{t['id']}/complete", headers=me)
        assert_error_shape(r, 415, "unrecognised_type")
    assert stored_files(settings) == []
    # the refusal is visible on the media
    r = await client.get(f"/v1/media/{t['id']}", headers=me)
    assert r.json()["status"] == "rejected" and r.json()["reason"] == "unrecognised_type"


async def test_complete_is_idempotent_and_owner_only(client: httpx.AsyncClient) -> None:
    _, me = await resident(client, "a")
    _, other = await resident(client, "b")
    data = jpeg()
    t = await declare(client, me, data)
    assert_error_shape(await client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 409, "not_uploaded")
    await client.put(t["url"], content=data)
    assert_error_shape(await client.post(f"/v1/uploads/{t['id']}/complete"), 401, "unauthorized")
    assert_error_shape(
        await client.post(f"/v1/uploads/{t['id']}/complete", headers=other), 404, "media_not_found"
    )
    answers = [(await client.post(f"/v1/uploads/{t['id']}/complete", headers=me)).json() for _ in range(3)]
    assert answers == [{"media_id": t["id"], "status": "processing"}] * 3


async def test_declaration_rules(client: httpx.AsyncClient, settings: Settings) -> None:
    _, me = await resident(client)

    async def post(**kw: object) -> httpx.Response:
        return await client.post(
            "/v1/uploads",
            json={"kind": "photo", "content_type": "image/jpeg", "size": 1000, **kw},
            headers=me,
        )

    err = assert_error_shape(await post(size=settings.max_photo_bytes + 1), 413, "file_too_large")
    assert err["details"]["limit"] == "PHANANH_MAX_PHOTO_BYTES"
    assert err["details"]["max_bytes"] == settings.max_photo_bytes
    err = assert_error_shape(
        await post(kind="video", content_type="video/mp4", size=settings.max_video_bytes + 1),
        413,
        "file_too_large",
    )
    assert err["details"]["limit"] == "PHANANH_MAX_VIDEO_BYTES"
    assert_error_shape(await post(content_type="application/pdf"), 415, "unsupported_type")
    assert_error_shape(await post(content_type="video/mp4"), 422, "type_kind_mismatch")
    assert_error_shape(await post(kind="audio"), 400, "validation_error")
    assert_error_shape(await post(size=0), 400, "validation_error")
    assert_error_shape(await post(sha256="xyz"), 400, "validation_error")
    assert_error_shape(await client.post("/v1/uploads", json={"kind": "photo"}), 401, "unauthorized")
    # declared types are normalised (image/jpg, parameters, case)
    r = await post(content_type="Image/JPG; charset=binary")
    assert r.status_code == 201 and r.json()["headers"] == {"Content-Type": "image/jpeg"}
    r = await post(content_type="image/heif")
    assert r.status_code == 201


async def test_pending_upload_quota(client: httpx.AsyncClient, settings: Settings) -> None:
    _, me = await resident(client)
    for _ in range(settings.max_pending_uploads):
        r = await client.post(
            "/v1/uploads", json={"kind": "photo", "content_type": "image/jpeg", "size": 10}, headers=me
        )
        assert r.status_code == 201
    r = await client.post(
        "/v1/uploads", json={"kind": "photo", "content_type": "image/jpeg", "size": 10}, headers=me
    )
    err = assert_error_shape(r, 429, "too_many_pending_uploads")
    assert err["details"] == {"limit": settings.max_pending_uploads} and r.headers["retry-after"]
    # another user is not affected
    _, other = await resident(client, "other")
    r = await client.post(
        "/v1/uploads", json={"kind": "photo", "content_type": "image/jpeg", "size": 10}, headers=other
    )
    assert r.status_code == 201


async def test_video_upload_streams_in_chunks(client: httpx.AsyncClient, settings: Settings) -> None:
    """A body sent in many small chunks arrives whole (and is hashed as it streams)."""
    _, me = await resident(client)
    clip = mp4(2.0)
    data = clip + b"\0" * (3 * 1024 * 1024)  # padding after the clip: still an MP4 by its first bytes
    t = await declare(client, me, data, kind="video", content_type="video/mp4")

    async def body():
        for i in range(0, len(data), 10_000):
            yield data[i : i + 10_000]

    r = await client.put(t["url"], content=body())
    assert r.status_code == 200 and r.json()["received"] == len(data)
    r = await client.post(f"/v1/uploads/{t['id']}/complete", headers=me)
    assert r.status_code == 200, r.text
    (f,) = stored_files(settings)
    assert hashlib.sha256(f.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert await upload(client, me, jpeg())
