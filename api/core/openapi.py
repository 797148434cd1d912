"""Shared OpenAPI bits: documented error responses and the public-endpoint security marker.

Litestar documents only the success status and 400 by itself; handlers list the other errors they
can answer with `responses=errors(401, 404, ...)` so clients (and schemathesis) know them.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    details: Any = None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


_DESCRIPTIONS = {
    400: "Malformed request",
    401: "Missing or invalid access token",
    403: "Role not allowed",
    404: "Not found (or outside your scope)",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Well-formed but not acceptable",
    429: "Rate limited; see Retry-After",
    503: "Not ready",
}

# Marks a handler that needs no token (it may still use one when given).
PUBLIC: list[dict[str, list[str]]] = [{}]
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        s: ResponseSpec(
            data_container=ErrorBody, description=_DESCRIPTIONS.get(s, "Error"), generate_examples=False
        )
        for s in statuses
    }


def success(status: int, body: type) -> dict[int, ResponseSpec]:
    """The success response of a handler that returns bytes it rendered itself (a hot route)."""
    return {
        status: ResponseSpec(
            data_container=body, description=HTTPStatus(status).description, generate_examples=False
        )
    }
