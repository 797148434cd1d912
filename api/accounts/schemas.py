from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

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
