"""A TCP relay in front of PostgreSQL that counts round trips: every Sync or simple Query message a
client sends ends with the server's ReadyForQuery, which the client waits for."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url

_SSL_REQUEST, _PROTOCOL_3 = 80877103, 196608


class RoundTrips:
    def __init__(self) -> None:
        self.count = 0

    async def _client_to_server(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            await self._relay(reader, writer)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started = False  # before the startup message, messages have no type byte
        while True:
            if not started:
                head = await reader.readexactly(8)
                length, code = struct.unpack("!ii", head)
                body = await reader.readexactly(length - 8)
                started = code == _PROTOCOL_3
                writer.write(head + body)
            else:
                head = await reader.readexactly(5)
                body = await reader.readexactly(struct.unpack("!i", head[1:])[0] - 4)
                if head[:1] in (b"S", b"Q"):
                    self.count += 1
                writer.write(head + body)
            await writer.drain()


@asynccontextmanager
async def counting_round_trips(url: str) -> AsyncIterator[tuple[str, RoundTrips]]:
    """(the URL of a relay to the server of `url`, without TLS so that it can read the messages; its
    counter)."""
    target = make_url(url)
    trips = RoundTrips()
    tasks: set[asyncio.Task[None]] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(target.host, target.port or 5432)
        upstream = asyncio.create_task(trips._client_to_server(client_r, server_w))
        downstream = asyncio.create_task(pipe(server_r, client_w))
        tasks.update((upstream, downstream))
        try:
            await asyncio.wait((upstream, downstream), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (upstream, downstream):
                t.cancel()
            client_w.close()
            server_w.close()

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        relayed = target.set(host="127.0.0.1", port=port).update_query_dict({"ssl": "disable"})
        yield relayed.render_as_string(hide_password=False), trips
    finally:
        server.close()
        for t in tasks:
            t.cancel()
