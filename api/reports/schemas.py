"""Bodies of POST /v1/reports."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from geo.coords import Lat, Lng

MAX_DESCRIPTION = 2000
MAX_ADDRESS = 300
MAX_BODY = 256 * 1024  # a report's JSON (text, answers, media ids); media come separately
IdempotencyKey = Annotated[
    str,
    msgspec.Meta(min_length=8, max_length=128, description="retries with the same key get the same answer"),
]


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    description: Annotated[str, msgspec.Meta(max_length=4 * MAX_DESCRIPTION)]
    lat: Lat
    lng: Lng
    accuracy_m: Annotated[float, msgspec.Meta(ge=0, le=100_000)] | None = None
    address: Annotated[str, msgspec.Meta(max_length=4 * MAX_ADDRESS)] | None = None
    answers: dict[str, Any] = {}
    media_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)] = []
    anonymous: bool = False
    client_id: uuid.UUID | None = None


class WardRef(msgspec.Struct):
    code: str
    name: str


class DueOut(msgspec.Struct):
    acknowledge_by: datetime
    resolve_by: datetime


class NearbyReport(msgspec.Struct):
    code: str
    category: str
    status: str
    distance_m: float
    follower_count: int
    created_at: datetime


class ReportCreated(msgspec.Struct):
    id: uuid.UUID
    code: str
    status: str
    visibility: str
    ward: WardRef
    agency: str | None
    due: DueOut
    near_boundary: bool
    snapped_m: float | None
    nearby: list[NearbyReport]
    created_at: datetime
