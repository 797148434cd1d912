"""Sending the outbox: each due delivery is signed the Standard Webhooks way and POSTed to its endpoint.

The worker's step claims due rows (a lease, so a dead worker's rows come back) and hands each
endpoint's share to a task of its own, then returns at once: pushes and the other steps never wait
for an endpoint, and a slow or dead endpoint holds one task in this process, not the round. A 2xx is
delivered; anything else (or a timeout) is retried after a doubling wait until the attempts run out
(dead: an admin can replay it). The payload is rendered at the first attempt — the public view of the
event, personal data masked — and stored, so every attempt sends the same bytes with the same id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from standardwebhooks import Webhook

from api.catalogue.models import Category
from api.core.db import Database
from api.core.settings import Settings
from api.reports.models import Report, ReportEvent
from api.reports.views import PUBLIC_REASON_KINDS, public_event_text, public_report_text
from api.webhooks import sql
from api.webhooks.models import WebhookDelivery, WebhookEndpoint
from geo import Area

log = logging.getLogger("phananh.webhooks")

MAX_BACKOFF = timedelta(hours=6)
_senders: dict[uuid.UUID, asyncio.Task[None]] = {}  # endpoint → this process's task sending to it


def backoff(settings: Settings, attempts: int) -> timedelta:
    return min(timedelta(seconds=settings.webhook_backoff_s * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def deliver_due(db: Database, settings: Settings) -> int:
    """Claim what is due and start sending it; the number of deliveries claimed."""
    for endpoint_id, task in list(_senders.items()):
        if task.done():
            del _senders[endpoint_id]
    async with db.session() as session:
        rows = await sql.CLAIM.fetch(
            session,
            {
                "lease_s": settings.webhook_timeout_s * 4 + 30,
                "busy": list(_senders),
                "batch": settings.webhook_batch,
            },
        )
        await session.commit()
    by_endpoint: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        by_endpoint[row["endpoint_id"]].append(row)
    for endpoint_id, claimed in by_endpoint.items():
        _senders[endpoint_id] = asyncio.create_task(_send_all(db, settings, endpoint_id, claimed))
    return len(rows)


async def drain() -> None:
    """Wait for this process's senders (tests, and a worker shutting down)."""
    while _senders:
        tasks = list(_senders.values())
        await asyncio.gather(*tasks, return_exceptions=True)
        for endpoint_id, task in list(_senders.items()):
            if task.done():
                del _senders[endpoint_id]


async def _send_all(db: Database, settings: Settings, endpoint_id: uuid.UUID, rows: list[Any]) -> None:
    try:
        async with db.session() as session:
            endpoint = await session.get(WebhookEndpoint, endpoint_id)
        if endpoint is None:
            return
        signer = Webhook(endpoint.secret)
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_s, follow_redirects=False) as http:
            for row in sorted(rows, key=lambda r: r["created_at"]):
                await _send_one(db, settings, http, endpoint, signer, row)
    except Exception:
        log.exception("webhook sender for %s failed", endpoint_id)


async def _payload(db: Database, settings: Settings, row: Any) -> dict[str, Any] | None:
    """The event as the public may read it, or None when its report is not public."""
    async with db.session() as session:
        found = (
            await session.execute(
                select(ReportEvent, Report, Category.name_vi, Category.name_en, Area.name)
                .join(Report, Report.id == ReportEvent.report_id)
                .join(Category, Category.code == Report.category_code)
                .outerjoin(Area, Area.code == Report.ward_code)
                .where(ReportEvent.id == row["event_id"])
            )
        ).first()
    if found is None:
        return None
    event, report, cat_vi, cat_en, ward_name = found
    if report.visibility != "public":
        return None
    message, reason = public_event_text(event.public_message, event.reason, event.text_status)
    description, address = public_report_text(
        report.description, report.address, report.public_description, report.public_address
    )
    return {
        "type": f"case.{event.kind}",
        "timestamp": event.created_at.isoformat(),
        "data": {
            "event_id": str(event.id),
            "kind": event.kind,
            "code": report.code,
            "status": event.to_status or report.status,
            "category": {"code": report.category_code, "name_vi": cat_vi, "name_en": cat_en},
            "ward": {"code": report.ward_code, "name": ward_name},
            "agency": report.agency_code,
            "description": description,
            "address": address,
            "message": message,
            "reason": reason if event.kind in PUBLIC_REASON_KINDS else None,
            "created_at": event.created_at.isoformat(),
            "url": f"{settings.base_url}/r/{report.code}",
        },
    }


async def _send_one(
    db: Database,
    settings: Settings,
    http: httpx.AsyncClient,
    endpoint: WebhookEndpoint,
    signer: Webhook,
    row: Any,
) -> None:
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    if payload is None:
        payload = await _payload(db, settings, row)
        if payload is None:
            await _finish(db, row["id"], status="skipped", error="the report is not public")
            return
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    msg_id = str(row["id"])
    now = datetime.now(UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(msg_id, now, body),
        "user-agent": "PhanAnh-Webhooks/1",
    }
    code: int | None = None
    error: str | None = None
    try:
        resp = await http.post(endpoint.url, content=body.encode(), headers=headers)
        code = resp.status_code
        if 200 <= code < 300:
            await _finish(db, row["id"], status="delivered", code=code, payload=payload)
            return
        error = f"answered {code}"
    except (httpx.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    dead = row["attempts"] >= settings.webhook_max_attempts or code == 410  # 410: the receiver is gone
    await _finish(
        db,
        row["id"],
        status="dead" if dead else "pending",
        code=code,
        error=error,
        payload=payload,
        retry_at=None if dead else now + backoff(settings, row["attempts"]),
    )


async def _finish(
    db: Database,
    delivery_id: uuid.UUID,
    *,
    status: str,
    code: int | None = None,
    error: str | None = None,
    payload: dict[str, Any] | None = None,
    retry_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "lease_until": None,
        "last_status_code": code,
        "last_error": error,
    }
    if payload is not None:
        values["payload"] = payload
    if status == "delivered":
        values["delivered_at"] = datetime.now(UTC)
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    async with db.session() as session:
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values)
        )
        await session.commit()
