"""Bodies of the upload and media endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

SHA256_HEX = msgspec.Meta(pattern="^[0-9a-fA-F]{64}$")


class UploadIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["photo", "video"]
    content_type: Annotated[str, msgspec.Meta(min_length=3, max_length=100)]
    size: Annotated[int, msgspec.Meta(gt=0)]
    sha256: Annotated[str, SHA256_HEX] | None = None


class PartOut(msgspec.Struct):
    part_number: int
    url: str
    offset: int
    size: int


class UploadOut(msgspec.Struct):
    id: uuid.UUID
    method: str
    url: str
    expires_at: datetime
    complete_url: str
    headers: dict[str, str] = {}
    fields: dict[str, str] = {}
    parts: list[PartOut] | msgspec.UnsetType = msgspec.UNSET
    part_size: int | msgspec.UnsetType = msgspec.UNSET


class PartIn(msgspec.Struct, forbid_unknown_fields=True):
    part_number: Annotated[int, msgspec.Meta(ge=1, le=10_000)]
    etag: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CompleteIn(msgspec.Struct, forbid_unknown_fields=True):
    parts: Annotated[list[PartIn], msgspec.Meta(max_length=10_000)] = []


class CompleteOut(msgspec.Struct):
    media_id: uuid.UUID
    status: str


class ReceivedOut(msgspec.Struct):
    id: uuid.UUID
    received: int
