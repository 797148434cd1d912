from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from api.reports.views import ReportView

DeviceId = Annotated[str, msgspec.Meta(min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._:\-]+$")]
Locale = Literal["vi", "en"]


class DeviceIn(msgspec.Struct, forbid_unknown_fields=True):
    device_id: DeviceId
    platform: Literal["android", "ios", "web"]
    locale: Locale = "vi"
    app_version: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class RefreshIn(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: Annotated[str, msgspec.Meta(min_length=10, max_length=200)]


class TokensOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: uuid.UUID
    role: str
    token_type: str = "Bearer"


class MeOut(msgspec.Struct):
    id: uuid.UUID
    role: str
    locale: str
    display_name: str | None
    phone: str | None
    username: str | None


class MePatch(msgspec.Struct, forbid_unknown_fields=True):
    """Optional details a resident may add later; `null` clears one."""

    display_name: Annotated[str, msgspec.Meta(max_length=80)] | msgspec.UnsetType | None = msgspec.UNSET
    phone: Annotated[str, msgspec.Meta(max_length=20)] | msgspec.UnsetType | None = msgspec.UNSET
    locale: Locale | msgspec.UnsetType = msgspec.UNSET


# ---- GET /v1/me/export: everything held about a resident ----------------------------------


class ExportAccount(msgspec.Struct):
    id: uuid.UUID
    role: str
    display_name: str | None
    phone: str | None
    locale: str
    created_at: datetime


class ExportInstall(msgspec.Struct):
    device_id: str  # masked but for its last 4 characters
    platform: str
    locale: str
    app_version: str | None
    created_at: datetime
    last_seen_at: datetime


class ExportPushDevice(msgspec.Struct):
    token: str  # masked but for its last 4 characters
    platform: str
    locale: str
    app_version: str | None
    created_at: datetime
    updated_at: datetime


class ExportFollow(msgspec.Struct):
    report_code: str
    followed_at: datetime


class ExportRating(msgspec.Struct):
    report_code: str
    stars: int
    comment: str | None
    rated_at: datetime | None


class ExportNotification(msgspec.Struct):
    id: uuid.UUID
    kind: str
    report_code: str | None
    title_vi: str
    body_vi: str
    title_en: str
    body_en: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class ResidentExport(msgspec.Struct):
    generated_at: datetime
    account: ExportAccount
    app_installs: list[ExportInstall]
    push_devices: list[ExportPushDevice]
    reports: list[ReportView]  # each as its reporter sees it: timeline without staff notes, media links
    follows: list[ExportFollow]
    ratings: list[ExportRating]
    notifications: list[ExportNotification]
