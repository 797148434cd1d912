"""The HTTP server's own limits (api/run/guard.py), over raw sockets against a real uvicorn server
with the protocol `phananh serve` gives it: oversize or too many headers are refused with 431 in the
one error shape, and a client that sends its headers or its body too slowly is dropped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from api.core.embedded_pg import free_port
from api.core.settings import Settings
from api.run.guard import server_options

LIMITS = Settings(
    http_max_header_bytes=8192, http_max_headers=50, http_header_timeout_s=0.5, http_body_timeout_s=0.5
)


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """Reads the whole body, answers its length and the number of headers."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = json.dumps({"size": size, "headers": len(scope["headers"])}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(
        echo, host="127.0.0.1", port=port, log_config=None, lifespan="off", **server_options(LIMITS)
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield port
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def exchange(port: int, *parts: bytes, pause_s: float = 0) -> bytes:
    """Send `parts` (pausing between them), then read until the server closes (bounded)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i, part in enumerate(parts):
            if i and pause_s:
                await asyncio.sleep(pause_s)
            writer.write(part)
            await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


def head(*headers: bytes) -> bytes:
    return (
        b"GET / HTTP/1.1\r\nhost: t\r\nconnection: close\r\n"
        + b"".join(h + b"\r\n" for h in headers)
        + b"\r\n"
    )


async def test_a_request_within_the_limits_is_served(port: int) -> None:
    answer = await exchange(port, head(b"x-a: " + b"a" * 4000, *[b"x-%d: 1" % i for i in range(40)]))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {"size": 0, "headers": 43}


@pytest.mark.parametrize(
    "request_bytes",
    [
        head(b"x-big: " + b"a" * 1_000_000),  # one header of 1 MB
        head(*[b"x-%d: 1" % i for i in range(10_000)]),  # 10,000 headers
        head(*[b"x-%d: 1" % i for i in range(51)]),  # one more than allowed
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nhost: t\r\n\r\n",  # the request line alone
    ],
    ids=["1MB-header", "10000-headers", "51-headers", "long-url"],
)
async def test_oversize_or_too_many_headers_get_431(port: int, request_bytes: bytes) -> None:
    answer = await exchange(port, request_bytes)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "headers_too_large"


async def test_a_header_line_that_never_ends_is_cut_off(port: int) -> None:
    """No line end ever comes: the bytes are counted as they arrive."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET / HTTP/1.1\r\nhost: t\r\nx-endless: ")
        for _ in range(20):
            writer.write(b"a" * 1024)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_a_client_that_never_finishes_its_headers_is_dropped(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET / HTTP/1.1\r\nhost: t\r\n")  # and nothing more
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server
    finally:
        writer.close()


async def test_a_connection_that_sends_nothing_is_dropped(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        assert await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        writer.close()


async def test_a_declared_body_that_never_comes_is_dropped(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"POST / HTTP/1.1\r\nhost: t\r\ncontent-length: 100\r\n\r\n0123456789")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        writer.close()


async def test_a_body_sent_in_pieces_within_the_pause_is_served(port: int) -> None:
    pieces = [b"POST / HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: 30\r\n\r\n"] + [
        b"0123456789"
    ] * 3
    answer = await exchange(port, *pieces, pause_s=0.2)  # each pause shorter than the limit
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["size"] == 30


async def test_keep_alive_requests_each_get_their_own_head_time(port: int) -> None:
    """Two requests on one connection, the second after a pause shorter than keep-alive but the
    whole connection older than the header timeout: both served."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for last in (False, True):
            writer.write(
                b"GET / HTTP/1.1\r\nhost: t\r\n" + (b"connection: close\r\n" if last else b"") + b"\r\n"
            )
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 10)
            assert status.startswith(b"HTTP/1.1 200"), status
            while (await asyncio.wait_for(reader.readline(), 10)) != b"\r\n":
                pass
            await asyncio.wait_for(reader.readexactly(len(b'{"size": 0, "headers": 1}')), 10)
            await asyncio.sleep(0.3)
    finally:
        writer.close()
