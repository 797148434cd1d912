"""Rate limits counted in PostgreSQL, shared by every process and machine on the same database.

Fixed windows: one counter row per key, window and shard (`rate_counters`), bumped by an UPSERT …
RETURNING that rides in a statement the request makes anyway (the submission's first statement), or
in a short statement of its own (sign-in, registering an install). Each check touches a fixed number
of rows, whatever the number of keys, and the counters of past windows are pruned by the worker
(`prune`), a bounded batch at a time.

A key many clients share (a carrier's address) is spread over a few shards: each hit locks one
shard's row until its transaction ends, and the total is that row plus the other shards as last
committed. So concurrent hits from one address rarely wait on each other, at the price of a count a
few hits short under a burst.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.core import sql
from api.core.errors import TooManyRequests


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `limit` hits per key in each window of `window_s` seconds."""

    name: str  # the keys' prefix
    limit: int
    window_s: int
    what_en: str
    what_vi: str
    shards: int = 1

    def too_many(self, wait: int) -> TooManyRequests:
        return TooManyRequests(
            f"Too many {self.what_en}; try again in {wait} s.",
            message_vi=f"Quá nhiều {self.what_vi}; vui lòng thử lại sau {wait} giây.",
            details={"limit": self.limit, "window_s": self.window_s, "retry_after_s": wait},
            headers={"Retry-After": str(wait)},
        )


def now() -> float:
    return time.time()


def hit_params(checks: Sequence[tuple[Limit, str]], at: float) -> dict[str, Any]:
    """The counters' parameters (`:rate_keys`…) for one hit on each (limit, subject)."""
    keys, windows, shards, expires = [], [], [], []
    for limit, subject in checks:
        start = int(at // limit.window_s) * limit.window_s
        keys.append(f"{limit.name}:{subject}")
        windows.append(start)
        shards.append(random.randrange(limit.shards) if limit.shards > 1 else 0)
        expires.append(datetime.fromtimestamp(start + limit.window_s, UTC))
    return {"rate_keys": keys, "rate_windows": windows, "rate_shards": shards, "rate_expires": expires}


def check(
    checks: Sequence[tuple[Limit, str]],
    keys: Sequence[str] | None,
    totals: Sequence[int] | None,
    at: float,
) -> None:
    """Raise 429 with Retry-After for the first limit the counted hits went over."""
    if keys is None or totals is None:
        return
    counted = dict(zip(keys, totals, strict=True))
    for limit, subject in checks:
        total = counted.get(f"{limit.name}:{subject}")
        if total is not None and total > limit.limit:
            start = int(at // limit.window_s) * limit.window_s
            raise limit.too_many(max(1, int(start + limit.window_s - at + 0.999)))


async def admit(session: AsyncSession, checks: Sequence[tuple[Limit, str]]) -> None:
    """Count one hit on each and commit (a refused attempt counts too), or raise 429."""
    at = now()
    row = await sql.HIT.fetchrow(session, hit_params(checks, at))
    await session.commit()
    assert row is not None
    check(checks, row["rate_keys"], row["rate_totals"], at)


async def prune(session: AsyncSession, batch: int = 5000) -> int:
    """Delete up to `batch` counters of windows gone by; commits. How many were deleted."""
    deleted = await sql.PRUNE.fetchval(session, {"batch": batch})
    await session.commit()
    return int(deleted or 0)


@dataclass(frozen=True, slots=True)
class Limits:
    """The app's limits, from settings."""

    report_user: Limit
    report_ip: Limit
    register_ip: Limit
    login_ip: Limit
    partner: Limit  # Open311 requests per partner key (the key's id stands where an address would)

    @classmethod
    def of(cls, settings: Any) -> Limits:
        return cls(
            Limit(
                "report_user",
                settings.report_rate_per_device_hour,
                3600,
                "reports from this device",
                "phản ánh từ thiết bị này",
            ),
            Limit(
                "report_ip",
                settings.report_rate_per_ip_hour,
                3600,
                "reports from this network",
                "phản ánh từ mạng này",
                # a carrier's address sends as many reports as its phones: the busiest key of all
                shards=32,
            ),
            Limit(
                "register_ip",
                settings.register_rate_per_ip_minute,
                60,
                "registrations from this network",
                "lượt đăng ký từ mạng này",
                shards=4,
            ),
            Limit(
                "login_ip",
                settings.login_rate_per_ip_minute,
                60,
                "sign-in attempts from this network",
                "lượt đăng nhập từ mạng này",
                shards=4,
            ),
            Limit(
                "open311_key",
                settings.open311_requests_per_minute,
                60,
                "requests with this API key",
                "yêu cầu với khóa API này",
                shards=4,
            ),
        )


async def prune_counters(db: Any, settings: Any) -> int:
    """The worker's step: counters of windows gone by."""
    async with db.session() as session:
        return await prune(session)
