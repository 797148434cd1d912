"""Request and response bodies of the console's session and configuration."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec


class SignInIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class ConsoleUser(msgspec.Struct):
    id: uuid.UUID
    username: str | None
    display_name: str | None
    role: str
    areas: list[str]
    agencies: list[str]
    locale: str


class SessionOut(msgspec.Struct):
    """The access token (kept in the page's memory only) and who it is; the refresh token travels in
    the HttpOnly cookie, never in a body."""

    access_token: str
    expires_in: int
    user: ConsoleUser
    # [west, south, east, north] of the wards under the user's areas (every ward for an unscoped
    # admin or moderator): where the map opens; null when there is none with a boundary
    extent: list[float] | None


class ConfigOut(msgspec.Struct):
    map_style_url: str | None
