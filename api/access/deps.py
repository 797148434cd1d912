"""Dependencies for the caller: `principal` (401 without one) and `viewer` (None without one)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import Provide

from api.access.tokens import Principal
from api.core.errors import Unauthorized


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in caller; 401 when there is none."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise Unauthorized("Sign-in is required.", message_vi="Cần đăng nhập.")
    return user


def provide_optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


DEPENDENCIES = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "viewer": Provide(provide_optional_principal, sync_to_thread=False),
}
