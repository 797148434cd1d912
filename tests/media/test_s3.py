"""The S3 backend against a real S3 HTTP endpoint (moto's server, started here).

moto enforces no presigned-policy rule (content-length-range, Content-Type), so the tests assert on
the policy the app generates and show that the app's own completion checks catch what S3 let in.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import boto3
import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import media
from api.app import create_app
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings
from media.storage import MULTIPART_THRESHOLD, PART_SIZE, S3Storage
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.factories import centre, declare, make_city, resident
from tests.media.conftest import Worker
from tests.media.files import jpeg, mp4, png

BUCKET = "phananh-media-test"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_settings(settings: Settings, moto_endpoint: str) -> Settings:
    bucket = f"{BUCKET}-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    s3.create_bucket(Bucket=bucket)
    return settings.with_(
        s3_bucket=bucket,
        s3_endpoint_url=moto_endpoint,
        s3_region="us-east-1",
        s3_access_key_id="test",
        s3_secret_access_key="test",
    )


@pytest.fixture
async def s3_client(s3_settings: Settings, database: Database) -> AsyncIterator[httpx.AsyncClient]:
    app: Litestar = create_app(s3_settings, database=database)
    async with serving(app) as c:
        yield c


@pytest.fixture
def store(s3_settings: Settings) -> S3Storage:
    s = config_for(s3_settings).storage
    assert isinstance(s, S3Storage)
    return s


@pytest.fixture
def s3_worker(database: Database, s3_settings: Settings) -> Worker:
    async def run() -> media.ProcessStats:
        return await media.process_due(database.session, config_for(s3_settings), batch=20)

    return run


def keys(store: S3Storage) -> list[str]:
    out = store.client.list_objects_v2(Bucket=store.bucket)
    return sorted(o["Key"] for o in out.get("Contents", []))


async def post_form(ticket: dict[str, Any], data: bytes) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        # the file field must come last: httpx sends `data` fields first, then `files`
        return await http.post(ticket["url"], data=ticket["fields"], files={"file": ("x", data)})


async def test_presigned_post_policy_and_completion(
    s3_client: httpx.AsyncClient, store: S3Storage, db_conn: AsyncConnection
) -> None:
    _, me = await resident(s3_client)
    data = jpeg()
    t = await declare(s3_client, me, data)
    assert t["method"] == "POST" and t["url"].startswith(store.config.endpoint_url)
    fields = t["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and fields["Content-Type"] == "image/jpeg"
    key = fields["key"]
    assert key.startswith("o/") and t["id"] not in key
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert {"Content-Type": "image/jpeg"} in conditions
    assert ["content-length-range", len(data), len(data)] in conditions
    assert {"bucket": store.bucket} in conditions and {"key": key} in conditions
    assert policy["expiration"]
    r = await post_form(t, data)
    assert r.status_code == 204, r.text
    assert keys(store) == [key]
    for _ in range(2):  # idempotent
        r = await s3_client.post(f"/v1/uploads/{t['id']}/complete", headers=me)
        assert r.status_code == 200 and r.json() == {"media_id": t["id"], "status": "processing"}
    # the local PUT path is not offered with S3
    r = await s3_client.put(f"/v1/uploads/{t['id']}/content", content=data, headers=me)
    assert r.status_code in (409,)


async def test_completion_checks_catch_what_s3_let_in(s3_client: httpx.AsyncClient, store: S3Storage) -> None:
    _, me = await resident(s3_client)
    data = jpeg()
    # bigger than declared: moto ignores content-length-range; completion refuses and deletes
    t = await declare(s3_client, me, data)
    assert (await post_form(t, data + b"\0" * 100)).status_code == 204
    err = assert_error_shape(
        await s3_client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 422, "size_mismatch"
    )
    assert err["details"]["received_size"] == len(data) + 100
    assert keys(store) == []
    # not the declared type (and the signed Content-Type does not stop it on moto)
    p = png()
    t = await declare(s3_client, me, p, content_type="image/jpeg")
    assert (await post_form(t, p)).status_code == 204
    assert_error_shape(
        await s3_client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 422, "type_mismatch"
    )
    assert keys(store) == []
    # the bytes are not those hashed: the object is re-hashed
    other = jpeg(quality=50)
    t = await declare(s3_client, me, data, size=len(other))
    assert (await post_form(t, other)).status_code == 204
    assert_error_shape(
        await s3_client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 422, "hash_mismatch"
    )
    assert keys(store) == []
    # nothing sent yet
    t = await declare(s3_client, me, data)
    assert_error_shape(
        await s3_client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 409, "not_uploaded"
    )


def big_video() -> bytes:
    clip = mp4(1.0)
    return clip + b"\0" * (MULTIPART_THRESHOLD + 3 * 1024 * 1024 - len(clip))


async def test_multipart_upload_with_presigned_parts(
    s3_client: httpx.AsyncClient, store: S3Storage, db_conn: AsyncConnection
) -> None:
    _, me = await resident(s3_client)
    data = big_video()
    t = await declare(s3_client, me, data, kind="video", content_type="video/mp4")
    parts = t["parts"]
    assert t["part_size"] == PART_SIZE and len(parts) == 3
    assert [p["part_number"] for p in parts] == [1, 2, 3]
    assert sum(p["size"] for p in parts) == len(data) and parts[-1]["offset"] == 2 * PART_SIZE
    assert all("X-Amz-Signature=" in p["url"] and "uploadId=" in p["url"] for p in parts)
    # without the part ETags completion cannot assemble anything
    assert_error_shape(
        await s3_client.post(f"/v1/uploads/{t['id']}/complete", headers=me), 400, "parts_required"
    )
    etags = []
    async with httpx.AsyncClient(timeout=60) as http:
        for p in parts:
            r = await http.put(p["url"], content=data[p["offset"] : p["offset"] + p["size"]])
            assert r.status_code == 200, r.text
            etags.append({"part_number": p["part_number"], "etag": r.headers["etag"]})
    bad = [{**etags[0], "etag": '"0000"'}, *etags[1:]]
    r = await s3_client.post(f"/v1/uploads/{t['id']}/complete", json={"parts": bad}, headers=me)
    assert_error_shape(r, 409, "multipart_incomplete")
    r = await s3_client.post(f"/v1/uploads/{t['id']}/complete", json={"parts": etags}, headers=me)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "processing"
    key = await db_conn.scalar(text("SELECT storage_key FROM media WHERE id = :i"), {"i": uuid.UUID(t["id"])})
    head = store.client.head_object(Bucket=store.bucket, Key=str(key))
    assert head["ContentLength"] == len(data)
    # a retry (the phone lost the answer) gets the same answer
    r = await s3_client.post(f"/v1/uploads/{t['id']}/complete", json={"parts": etags}, headers=me)
    assert r.json()["status"] == "processing"


async def test_processing_and_presigned_reads(
    s3_client: httpx.AsyncClient,
    store: S3Storage,
    db_conn: AsyncConnection,
    s3_worker: Worker,
) -> None:
    await make_city(db_conn)
    _, me = await resident(s3_client)
    data = jpeg(1000, 800, gps=centre("W1"))
    t = await declare(s3_client, me, data)
    assert (await post_form(t, data)).status_code == 204
    assert (await s3_client.post(f"/v1/uploads/{t['id']}/complete", headers=me)).status_code == 200
    lat, lng = centre("W1")
    r = await s3_client.post(
        "/v1/reports",
        json={"category": "ngap-nuoc", "description": "Ngập", "lat": lat, "lng": lng, "media_ids": [t["id"]]},
        headers=me,
    )
    assert r.status_code == 201, r.text
    stats = await s3_worker()
    assert stats.ready == 1, stats
    got = (await s3_client.get(f"/v1/media/{t['id']}")).json()
    assert got["status"] == "ready" and set(got["renditions"]) == {"thumb", "large"}
    # the original is gone; only the renditions are in the bucket
    assert all(k.startswith("r/") for k in keys(store)) and len(keys(store)) == 2
    async with httpx.AsyncClient() as http:
        for url in got["renditions"].values():
            assert "X-Amz-Signature=" in url and "X-Amz-Expires=" in url
            r = await http.get(url)
            assert r.status_code == 200 and r.content[:4] == b"RIFF"
            assert r.headers["content-type"] == "image/webp"
            r = await http.get(url, headers={"Range": "bytes=0-9"})
            assert r.status_code == 206 and len(r.content) == 10


async def test_cleanup_aborts_multipart_and_deletes(
    s3_client: httpx.AsyncClient,
    store: S3Storage,
    database: Database,
    s3_settings: Settings,
    db_conn: AsyncConnection,
) -> None:
    _, me = await resident(s3_client)
    data = big_video()
    t = await declare(s3_client, me, data, kind="video", content_type="video/mp4")
    async with httpx.AsyncClient(timeout=60) as http:  # one part sent, then the phone gives up
        p = t["parts"][0]
        assert (await http.put(p["url"], content=data[: p["size"]])).status_code == 200
    small = jpeg()
    t2 = await declare(s3_client, me, small)
    assert (await post_form(t2, small)).status_code == 204
    uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
    assert len(uploads) == 1
    assert len(keys(store)) == 1
    await db_conn.execute(text("UPDATE media SET expires_at = clock_timestamp() - interval '1 second'"))
    assert await media.cleanup_stale(database.session, config_for(s3_settings)) == 2
    assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []
    assert keys(store) == []
    assert await db_conn.scalar(text("SELECT count(*) FROM media")) == 0
