"""Signed local reads (expiry, tampering, Range) and the removal of stale uploads."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import media
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings
from media.storage import LocalStorage
from tests.assertions import assert_error_shape
from tests.factories import declare, make_city, photo_report, resident, upload
from tests.media.conftest import Worker
from tests.media.files import jpeg
from tests.media.test_uploads_local import stored_files


async def ready_photo(
    client: httpx.AsyncClient, db_conn: AsyncConnection, run_worker: Worker
) -> tuple[uuid.UUID, dict[str, str]]:
    await make_city(db_conn)
    _, me = await resident(client)
    pid, _ = await photo_report(client, me, "W1", photo=jpeg(1600, 1200))
    await run_worker()
    got = (await client.get(f"/v1/media/{pid}")).json()
    assert got["status"] == "ready", got
    return pid, got["renditions"]


async def test_signed_reads_and_ranges(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    settings: Settings,
    run_worker: Worker,
) -> None:
    _, links = await ready_photo(client, db_conn, run_worker)
    url = links["large"]
    full = await client.get(url)
    assert full.status_code == 200 and full.headers["content-type"] == "image/webp"
    assert full.headers["accept-ranges"] == "bytes" and full.headers["cache-control"].startswith(
        "private, max-age="
    )
    assert int(full.headers["content-length"]) == len(full.content)
    body = full.content
    n = len(body)
    # ranges
    r = await client.get(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206 and r.content == body[:100]
    assert r.headers["content-range"] == f"bytes 0-99/{n}" and r.headers["content-length"] == "100"
    r = await client.get(url, headers={"Range": "bytes=100-"})
    assert r.status_code == 206 and r.content == body[100:]
    r = await client.get(url, headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == body[-10:]
    r = await client.get(url, headers={"Range": f"bytes={n - 5}-{n + 100}"})
    assert r.status_code == 206 and r.content == body[-5:]
    r = await client.get(url, headers={"Range": f"bytes={n}-"})
    assert r.status_code == 416 and r.headers["content-range"] == f"bytes */{n}"
    # tampering and expiry
    parts = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    assert_error_shape(
        await client.get(f"{base}?{urlencode({**q, 'exp': str(int(q['exp']) + 60)})}"),
        403,
        "invalid_signature",
    )
    assert_error_shape(await client.get(f"{base}?exp={q['exp']}&sig=AAAA"), 403, "invalid_signature")
    assert_error_shape(await client.get(base), 403, "invalid_signature")
    other = base.replace("large.webp", "thumb.webp")
    assert_error_shape(await client.get(f"{other}?{parts.query}"), 403, "invalid_signature")
    store = config_for(settings).storage
    assert isinstance(store, LocalStorage)
    key = parts.path.removeprefix("/media/local/")
    past = store.reads.query(key, -10)
    assert_error_shape(await client.get(f"{base}?{urlencode(past)}"), 403, "invalid_signature")
    # a stale Authorization header does not matter to a signed link
    assert (await client.get(url, headers={"Authorization": "Bearer nonsense"})).status_code == 200
    # originals are never served, even with a valid signature
    orig = await db_conn.scalar(text("SELECT storage_key FROM media LIMIT 1"))
    q2 = store.reads.query(str(orig), 60)
    assert (await client.get(f"/media/local/{orig}?{urlencode(q2)}")).status_code == 404


async def test_original_deleted_after_processing(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    settings: Settings,
    run_worker: Worker,
) -> None:
    pid, _ = await ready_photo(client, db_conn, run_worker)
    key = await db_conn.scalar(text("SELECT storage_key FROM media WHERE id = :i"), {"i": pid})
    assert not (settings.media_dir / str(key)).exists()
    names = sorted(p.name for p in stored_files(settings))
    assert names == ["large.webp", "thumb.webp"]


async def test_cleanup_of_stale_uploads(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    database: Database,
    settings: Settings,
    run_worker: Worker,
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    cfg = config_for(settings)
    # never sent, sent but not completed, completed and processed but never attached, and attached
    never = await declare(client, me, jpeg(32, 32))
    half = await declare(client, me, jpeg(48, 48))
    await client.put(half["url"], content=jpeg(48, 48))
    unattached = await upload(client, me, jpeg(64, 64))
    await run_worker()
    pid, _ = await ready_photo(client, db_conn, run_worker)
    before = len(stored_files(settings))
    assert before == 1 + 2 + 2  # the half upload, two renditions each for the processed photos
    assert await media.cleanup_stale(database.session, cfg) == 0  # nothing expired yet
    await db_conn.execute(text("UPDATE media SET expires_at = clock_timestamp() - interval '1 second'"))
    removed = await media.cleanup_stale(database.session, cfg, batch=2)
    removed += await media.cleanup_stale(database.session, cfg, batch=2)
    assert removed == 3
    assert await media.cleanup_stale(database.session, cfg) == 0
    left = await db_conn.scalars(text("SELECT id FROM media"))
    assert list(left) == [pid]
    assert len(stored_files(settings)) == 2  # the attached photo's renditions
    for gone in (never["id"], half["id"], str(unattached)):
        assert (await client.get(f"/v1/media/{gone}", headers=me)).status_code == 404
    # an expired upload can no longer be sent or completed
    late = await declare(client, me, jpeg(20, 20))
    await db_conn.execute(
        text("UPDATE media SET expires_at = clock_timestamp() - interval '1 second' WHERE id = :i"),
        {"i": uuid.UUID(late["id"])},
    )
    assert_error_shape(await client.put(late["url"], content=jpeg(20, 20)), 410, "upload_expired")
