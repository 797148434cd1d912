"""Structured logs with the request id in every line, and the request-id middleware.

Log lines are JSON when stdout is not a terminal (containers, CI), readable text otherwise.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("phananh.access")

# uvicorn's `color_message` repeats the message with terminal colours
_STD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and key not in out and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")


class _QuietStartup(logging.Filter):
    """Alembic's two lines on every schema check (and every migration run) say nothing to operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(("Context impl ", "Will assume "))


def configure_logging(level: str = "INFO", as_json: bool | None = None) -> None:
    """The one set-up of the process's logs, before anything logs: every logger (uvicorn's and
    Alembic's included) goes through one handler, JSON or text, with the request id."""
    if as_json is None:
        as_json = not sys.stdout.isatty()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):  # we write our own access line, with the request id
        logging.getLogger(noisy).disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Alembic announces each of its plugins at INFO on start-up: at DEBUG they would still show
    # under PHANANH_LOG_LEVEL=DEBUG
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    migration = logging.getLogger("alembic.runtime.migration")
    migration.filters[:] = [_QuietStartup()]


def ensure_logging(level: str = "INFO", as_json: bool | None = None) -> None:
    """`configure_logging` unless something (the CLI, a test runner) already set the root logger up:
    an app built by a server's factory logs the same way as one `phananh serve` runs."""
    if not logging.getLogger().handlers:
        configure_logging(level, as_json)


def _valid_incoming(value: str) -> bool:
    return 0 < len(value) <= 128 and all(c.isalnum() or c in "-_.:" for c in value)


def request_id_middleware_factory(access: bool = True) -> Any:
    def middleware(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            incoming = ""
            for k, v in scope["headers"]:
                if k == b"x-request-id":
                    incoming = v.decode("latin-1")
                    break
            rid = incoming if _valid_incoming(incoming) else uuid.uuid4().hex
            token = request_id_var.set(rid)
            started = time.perf_counter()
            status = 0

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    headers = list(message.get("headers", []))
                    headers.append((b"x-request-id", rid.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            try:
                await app(scope, receive, send_with_id)
            finally:
                if access:
                    access_log.info(
                        "%s %s %s",
                        scope.get("method", ""),
                        scope["path"],
                        status,
                        extra={"status": status, "ms": round((time.perf_counter() - started) * 1000, 2)},
                    )
                request_id_var.reset(token)

        return wrapped

    return middleware
