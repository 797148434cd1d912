"""/v1/admin/webhooks: admins register endpoints, read their delivery log and replay deliveries."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.guards import admin_only
from api.access.tokens import Principal
from api.core.openapi import errors
from api.core.pagination import Cursor
from api.core.settings import Settings
from api.webhooks import service
from api.webhooks.models import WebhookDelivery, WebhookEndpoint
from api.webhooks.schemas import (
    DeliveryList,
    DeliveryOut,
    EndpointIn,
    EndpointList,
    EndpointOut,
    EndpointPatch,
)

Limit = FromQuery[Annotated[int, Parameter(ge=1, le=200)]]


def endpoint_out(e: WebhookEndpoint, *, with_secret: bool = False) -> EndpointOut:
    return EndpointOut(
        id=e.id,
        url=e.url,
        description=e.description,
        areas=list(e.areas),
        categories=list(e.categories),
        event_types=list(e.event_types),
        active=e.active,
        created_at=e.created_at,
        secret=e.secret if with_secret else None,
    )


def delivery_out(d: WebhookDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id,
        endpoint_id=d.endpoint_id,
        event_id=d.event_id,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        created_at=d.created_at,
        payload=d.payload,
    )


class WebhooksController(Controller):
    path = "/v1/admin/webhooks"
    tags = ["admin"]
    guards = [admin_only]

    @get("", responses=errors(400, 401, 403), operation_id="listWebhooks")
    async def list_endpoints(
        self, session: NamedDependency[AsyncSession], cursor: Cursor = None, limit: Limit = 50
    ) -> EndpointList:
        """Every endpoint, newest first (never its secret)."""
        found, next_cursor = await service.endpoints(session, cursor=cursor, limit=limit)
        return EndpointList([endpoint_out(e) for e in found], next_cursor)

    @post("", responses=errors(400, 401, 403), operation_id="createWebhook")
    async def create(
        self,
        data: JSONBody[EndpointIn],
        principal: NamedDependency[Principal],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> EndpointOut:
        """Register an endpoint; its `secret` (whsec_…) is in this answer only."""
        made = await service.register(session, settings, msgspec.to_builtins(data), created_by=principal.id)
        return endpoint_out(made, with_secret=True)

    @patch("/{endpoint_id:uuid}", responses=errors(400, 401, 403, 404), operation_id="changeWebhook")
    async def change(
        self,
        endpoint_id: FromPath[uuid.UUID],
        data: JSONBody[EndpointPatch],
        session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
    ) -> EndpointOut:
        """Change an endpoint's URL, filters or `active` (only the fields given)."""
        changed = await service.change(session, settings, endpoint_id, msgspec.to_builtins(data))
        return endpoint_out(changed)

    @delete("/{endpoint_id:uuid}", responses=errors(401, 403, 404), operation_id="deleteWebhook")
    async def remove(self, endpoint_id: FromPath[uuid.UUID], session: NamedDependency[AsyncSession]) -> None:
        """Remove an endpoint and its delivery log."""
        await service.remove(session, endpoint_id)

    @get(
        "/{endpoint_id:uuid}/deliveries",
        responses=errors(400, 401, 403, 404),
        operation_id="webhookDeliveries",
    )
    async def deliveries(
        self,
        endpoint_id: FromPath[uuid.UUID],
        session: NamedDependency[AsyncSession],
        status: FromQuery[Literal["pending", "delivered", "dead", "skipped"] | None] = None,
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> DeliveryList:
        """The endpoint's delivery log, newest first: status, attempts, last answer, payload."""
        found, next_cursor = await service.deliveries(
            session, endpoint_id, status=status, cursor=cursor, limit=limit
        )
        return DeliveryList([delivery_out(d) for d in found], next_cursor)

    @post(
        "/deliveries/{delivery_id:uuid}/replay",
        status_code=200,
        responses=errors(401, 403, 404),
        operation_id="replayWebhookDelivery",
    )
    async def replay(
        self, delivery_id: FromPath[uuid.UUID], session: NamedDependency[AsyncSession]
    ) -> DeliveryOut:
        """Send a delivery again, with the same `webhook-id` (receivers drop duplicates by it)."""
        return delivery_out(await service.replay(session, delivery_id))
