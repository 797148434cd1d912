from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

FcmToken = Annotated[str, msgspec.Meta(min_length=1, max_length=4096, pattern=r"^[A-Za-z0-9_:\-.]+$")]
LocaleTag = Annotated[str, msgspec.Meta(max_length=16, pattern=r"^[A-Za-z]{2}([-_][A-Za-z0-9]{1,8})?$")]


class DeviceIn(msgspec.Struct, forbid_unknown_fields=True):
    token: FcmToken
    platform: Literal["android", "ios", "web"]
    locale: LocaleTag = "vi"
    app_version: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class DeviceOut(msgspec.Struct):
    token: str
    platform: str
    locale: str
    app_version: str | None
    created_at: datetime
    updated_at: datetime


class NotificationOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    report_code: str | None
    title: str
    body: str
    data: dict[str, str]
    created_at: datetime
    read_at: datetime | None


class InboxOut(msgspec.Struct):
    items: list[NotificationOut]
    unread: int
    next_cursor: str | None


class ReadIn(msgspec.Struct, forbid_unknown_fields=True):
    """Either `{"ids": [...]}` or `{"all": true}`."""

    ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=500)] | None = None
    all: bool = False


class ReadOut(msgspec.Struct):
    marked: int
    unread: int
