"""The media worker step: claiming with a lease, attempts, refusals; and the real decoder end to end."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

import media
import media.jobs
from api import worker
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings
from media.process import Limits, Processed
from tests.factories import centre, make_city, resident, submit_report, upload
from tests.media.conftest import Worker
from tests.media.files import jpeg, mp4


def test_worker_has_the_media_steps() -> None:
    names = [name for name, _ in worker.steps()]
    assert "media" in names and "media-cleanup" in names


async def test_worker_round_processes_uploads(
    client: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    _, me = await resident(client)
    pid = await upload(client, me, jpeg())
    assert await worker.run_once(database, settings) >= 1
    got = (await client.get(f"/v1/media/{pid}", headers=me)).json()
    assert got["status"] == "ready" and set(got["renditions"]) == {"thumb", "large"}


async def test_refusal_is_shown_with_its_reason(
    client: httpx.AsyncClient, db_conn: AsyncConnection, database: Database, settings: Settings
) -> None:
    _, me = await resident(client)
    vid = await upload(client, me, mp4(3.0), kind="video", content_type="video/mp4")
    stats = await media.process_due(
        database.session, config_for(settings), limits=Limits(max_video_seconds=1)
    )
    assert (stats.ready, stats.rejected) == (0, 1)
    got = (await client.get(f"/v1/media/{vid}", headers={**me, "Accept-Language": "en"})).json()
    assert got["status"] == "rejected" and got["reason"] == "too_long"
    assert got["message"] == "The video is 3 s long; the limit is 1 s."
    assert got["renditions"] == {}
    vi = (await client.get(f"/v1/media/{vid}", headers={**me, "Accept-Language": "vi"})).json()
    assert vi["message"] == "Video dài 3 giây; giới hạn là 1 giây."
    # sending the report with it names the refusal in the reader's language too
    await make_city(db_conn)
    lat, lng = centre("W1")
    body = {
        "category": "ngap-nuoc",
        "description": "Ngập sâu",
        "lat": lat,
        "lng": lng,
        "media_ids": [str(vid)],
    }
    refused = await client.post("/v1/reports", json=body, headers={**me, "Accept-Language": "vi-VN,vi"})
    err = refused.json()["error"]
    assert err["code"] == "media_rejected"
    assert err["message"] == "Có tệp đã bị từ chối: Video dài 3 giây; giới hạn là 1 giây."


async def test_lease_and_attempts(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    database: Database,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    def crash(kind: str, src: Path, out: Path, limits: Any) -> Processed:
        calls.append(kind)
        raise RuntimeError("worker blew up")

    monkeypatch.setattr(media.jobs, "_process_file", crash)
    _, me = await resident(client)
    pid = await upload(client, me, jpeg())
    cfg = config_for(settings)
    stats = await media.process_due(database.session, cfg, lease_s=3600, max_attempts=2)
    assert (stats.claimed, stats.failed) == (1, 1)
    # leased: another round (another worker) does not take it
    assert (await media.process_due(database.session, cfg, lease_s=3600, max_attempts=2)).claimed == 0
    for _ in range(2):  # the lease runs out; it is tried again, and then given up
        await db_conn.execute(text("UPDATE media SET lease_until = clock_timestamp() - interval '1 s'"))
        await media.process_due(database.session, cfg, lease_s=3600, max_attempts=2)
    assert len(calls) == 2
    row = (
        await db_conn.execute(text("SELECT status, reason, attempts FROM media WHERE id = :i"), {"i": pid})
    ).one()
    assert (row.status, row.reason, row.attempts) == ("rejected", "processing_failed", 3)


async def test_real_decoder_end_to_end(
    client: httpx.AsyncClient, db_conn: AsyncConnection, settings: Settings, run_worker: Worker
) -> None:
    """Upload → complete → attach → worker with the real sandboxed decoder → ready, renditions
    readable through their signed links and free of metadata; GPS kept privately only."""
    from PIL import Image

    await make_city(db_conn)
    _, me = await resident(client)
    lat, lng = centre("W1")
    photo = await upload(client, me, jpeg(1600, 1200, gps=(lat, lng)))
    video = await upload(client, me, mp4(1.0), kind="video", content_type="video/mp4")
    await submit_report(client, me, "W1", description="Ngập", media_ids=[photo, video])
    stats = await run_worker()
    assert (stats.ready, stats.rejected, stats.failed) == (2, 0, 0), stats
    got = (await client.get(f"/v1/media/{photo}")).json()
    assert got["status"] == "ready" and {"thumb", "large"} <= set(got["renditions"])
    assert "gps" not in str(got) and "taken_at" not in str(got)
    for url in got["renditions"].values():
        r = await client.get(url)
        assert r.status_code == 200
        assert b"TestPhone" not in r.content  # the EXIF Make
        path = settings.media_dir / "stored"
        path.write_bytes(r.content)
        with Image.open(path) as im:
            assert not im.getexif(), "metadata left in a rendition"
            assert max(im.size) <= 1280
    vid = (await client.get(f"/v1/media/{video}")).json()
    assert vid["status"] == "ready" and {"video", "poster"} <= set(vid["renditions"])
    assert (await client.get(vid["renditions"]["video"], headers={"Range": "bytes=0-15"})).status_code == 206
    private = await db_conn.scalar(text("SELECT private FROM media WHERE id = :i"), {"i": photo})
    assert private["gps"] and abs(private["gps"][0] - lat) < 1e-3
    far = await db_conn.scalar(text("SELECT far_from_report FROM media WHERE id = :i"), {"i": photo})
    assert far is False
    assert uuid.UUID(got["id"]) == photo
