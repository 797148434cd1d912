"""The background worker: runs each capability's "do what is due" step in a loop.

Every step claims its own rows with `FOR UPDATE SKIP LOCKED`, so any number of workers
(`phananh worker`, or the one inside `phananh serve`) can run side by side. A step returns how
much it did; when a whole round did nothing the worker sleeps for the poll interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from api.core.db import LONG_ROLE, Database
from api.core.overload import FAILURES, classify
from api.core.settings import Settings

log = logging.getLogger("phananh.worker")

Step = Callable[[Database, Settings], Awaitable[int]]


def steps() -> list[tuple[str, Step]]:
    """The steps, composed here so capabilities never import the app."""
    from api.core.ratelimit import prune_counters
    from api.notifications.jobs import deadline_warnings, deliver_push, overdue_notices
    from api.reports.jobs import close_unconfirmed, erase_expired
    from api.review.jobs import review_alerts
    from api.uploads.jobs import cleanup_media, process_media
    from api.webhooks.jobs import deliver_webhooks

    return [
        ("push", deliver_push),
        ("webhooks", deliver_webhooks),
        ("deadlines", deadline_warnings),
        ("overdue-notices", overdue_notices),
        ("auto-close", close_unconfirmed),
        ("review-alerts", review_alerts),
        ("media", process_media),
        ("media-cleanup", cleanup_media),
        ("retention", erase_expired),
        ("rate-limits", prune_counters),
    ]


async def run_once(db: Database, settings: Settings) -> int:
    done = 0
    for name, step in steps():
        try:
            done += await step(db, settings)
        except Exception as exc:
            # while the database is away every step fails alike: a line now and then, no tracebacks
            found = classify(exc)
            if found is not None:
                FAILURES.note(*found, f"worker step {name}")
                if found[0] == "unavailable":
                    break  # the next steps would find it away too
                continue
            log.exception("worker step %s failed", name)
    return done


async def run_forever(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    # the worker's sessions take the long role's bounds (its steps may scan whole tables)
    LONG_ROLE.set(True)
    log.info("worker started")
    while not stop.is_set():
        done = await run_once(db, settings)
        if done == 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.worker_poll_s)
    log.info("worker stopped")
