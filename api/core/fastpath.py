"""Hot routes: an endpoint declared once, served by Litestar and by a lean ASGI path in front of it.

Every report asks for a ward and every map tap too; every report is a POST. Through Litestar each
such request costs as much Python (middleware stack, routing, parameter models, dependency injection
in task groups, response objects) as the SQL work itself, on two cores. So a hot route is three plain functions — `parse` (the raw request → typed input, or an
`AppError`), `call` (the service) and `render` (the result → status, body, headers) — and both ways
in run exactly those: `FastPaths` (what `phananh serve` runs) answers the route's requests itself,
and the route's Litestar handler calls `through_litestar`, which builds the same `Incoming` and runs
the same `answer`. Nothing about a hot request is decided twice: the bearer token goes through
`api.access.bearer.authenticate`, the request id and the access line through the request-id
middleware of api/core/logs.py, errors through `api.core.errors.error_json`.

Litestar's handler declares no typed parameters (its own validation would answer first, in its own
words), so the route documents what `parse` reads with `documented` (from the same msgspec types).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from litestar import Litestar, MediaType, Request, Response
from litestar.datastructures import State
from litestar.openapi.spec import Operation

from api.core.errors import AppError, error_json, http_error, internal_error_json, prefers_english
from api.core.inputs import check_json, entry
from api.core.logs import request_id_middleware_factory
from api.core.overload import database_error

log = logging.getLogger("phananh.fast")

Receive = Callable[[], Awaitable[Any]]
In = TypeVar("In")
Out = TypeVar("Out")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes  # JSON
    headers: tuple[tuple[bytes, bytes], ...] = ()  # lower-case names; besides content-type and length


@dataclass(frozen=True, slots=True)
class Incoming:
    """What a hot route reads of a request, built the same way on both ways in."""

    state: State
    query: bytes
    headers: Mapping[bytes, bytes]  # lower-case names; the first of repeated headers
    body: bytes
    client: str  # the peer's address
    principal: Any  # from a verified bearer token

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return None if value is None else value.decode("latin-1")


@dataclass(frozen=True, slots=True)
class HotRoute(Generic[In, Out]):
    method: str
    path: str
    max_body: int | None  # None: the body is not read
    parse: Callable[[Incoming], In]
    call: Callable[[State, In], Awaitable[Out]]
    render: Callable[[Out], Answer]


def incoming(
    scope: Mapping[str, Any],
    body: bytes,
    principal: Any,
    state: State,
    headers: dict[bytes, bytes] | None = None,
) -> Incoming:
    client = scope.get("client")
    return Incoming(
        state,
        scope.get("query_string", b""),
        first_headers(scope) if headers is None else headers,
        body,
        client[0] if client else "unknown",
        principal,
    )


def first_headers(scope: Mapping[str, Any]) -> dict[bytes, bytes]:
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name, value)  # Litestar's `headers.get` also takes the first
    return headers


async def answer(route: HotRoute[Any, Any], request: Incoming) -> Answer:
    """parse → call → render; an `AppError` on the way is answered in the one error shape."""
    try:
        if route.max_body is not None and len(request.body) > route.max_body:
            raise http_error(413, {"max_bytes": route.max_body})
        if request.body:
            check_json(request.body)
        return route.render(await route.call(request.state, route.parse(request)))
    except AppError as exc:
        return error_answer(exc, request.header(b"accept-language"))


def error_answer(exc: AppError, accept_language: str | None) -> Answer:
    headers = tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items())
    return Answer(exc.status_code, error_json(exc, prefers_english(accept_language or "")), headers)


async def send_answer(send: Callable[[Any], Awaitable[None]], out: Answer) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": out.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(out.body)).encode()),
                *out.headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": out.body})


async def read_body(receive: Receive, limit: int) -> bytes:
    """The body, reading no further than one chunk past `limit` (the caller refuses it then)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away; nobody reads the answer
            raise http_error(400, {"reason": "the body was cut off"})
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False) or size > limit:
            return b"".join(chunks)


async def through_litestar(route: HotRoute[Any, Any], request: Request[Any, Any, Any]) -> Response[bytes]:
    """The route's Litestar handler: Litestar has routed it and checked its token (middleware)."""
    try:
        body = b"" if route.max_body is None else await read_body(request.receive, route.max_body)
    except AppError as exc:
        out = error_answer(exc, request.headers.get("accept-language"))
    else:
        user = request.scope.get("user")
        principal = user  # the bearer middleware's Principal, or None
        out = await answer(route, incoming(request.scope, body, principal, request.app.state))
    return Response(
        out.body,
        status_code=out.status,
        media_type=MediaType.JSON,
        headers={k.decode("latin-1"): v.decode("latin-1") for k, v in out.headers},
    )


def documented(
    *,
    query: Mapping[str, Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    body: type | None = None,
) -> type[Operation]:
    """An OpenAPI operation describing what a hot route's `parse` reads: required query parameters
    and optional headers as {name: msgspec type}, and a JSON body of type `body`."""
    parameters = [_parameter(name, "query", True, t) for name, t in (query or {}).items()] + [
        _parameter(name, "header", False, t) for name, t in (headers or {}).items()
    ]
    request_body = (
        None
        if body is None
        else {"required": True, "content": {"application/json": {"schema": _schema(body)}}}
    )

    class Documented(Operation):
        def to_schema(self) -> dict[str, Any]:
            out = super().to_schema()
            if parameters:
                out["parameters"] = parameters
            if request_body is not None:
                out["requestBody"] = request_body
            return out

    return Documented


def _parameter(name: str, where: str, required: bool, t: Any) -> dict[str, Any]:
    schema = _schema(t)
    described = {"description": schema.pop("description")} if "description" in schema else {}
    return {"name": name, "in": where, "required": required, **described, "schema": schema}


def _schema(t: Any) -> dict[str, Any]:
    """The JSON schema of a msgspec type, inlined (hot-route inputs hold no nested structs)."""
    (schema,), components = msgspec.json.schema_components([t], ref_template="{name}")
    return components[schema["$ref"]] if "$ref" in schema else schema


class FastPaths:
    """ASGI wrapper: each hot route's requests are answered here, the rest by Litestar."""

    def __init__(
        self,
        app: Litestar,
        routes: list[HotRoute[Any, Any]],
        *,
        authenticate: Callable[[str | None], Any],
        freeze_gc: bool = False,
    ) -> None:
        self.app = app
        self.authenticate = authenticate  # the bearer middleware's reading of `Authorization`
        self.freeze_gc = freeze_gc
        self.routes = {(r.method, r.path): r for r in routes}
        # the request id, its header, the access line and the check of the target: what the app
        # runs in front of Litestar (api.app.App)
        self._served = request_id_middleware_factory(access=app.state.settings.access_log)(entry(self._serve))
        self.answered: dict[str, int] = {r.path: 0 for r in routes}  # for tests and diagnostics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._lifespan_send(send))
        elif scope["type"] == "http" and (scope["method"], scope["path"]) in self.routes:
            self.answered[scope["path"]] += 1
            await self._served(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _serve(self, scope: Any, receive: Any, send: Any) -> None:
        route = self.routes[(scope["method"], scope["path"])]
        state = self.app.state
        headers = first_headers(scope)
        language = headers.get(b"accept-language", b"").decode("latin-1")
        try:
            # the order of Litestar's: the token (its middleware), then the body (the handler)
            authorization = headers.get(b"authorization")
            principal = self.authenticate(None if authorization is None else authorization.decode("latin-1"))
            body = b"" if route.max_body is None else await read_body(receive, route.max_body)
            out = await answer(route, incoming(scope, body, principal, state, headers))
        except AppError as exc:
            out = error_answer(exc, language)
        except Exception as exc:
            failed = database_error(exc, route.path, state.settings.db_retry_after_s)
            if failed is not None:  # the database is away or busy: a 503, logged once in a while
                out = error_answer(failed, language)
            else:
                log.exception("unhandled error on %s %s", route.method, route.path)
                out = Answer(500, internal_error_json(prefers_english(language)))
        await send_answer(send, out)

    def _lifespan_send(self, send: Any) -> Any:
        async def wrapped(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete" and self.freeze_gc:
                # What start-up built lives as long as the process. Frozen, the collector no longer
                # walks it: an untuned full collection of this heap stalled every request in
                # flight for ~100 ms every few seconds under load (bench/submit.py).
                gc.collect()
                gc.freeze()
            await send(message)

        return wrapped
