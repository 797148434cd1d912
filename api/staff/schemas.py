"""Request and response bodies for staff sign-in and user administration."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

StaffRole = Literal["officer", "leader", "moderator", "admin"]
Username = Annotated[str, msgspec.Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._@\-]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=256)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class LoginIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    role: StaffRole
    areas: Annotated[list[Code], msgspec.Meta(max_length=200)] = []
    agencies: Annotated[list[Code], msgspec.Meta(max_length=50)] = []
    display_name: DisplayName | None = None
    locale: Literal["vi", "en"] = "vi"


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change. `areas`/`agencies` replace the whole list."""

    display_name: DisplayName | None = None
    role: StaffRole | None = None
    areas: Annotated[list[Code], msgspec.Meta(max_length=200)] | None = None
    agencies: Annotated[list[Code], msgspec.Meta(max_length=50)] | None = None
    disabled: bool | None = None
    locale: Literal["vi", "en"] | None = None


class PasswordIn(msgspec.Struct, forbid_unknown_fields=True):
    password: Password


class UserOut(msgspec.Struct):
    id: uuid.UUID
    username: str | None
    display_name: str | None
    role: str
    areas: list[str]
    agencies: list[str]
    disabled: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class UserList(msgspec.Struct):
    items: list[UserOut]
    next_cursor: str | None = None
