"""Delivering the outbox: claim due rows, send outside any transaction, record the outcomes.

1. Claim (short transaction): up to `batch_size` pending rows whose `due_at` has come are locked
   with `FOR UPDATE SKIP LOCKED` (so concurrent workers take different rows), get a fresh
   `claim_id`, `attempts + 1`, and `due_at = now() + lease` (the lease). Rows whose device is gone
   or now belongs to someone else are marked skipped.
2. Send the batch through FCM (no transaction, no lock held).
3. Record (short transaction), only on rows still carrying our `claim_id`: sent; invalid token →
   the device is deleted, the row failed and the device's other pending rows skipped; retryable →
   `due_at = now() + backoff` (exponential with jitter, at least `Retry-After`), or failed after
   `max_attempts`; permanent error → failed.

A worker killed between 1 and 3 leaves its rows pending with a lease that runs out: another
worker sends them again (at-least-once; FCM may see a message twice only in that window).
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from push import sql
from push.fcm import FcmSender, Outcome, OutMessage

log = logging.getLogger("phananh.push")

Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]

BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 3600.0


class Sender(Protocol):
    async def send(self, batch: list[OutMessage]) -> list[Outcome]: ...


def backoff_s(attempt: int, retry_after_s: float | None = None, *, rng: random.Random | None = None) -> float:
    """Delay before attempt `attempt + 1`: 1 s, 2 s, 4 s… (capped), with jitter in [50 %, 100 %],
    and never sooner than the server's Retry-After."""
    r = rng or random
    delay = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempt - 1)) * r.uniform(0.5, 1.0)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, BACKOFF_CAP_S))
    return delay


@dataclass(frozen=True, slots=True)
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    pruned: int = 0
    skipped: int = 0

    @property
    def done(self) -> int:
        return self.claimed + self.skipped


async def skip_all_due(sessions: Sessions, *, batch_size: int = 500) -> int:
    """Without FCM credentials: the inbox is the only channel; retire due outbox rows."""
    async with sessions() as s:
        n = (await s.execute(sql.SKIP_NO_SENDER, {"n": batch_size})).rowcount  # type: ignore[attr-defined]
        await s.commit()
    if n:
        log.info("push not configured: %d notification(s) kept in the inbox only", n)
    return int(n or 0)


async def deliver_due(
    sessions: Sessions,
    sender: Sender | None,
    *,
    batch_size: int = 500,
    lease_s: float = 60.0,
    max_attempts: int = 8,
    rng: random.Random | None = None,
) -> DeliveryStats:
    """One round: claim a batch, send it, record what happened."""
    if sender is None:
        return DeliveryStats(skipped=await skip_all_due(sessions, batch_size=batch_size))
    claim = uuid.uuid4()
    async with sessions() as s:
        rows: list[Any] = list(
            await s.execute(sql.CLAIM, {"n": batch_size, "claim": claim, "lease": lease_s})
        )
        await s.commit()
    live = [r for r in rows if r.alive]
    skipped = len(rows) - len(live)
    if not live:
        return DeliveryStats(skipped=skipped)

    outcomes = await sender.send(
        [OutMessage(r.token, r.title, r.body, {k: str(v) for k, v in r.data.items()}) for r in live]
    )

    sent_ids: list[int] = []
    sent_mids: list[str] = []
    retry: tuple[list[int], list[float], list[str]] = ([], [], [])
    failed: tuple[list[int], list[str]] = ([], [])
    dead_tokens: list[str] = []
    for r, o in zip(live, outcomes, strict=True):
        if o.kind == "sent":
            sent_ids.append(r.id)
            sent_mids.append(o.message_id or "")
        elif o.kind == "retry":
            retry[0].append(r.id)
            retry[1].append(backoff_s(r.attempts, o.retry_after_s, rng=rng))
            retry[2].append(o.error or "retry")
        else:
            failed[0].append(r.id)
            failed[1].append(o.error or o.kind)
            if o.kind == "invalid_token":
                dead_tokens.append(r.token)

    async with sessions() as s:
        if sent_ids:
            await s.execute(sql.MARK_SENT, {"ids": sent_ids, "mids": sent_mids, "claim": claim})
        if retry[0]:
            await s.execute(
                sql.MARK_RETRY,
                {"ids": retry[0], "delays": retry[1], "errs": retry[2], "claim": claim, "max": max_attempts},
            )
        if failed[0]:
            await s.execute(sql.MARK_FAILED, {"ids": failed[0], "errs": failed[1], "claim": claim})
        if dead_tokens:
            await s.execute(sql.PRUNE_DEVICES, {"tokens": dead_tokens})
            await s.execute(sql.SKIP_FOR_TOKENS, {"tokens": dead_tokens, "claim": claim})
        await s.commit()
    if retry[0] or failed[0]:
        log.info(
            "push batch: %d sent, %d to retry, %d failed (%d tokens pruned)",
            len(sent_ids),
            len(retry[0]),
            len(failed[0]),
            len(dead_tokens),
        )
    return DeliveryStats(
        claimed=len(live),
        sent=len(sent_ids),
        retried=len(retry[0]),
        failed=len(failed[0]),
        pruned=len(dead_tokens),
        skipped=skipped,
    )


_SENDERS: dict[tuple[str, float], FcmSender] = {}


def sender_for(credentials_path: str, *, timeout_s: float = 10.0) -> FcmSender | None:
    """The process's sender for these credentials (one firebase App each); None when unset."""
    if not credentials_path:
        return None
    key = (credentials_path, timeout_s)
    if key not in _SENDERS:
        _SENDERS[key] = FcmSender(credentials_path, timeout_s=timeout_s)
    return _SENDERS[key]


async def close_senders() -> None:
    while _SENDERS:
        _, sender = _SENDERS.popitem()
        await sender.aclose()
