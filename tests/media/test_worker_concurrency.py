"""Several workers at once (real transactions on a database of the test's own): each file is
processed by exactly one of them."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import media
import media.jobs
from api.core.db import Database, make_engine
from api.core.media import config_for
from api.core.settings import Settings
from media.process import Processed, process_file
from tests.factories import resident
from tests.media.files import jpeg


async def test_concurrent_workers_split_the_work(
    fresh_db: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def counting(kind: str, src: Path, out: Path, limits: Any) -> Processed:
        with lock:
            seen[src.read_bytes()[-64:].hex()] += 1
        return process_file(kind, src, out, limits)  # type: ignore[arg-type]

    monkeypatch.setattr(media.jobs, "_process_file", counting)
    cfg = config_for(settings)
    db = Database(make_engine(fresh_db, pool_size=4, max_overflow=0))
    try:
        now = datetime.now(UTC)
        async with db.session() as s:
            owner = (await resident(s)).id
            for i in range(8):
                key = media.storage.new_key("o")
                data = jpeg(40 + i, 30)
                await cfg.storage.put_file(key, _tmp(settings, data, i), "image/jpeg")
                s.add(
                    media.Media(
                        id=uuid.uuid4(),
                        owner_id=owner,
                        kind="photo",
                        content_type="image/jpeg",
                        size=len(data),
                        storage_key=key,
                        status="processing",
                        sniffed_type="image/jpeg",
                        completed_at=now - timedelta(seconds=1),
                        expires_at=now + timedelta(days=1),
                        info={},
                        private={},
                        renditions={},
                    )
                )
            await s.commit()

        async def one_worker() -> int:
            done = 0
            while True:
                stats = await media.process_due(db.session, cfg, batch=2)
                if stats.claimed == 0:
                    return done
                done += stats.done

        results = await asyncio.gather(one_worker(), one_worker(), one_worker())
        assert sum(results) == 8
        assert len(seen) == 8 and set(seen.values()) == {1}
        async with db.session() as s:
            statuses = list(await s.scalars(text("SELECT status FROM media")))
        assert statuses == ["ready"] * 8
    finally:
        await db.dispose()


def _tmp(settings: Settings, data: bytes, i: int) -> Path:
    p = settings.data_dir / f"src-{i}.jpg"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p
