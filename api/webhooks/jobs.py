"""The worker's webhook step (api/worker.py lists it)."""

from __future__ import annotations

from api.core.db import Database
from api.core.settings import Settings
from api.webhooks import delivery


async def deliver_webhooks(db: Database, settings: Settings) -> int:
    return await delivery.deliver_due(db, settings)
