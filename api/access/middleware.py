"""Fills `connection.user` with the caller's `Principal` (or None when no token is sent): see
api/access/bearer.py for what a token must be."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp, Receive, Scope, Send

from api.access.bearer import authenticate
from api.core.errors import Unauthorized
from api.core.fastpath import error_answer, first_headers, send_answer


class BearerAuthMiddleware(AbstractAuthenticationMiddleware):
    def __init__(self, app: ASGIApp, secret: str, exclude: list[str] | None = None) -> None:
        super().__init__(app, exclude=exclude)
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except Unauthorized as exc:
            if "user" in scope:  # raised behind authentication: not ours to answer
                raise
            # Answered here, inside the request-id middleware: Litestar's outermost exception handler
            # would answer without the x-request-id header, and the access line would say status 0.
            language = first_headers(scope).get(b"accept-language", b"").decode("latin-1")
            await send_answer(send, error_answer(exc, language))

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        principal = authenticate(header, self.secret)
        return AuthenticationResult(user=principal, auth=None if principal is None else header)
