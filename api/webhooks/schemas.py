"""Bodies of the admin's webhook endpoints and deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

Codes = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]], msgspec.Meta(max_length=200)
]


class EndpointIn(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2000)]
    description: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    areas: Codes = []  # a case in any of these areas (or below); empty: everywhere
    categories: Codes = []  # empty: every category
    event_types: Codes = []  # event kinds (created, acknowledged, resolved…); empty: all


class EndpointPatch(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(min_length=8, max_length=2000)] | None = None
    description: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    areas: Codes | None = None
    categories: Codes | None = None
    event_types: Codes | None = None
    active: bool | None = None


class EndpointOut(msgspec.Struct, omit_defaults=True):
    id: uuid.UUID
    url: str
    description: str | None
    areas: list[str]
    categories: list[str]
    event_types: list[str]
    active: bool
    created_at: datetime
    secret: str | None = None  # only when created: the receiver verifies signatures with it


class EndpointList(msgspec.Struct):
    items: list[EndpointOut]
    next_cursor: str | None = None


class DeliveryOut(msgspec.Struct):
    id: uuid.UUID  # the `webhook-id` the receiver saw
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str  # pending | delivered | dead | skipped
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    payload: dict[str, Any] | None


class DeliveryList(msgspec.Struct):
    items: list[DeliveryOut]
    next_cursor: str | None = None
