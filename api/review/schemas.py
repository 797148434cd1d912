"""Bodies of the moderation review endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec


class ReviewIn(msgspec.Struct, forbid_unknown_fields=True):
    action: Literal["publish", "hide"]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None


class ReviewOut(msgspec.Struct):
    code: str
    visibility: str
    event_id: uuid.UUID


class ReviewItem(msgspec.Struct):
    code: str
    category: str
    description: str
    address: str | None
    ward: str | None
    status: str
    visibility: str
    created_at: datetime
    lat: float | None
    lng: float | None
    held_for: list[str]  # screening reasons: phone_number, email_address, abusive_language


class ReviewQueue(msgspec.Struct):
    items: list[ReviewItem]
    next_after: str | None = None


# [x, y, w, h]: fractions (0 to 1) of the picture as shown; `media` checks they lie inside it
BlurBox = Annotated[list[float], msgspec.Meta(min_length=4, max_length=4)]


class BlurIn(msgspec.Struct, forbid_unknown_fields=True):
    boxes: Annotated[list[BlurBox], msgspec.Meta(max_length=50)]


class BlurBoxOut(msgspec.Struct):
    box: list[float]
    source: str  # face | plate (found automatically, kept) | moderator


class BlurOut(msgspec.Struct):
    media_id: uuid.UUID
    boxes: list[BlurBoxOut]
    rebuild: str  # "queued": the public renditions are made again by the worker, hidden until then
    event_id: uuid.UUID | None = None  # the report event recording the change, when on a report
