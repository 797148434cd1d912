"""Bodies of the admin's partner keys (Open311's own documents are built in service.py and intake.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120, description="the partner system")]


class ApiKeyOut(msgspec.Struct, omit_defaults=True):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    key: str | None = None  # only in the answer that issues it


class ApiKeyList(msgspec.Struct):
    items: list[ApiKeyOut]
    next_cursor: str | None = None
