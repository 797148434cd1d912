"""uvicorn's httptools protocol with the limits it lacks: the size and number of a request's headers,
and how long a client may take to send them and its body.

uvicorn enforces none of these on its httptools protocol (its `h11_max_incomplete_event_size` binds
only the h11 one, and `timeout_keep_alive` only the idle time between requests): a 1 MB header and
10,000 headers were accepted, and a connection with unfinished headers, or a declared body that never
came, stayed open for good, each holding its buffers. So:

- the request line and headers together past `max_header_bytes`, or more than `max_headers` header
  lines: 431 in the one error shape, and the connection is closed (the bytes are counted as they
  arrive, so an endless header line is cut off too);
- the request line and headers not all there `header_timeout_s` after the connection opened (or
  the previous request ended): the connection is closed;
- a body that stops arriving for `body_timeout_s` while the app waits for it: the connection is
  closed (the app's `receive` then says the client went away). A pause because the app has not
  read what came (flow control) is the app's, not the client's, and does not count.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.core.errors import error_body

_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
_LINGER_S = 2.0


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request that is over a limit."""


def _refusal() -> bytes:
    import msgspec

    body = msgspec.json.encode(
        error_body("headers_too_large", "The request's headers are too large or too many.")
    )
    return (
        _431
        + b"content-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + body
    )


class GuardedHttpTools(HttpToolsProtocol):
    max_header_bytes = 16384
    max_headers = 100
    header_timeout_s = 10.0
    body_timeout_s = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # before the end of a request's headers (a new connection: too)
        self._head_bytes = 0  # raw bytes received since the request began, while in its head
        self._counted = 0  # the request line and headers as parsed
        self._count = 0
        self._over = False
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None

    # --- the connection
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def eof_received(self) -> bool | None:  # type: ignore[override]
        if self._over:  # the client is done too: nothing left to drop
            self.transport.close()
        return None

    def _disarm(self) -> None:
        for timer in (self._head_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._body_timer = None

    def _arm_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()

    def _arm_body(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
        self._body_timer = self.loop.call_later(self.body_timeout_s, self._body_too_slow)

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.flow is not None and self.flow.read_paused:  # the app has not read what came
            self._arm_body()
            return
        self.transport.close()

    def _refuse(self) -> None:
        """431, then a lingering close: closed with the client's bytes still unread, the socket would
        be reset and the client lose the answer; so the rest is read and dropped for a moment."""
        self._disarm()
        if self.transport.is_closing():
            return
        self.transport.write(_refusal())
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._head_timer = self.loop.call_later(_LINGER_S, self.transport.close)

    # --- bytes in
    def data_received(self, data: bytes) -> None:
        if self._over or self.transport.is_closing():
            return
        self._unset_keepalive_if_required()
        began_in_head = self._in_head
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._over:
                self._refuse()
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        if self._in_head:  # the head is not complete yet: what came so far is all head
            self._head_bytes = self._head_bytes + len(data) if began_in_head else len(data)
            if self._head_bytes > self.max_header_bytes:
                self._over = True
                self._refuse()

    # --- parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._counted, self._count = True, 0, 0
        if self._head_timer is None:
            self._arm_head()

    def on_url(self, url: bytes) -> None:
        self._counted += len(url)
        self._check()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._counted += len(name) + len(value) + 4
        self._count += 1
        self._check()
        super().on_header(name, value)

    def _check(self) -> None:
        if self._counted > self.max_header_bytes or self._count > self.max_headers:
            self._over = True
            raise _Refused

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        if not self.parser.should_upgrade():
            self._arm_body()

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm_body()

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # the next request's head has its own time, once it starts (keep-alive covers the idle wait)
        self._in_head = True


def guarded(settings: Any) -> type[GuardedHttpTools]:
    """The protocol class with the limits of `settings` (PHANANH_HTTP_*)."""
    return type(
        "GuardedHttpTools",
        (GuardedHttpTools,),
        {
            "max_header_bytes": settings.http_max_header_bytes,
            "max_headers": settings.http_max_headers,
            "header_timeout_s": settings.http_header_timeout_s,
            "body_timeout_s": settings.http_body_timeout_s,
        },
    )


def server_options(settings: Any) -> dict[str, Any]:
    """uvicorn's settings for `phananh serve`: the guarded protocol and the keep-alive time."""
    return {
        "http": guarded(settings),
        "timeout_keep_alive": settings.http_keep_alive_s,
        "h11_max_incomplete_event_size": settings.http_max_header_bytes,
    }
