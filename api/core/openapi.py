"""The OpenAPI document tells what the API really answers.

Litestar documents a handler's success and, for its own validation failures, a 400 in a shape the
API never sends. `document(app, ...)` finishes the generated document in one place: every operation
gets the error responses the app's rules can produce (`defaults`), on top of those its handler lists
with `responses=errors(...)`, and every 4xx/5xx refers to the one error shape — or, under a prefix with
an error dialect of its own (Open311), to that dialect's shape in each of its formats.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import msgspec
import swagger_ui_bundle
from litestar import Litestar, Router
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    PathItem,
    Reference,
    Schema,
)
from litestar.static_files import create_static_files_router


class ErrorDetail(msgspec.Struct):
    code: str
    message: str
    details: Any = None


class ErrorBody(msgspec.Struct):
    error: ErrorDetail


DESCRIPTIONS = {
    400: "Malformed request (validation_error, with the fields in details)",
    401: "Missing or invalid access token",
    403: "Role not allowed",
    404: "Not found (or outside your scope)",
    405: "Method not allowed",
    409: "Conflict with the current state",
    410: "Gone",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Well-formed but not acceptable",
    429: "Rate limited; see Retry-After",
    503: "Busy or the database is unavailable; try again later",
}

# Marks a handler that needs no token (it may still use one when given).
PUBLIC: list[dict[str, list[str]]] = [{}]
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]

ERROR = "Error"
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The errors a handler answers beyond `defaults` (their bodies are rewritten by `document`)."""
    return {
        s: ResponseSpec(
            data_container=ErrorBody, description=DESCRIPTIONS.get(s, "Error"), generate_examples=False
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


@dataclass(frozen=True)
class Dialect:
    """The documents of a prefix that answers in formats and an error shape of its own.

    `error` is the JSON schema of its errors; `media_types` each of its answers may come in (JSON is
    described by the schemas, any other by `text`); `success` maps an operation id to its success
    body's JSON schema."""

    name: str  # of its error schema among the components
    error: dict[str, Any]
    media_types: tuple[str, ...]
    success: Mapping[str, dict[str, Any]] = field(default_factory=dict)


_ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["error"],
    properties={
        "error": Schema(
            type=OpenAPIType.OBJECT,
            required=["code", "message"],
            properties={
                "code": Schema(type=OpenAPIType.STRING, description="stable machine code"),
                "message": Schema(
                    type=OpenAPIType.STRING, description="in the Accept-Language (Vietnamese by default)"
                ),
                "details": Schema(description="what the code needs: fields, limits, a reason"),
            },
        )
    },
)


def defaults(path: str, operation: Operation, tokenless: Sequence[str] = ()) -> set[int]:
    """The errors any operation of this kind can answer, whatever its handler does:

    - 400 when it reads parameters or a body (they are validated);
    - 401 unless its path is `tokenless` (a token, even on a public operation, must be valid);
    - 403 when it needs a token (a role that is not allowed);
    - 404 when its path holds a parameter (nothing by that name, or not in the caller's scope);
    - 413 and 415 when it takes a body (larger than allowed; a content type it does not read);
    - 503 always (the database is unreachable or the server is saturated)."""
    statuses = {503}
    if operation.parameters or operation.request_body:
        statuses.add(400)
    if not any(re.search(pattern, path) for pattern in tokenless):
        statuses.add(401)
    if operation.security is None or any(operation.security):
        statuses.add(403)
    if "{" in path:
        statuses.add(404)
    if operation.request_body:
        statuses |= {413, 415}
    return statuses


def _operations(item: PathItem) -> list[Operation]:
    return [op for m in _METHODS if (op := getattr(item, m, None)) is not None]


def _text(description: str | None = None) -> OpenAPIMediaType:
    return OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description=description))


def _content(schema: Schema | Reference, media_types: tuple[str, ...]) -> dict[str, OpenAPIMediaType]:
    return {
        mt: OpenAPIMediaType(schema=schema) if mt == "application/json" else _text() for mt in media_types
    }


def _is_error(status: str) -> bool:
    return status[:1] in ("4", "5")


def finish(openapi: OpenAPI, dialects: Mapping[str, Dialect], tokenless: Sequence[str] = ()) -> OpenAPI:
    """Every operation's error responses (see the module's docstring)."""
    schemas = openapi.components.schemas
    schemas[ERROR] = _ERROR_SCHEMA
    schemas.pop("ErrorBody", None)
    schemas.pop("ErrorDetail", None)
    for own in dialects.values():
        schemas[own.name] = _schema(own.error)
    for path, item in (openapi.paths or {}).items():
        dialect = next((d for p, d in dialects.items() if path.startswith(p)), None)
        for operation in _operations(item):
            _finish_operation(path, operation, dialect, tokenless)
    return openapi


def _finish_operation(
    path: str, operation: Operation, dialect: Dialect | None, tokenless: Sequence[str]
) -> None:
    responses = dict(operation.responses or {})
    statuses = {int(s) for s in responses if _is_error(s)} | defaults(path, operation, tokenless)
    error: Reference = Reference(ref=f"#/components/schemas/{dialect.name if dialect else ERROR}")
    content = _content(error, dialect.media_types if dialect else ("application/json",))
    if dialect is not None:
        body = dialect.success.get(operation.operation_id or "")
        for status, response in responses.items():
            if not _is_error(status) and isinstance(response, OpenAPIResponse) and response.content:
                response.content = _content(_schema(body) if body else Schema(), dialect.media_types)
    for code in sorted(statuses):
        old = responses.get(str(code))
        description = (
            old.description
            if isinstance(old, OpenAPIResponse) and old.description
            else DESCRIPTIONS.get(code, HTTPStatus(code).phrase)
        )
        responses[str(code)] = OpenAPIResponse(description=description, content=dict(content))
    if isinstance(no_content := responses.get("204"), OpenAPIResponse):
        no_content.content = None  # a 204 has no body, whatever the handler's return type says
    operation.responses = dict(sorted(responses.items()))


def _schema(raw: dict[str, Any]) -> Schema:
    """A `Schema` from a plain JSON schema (the dialects write theirs as dicts)."""
    return _Raw(raw)


class _Raw(Schema):
    """A schema kept as given: rendered verbatim into the document."""

    def __init__(self, raw: dict[str, Any]) -> None:
        super().__init__()
        self.raw = raw

    def to_schema(self) -> dict[str, Any]:
        return dict(self.raw)


def document(
    app: Litestar, dialects: Mapping[str, Dialect] | None = None, *, tokenless: Sequence[str] = ()
) -> Litestar:
    """Finish `app`'s OpenAPI document with `finish` when it is first built (it is built lazily)."""
    plugin = app.plugins.get(OpenAPIPlugin)
    build: Callable[[OpenAPIPlugin], OpenAPI] = OpenAPIPlugin._build_openapi
    given = dict(dialects or {})

    def _build_openapi(self: OpenAPIPlugin) -> OpenAPI:
        return finish(build(self), given, tuple(tokenless))

    # OpenAPIPlugin has slots and no hook after the build: a subclass of the same layout adds one
    plugin.__class__ = type(
        "DocumentedOpenAPIPlugin", (OpenAPIPlugin,), {"__slots__": (), "_build_openapi": _build_openapi}
    )
    return app


# Swagger UI's files, from the swagger-ui-bundle-v2 package (Apache-2.0, its licence in the package's
# dist-info), served by the app itself so the docs work offline and load nothing from elsewhere.
ASSETS = "/schema/assets"


def docs_ui() -> tuple[SwaggerRenderPlugin, Router]:
    """The viewer at /schema/swagger and the router serving its files under ASSETS."""
    files = Path(swagger_ui_bundle.swagger_ui_path)
    plugin = SwaggerRenderPlugin(
        js_url=f"{ASSETS}/swagger-ui-bundle.js",
        css_url=f"{ASSETS}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
        path="/swagger",
    )
    router = create_static_files_router(
        path=ASSETS, directories=[files], include_in_schema=False, name="docs-assets"
    )
    return plugin, router
