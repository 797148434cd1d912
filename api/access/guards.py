"""Who may call a handler. Guards check the role only; area scope is enforced in the queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from api.access.tokens import Principal
from api.core.errors import Forbidden, Unauthorized

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def _principal(conn: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = conn.scope.get("user")
    if not isinstance(user, Principal):
        raise Unauthorized("Sign-in is required.", message_vi="Cần đăng nhập.")
    return user


def roles(*allowed: str) -> Guard:
    def guard(conn: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if _principal(conn).role not in allowed:
            raise Forbidden(
                "Your role may not do this.", message_vi="Vai trò của bạn không được phép thao tác này."
            )

    guard.__name__ = f"roles_{'_'.join(allowed)}"
    return guard


admin_only = roles("admin")
