"""Dependencies for the caller: `principal` (401 without one) and `viewer` (None without one)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import Provide

from api.access.bearer import signed_in
from api.access.tokens import Principal


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in caller; 401 when there is none."""
    return signed_in(request.scope.get("user"))


def provide_optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


DEPENDENCIES = {
    "principal": Provide(provide_principal, sync_to_thread=False),
    "viewer": Provide(provide_optional_principal, sync_to_thread=False),
}
