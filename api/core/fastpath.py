"""Lean ASGI paths in front of the Litestar app, for the hottest requests (`phananh serve`).

Every report asks for a ward and every map tap too; every report is a POST. Through Litestar each
such request costs about a millisecond of Python (middleware stack, routing, parameter models,
dependency injection in task groups, response objects) — on two cores as much as the SQL work
itself. A fast path answers a well-formed request directly with the same service call, the same
body and headers. Anything else — a malformed or unusual request, an error it does not render
itself, every other route — goes to Litestar (with the body it read replayed), which owns
validation errors, the error shape and the OpenAPI description.
"""

from __future__ import annotations

import gc
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from litestar import Litestar

from api.core.logs import _valid_incoming, access_log, request_id_var

log = logging.getLogger("phananh.fast")

Receive = Callable[[], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


class FastPath(Protocol):
    method: str
    path: str
    max_body: int  # the longest body `answer` is given; a longer one goes to Litestar (replayed)

    async def answer(self, scope: dict[str, Any], headers: dict[bytes, bytes], body: bytes) -> Answer | None:
        """The response, or None to let Litestar answer."""
        ...

    async def close(self) -> None: ...


class FastPaths:
    """ASGI wrapper: each registered (method, path) is offered to its fast path first."""

    def __init__(self, app: Litestar, paths: list[FastPath], *, freeze_gc: bool = False) -> None:
        self.app = app
        self.freeze_gc = freeze_gc
        self.routes = {(p.method, p.path): p for p in paths}
        # requests each path answered itself / handed to Litestar (for tests and diagnostics)
        self.answered: Counter[str] = Counter()
        self.passed: Counter[str] = Counter()

    def path(self, method: str, path: str) -> FastPath:
        return self.routes[(method, path)]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._lifespan_send(send))
            return
        fast = self.routes.get((scope.get("method"), scope.get("path"))) if scope["type"] == "http" else None
        if fast is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body, whole, within = await _read_body(receive, fast.max_body)
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")
        if not _valid_incoming(rid):
            rid = uuid.uuid4().hex
        token = request_id_var.set(rid)  # the service's own log lines carry the request id too
        try:
            answer = None
            if whole and within:
                try:
                    answer = await fast.answer(scope, headers, body)
                except Exception:
                    log.warning(
                        "fast path %s %s failed; Litestar answers", fast.method, fast.path, exc_info=True
                    )
            if answer is None:
                self.passed[fast.path] += 1
                await self.app(scope, _replay(body, whole, receive), send)
                return
            self.answered[fast.path] += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": answer.status,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(answer.body)).encode()),
                        (b"x-request-id", rid.encode()),
                        *answer.headers,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": answer.body})
            if self.app.state.settings.access_log:
                access_log.info(
                    "%s %s %s",
                    fast.method,
                    fast.path,
                    answer.status,
                    extra={"status": answer.status, "ms": round((time.perf_counter() - started) * 1000, 2)},
                )
        finally:
            request_id_var.reset(token)

    def _lifespan_send(self, send: Any) -> Any:
        async def wrapped(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete" and self.freeze_gc:
                # What start-up built lives as long as the process. Frozen, the collector no longer
                # walks it: an untuned full collection of this heap stalled every request in
                # flight for ~100 ms every few seconds under load (bench/submit.py).
                gc.collect()
                gc.freeze()
            if message["type"] == "lifespan.shutdown.complete":
                for fast in self.routes.values():
                    try:
                        await fast.close()
                    except Exception:
                        log.warning("closing fast path %s failed", fast.path, exc_info=True)
            await send(message)

        return wrapped


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool, bool]:
    """(what was read, whether that is the whole body, whether it is within `limit`); reading stops
    once the limit is passed or the client goes away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False, True  # the client went away: Litestar sees the same
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        whole = not message.get("more_body", False)
        if whole or size > limit:
            return b"".join(chunks), whole, size <= limit


def _replay(body: bytes, whole: bool, receive: Receive) -> Receive:
    """`receive` for Litestar: what was read already, then (if anything is left) the rest."""
    sent = False

    async def replay() -> Any:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": not whole}

    return replay


def with_fast_paths(app: Litestar, *, serving: bool = False) -> FastPaths:
    """The app behind its fast paths; `serving`: a server process of its own (`phananh serve`)."""
    from api.areas.fast import LookupFastPath
    from api.reports.fast import SubmitFastPath

    return FastPaths(app, [LookupFastPath(app), SubmitFastPath(app)], freeze_gc=serving)


def create_asgi_from_env() -> FastPaths:
    """Factory for the worker processes of `phananh serve --workers N` (api/serve.py)."""
    from api.app import create_app_from_env

    return with_fast_paths(create_app_from_env(), serving=True)
