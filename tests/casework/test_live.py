"""GET /v1/queue/events: server-sent events of case changes, on a real server (uvicorn on a socket) read
by a real streaming client, over a database of the test's own (notifications need real commits).

A new case reaches the officers of its ward and not the others, whichever API process it was made
through; a ticket opens a stream (EventSource), a bearer token too (fetch); streams are bounded per
process; keep-alive comments; every stream says `bye` and ends when the server shuts down."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from api.access.tokens import Principal, encode_ticket
from api.app import create_app
from api.casework import service
from api.core.db import Database, make_engine
from api.core.settings import Settings
from api.run.server import Server
from tests.assertions import assert_error_shape
from tests.conftest import serving
from tests.factories import Person, make_city, resident, staff, submit_report

WAIT_S = 10.0


@asynccontextmanager
async def running(settings: Settings, url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Server]]:
    """The app served by uvicorn on a socket of its own, and a client talking to it over TCP."""
    app = create_app(settings, database_url=url)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = Server(uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=20))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started, "the server did not start"
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=WAIT_S) as client:
            yield client, server
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@dataclass
class Event:
    event: str
    data: Any
    id: str | None = None


class Stream:
    """One open event stream, read event by event (comments kept apart)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.comments: list[str] = []
        self.ended = False

    async def next(self, wait_s: float = WAIT_S) -> Event:
        return await asyncio.wait_for(self._next(), wait_s)

    async def _next(self) -> Event:
        fields: dict[str, str] = {}
        async for line in self.lines:
            if line == "":
                if "event" in fields or "data" in fields:
                    return Event(
                        fields.get("event", "message"),
                        json.loads(fields.get("data", "null")),
                        fields.get("id"),
                    )
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        self.ended = True
        raise EOFError("the stream ended")

    async def case(self, wait_s: float = WAIT_S) -> Event:
        """The next `case` event."""
        while True:
            ev = await self.next(wait_s)
            if ev.event == "case":
                return ev


@asynccontextmanager
async def opened(
    client: httpx.AsyncClient, *, ticket: str | None = None, headers: dict[str, str] | None = None
) -> AsyncIterator[Stream]:
    params = {"ticket": ticket} if ticket else None
    async with client.stream("GET", "/v1/queue/events", params=params, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response)
        ready = await stream.next()
        assert ready.event == "ready"
        yield stream


async def ticket_of(client: httpx.AsyncClient, person: Person) -> str:
    r = await client.post("/v1/queue/events/ticket", headers=person.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["expires_in"] > 0 and body["url"].endswith(body["ticket"])
    return str(body["ticket"])


@dataclass
class World:
    engine: AsyncEngine
    officer_w1: Person
    officer_w2: Person
    leader: Person
    reporter: Person


@asynccontextmanager
async def world(url: str, settings: Settings) -> AsyncIterator[World]:
    engine = make_engine(url, pool_size=2, max_overflow=0)
    try:
        async with engine.begin() as conn:
            await make_city(conn)
            w = World(
                engine,
                await staff(conn, "officer", ["W1"], settings=settings),
                await staff(conn, "officer", ["W2"], settings=settings),
                await staff(conn, "leader", ["T1"], settings=settings),
                await resident(conn, settings=settings),
            )
        yield w
    finally:
        await engine.dispose()


async def test_new_case_reaches_its_ward_only(settings: Settings, fresh_db: str) -> None:
    async with world(fresh_db, settings) as w, running(settings, fresh_db) as (client, _):
        ticket = await ticket_of(client, w.officer_w1)
        async with (
            opened(client, ticket=ticket) as s1,  # as a browser's EventSource: a ticket in the URL
            opened(client, headers=w.officer_w2.headers) as s2,  # as fetch streaming: the bearer token
            opened(client, headers=w.leader.headers) as lead,
        ):
            # a resident reports in W1 through the API (the submission's own statement)
            made = await submit_report(client, w.reporter.headers, "W1")
            ev = await s1.case()
            assert ev.data["code"] == made["code"] and ev.data["event"] == "created"
            assert (ev.data["ward"], ev.data["status"], ev.data["version"]) == ("W1", "new", 1) and ev.id
            assert (await lead.case()).data["code"] == made["code"]  # the leader of the whole city

            # then one in W2: the first case W2's officer hears of (W1's never reached them)
            other = await submit_report(client, w.reporter.headers, "W2")
            ev2 = await s2.case()
            assert ev2.data["code"] == other["code"] and ev2.data["ward"] == "W2"
            assert (await lead.case()).data["code"] == other["code"]

            # a change made through another API process reaches this one's streams (LISTEN/NOTIFY),
            # and so does one made by a worker (the auto-close step, any service over a session)
            # (another app with its own pool and listener, as another process would have)
            async with serving(create_app(settings, database_url=fresh_db)) as client2:
                r = await client2.post(
                    f"/v1/reports/{made['code']}/actions",
                    json={"action": "transfer", "ward": "W2", "reason": "wrong_ward"},
                    headers=w.officer_w1.headers,
                )
                assert r.status_code == 200, r.text
            moved_out, moved_in = await s1.case(), await s2.case()
            assert moved_out.data == moved_in.data
            assert (moved_in.data["code"], moved_in.data["event"], moved_in.data["ward"]) == (
                made["code"],
                "transferred",
                "W2",
            )
            # a service called outside any app (as a worker does): announced at its commit too
            async with Database(w.engine).session() as session:
                await service.act(
                    session,
                    Principal(w.officer_w2.id, "officer"),
                    made["code"],
                    service.Action("acknowledge"),
                )
            acked = await s2.case()
            assert acked.data["version"] == moved_in.data["version"] + 1
            assert (acked.data["code"], acked.data["event"], acked.data["status"]) == (
                made["code"],
                "acknowledged",
                "acknowledged",
            )
            # nothing else reached W1's officer: W2's own case, and the case once it left, never did
            with pytest.raises(TimeoutError):
                await s1.case(wait_s=0.5)


async def test_auth(settings: Settings, fresh_db: str) -> None:
    async with world(fresh_db, settings) as w, running(settings, fresh_db) as (client, _):
        r = await client.get("/v1/queue/events")
        assert_error_shape(r, 401, "unauthorized")
        r = await client.get("/v1/queue/events", params={"ticket": "nonsense"})
        assert_error_shape(r, 401, "invalid_ticket")
        # an access token is no ticket (tickets are of their own type, and short-lived)
        r = await client.get("/v1/queue/events", params={"ticket": w.officer_w1.token})
        assert_error_shape(r, 401, "invalid_ticket")
        r = await client.post("/v1/queue/events/ticket", headers=w.reporter.headers)
        assert r.status_code == 403
        r = await client.get("/v1/queue/events", headers=w.reporter.headers)
        assert r.status_code == 403
        old = encode_ticket(Principal(w.officer_w1.id, "officer"), settings.jwt_secret, -5)
        r = await client.get("/v1/queue/events", params={"ticket": old})
        assert_error_shape(r, 401, "invalid_ticket")


async def test_bounded_keepalive_and_shutdown(settings: Settings, fresh_db: str) -> None:
    small = dataclasses.replace(settings, live_streams_max=2, live_keepalive_s=0.2)
    async with (
        world(fresh_db, small) as w,
        running(small, fresh_db) as (client, server),
        opened(client, headers=w.officer_w1.headers) as a,
    ):
        async with opened(client, headers=w.leader.headers):
            r = await client.get("/v1/queue/events", headers=w.officer_w2.headers)
            assert_error_shape(r, 503, "too_many_streams")
        # a client that leaves gives its place back (once the server has seen it go)
        async with contextlib.AsyncExitStack() as stack:
            for _ in range(100):
                probe = await stack.enter_async_context(
                    client.stream("GET", "/v1/queue/events", headers=w.officer_w2.headers)
                )
                if probe.status_code == 200:
                    break
                await probe.aclose()
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the stream's place was not given back")
            b = Stream(probe)
            assert (await b.next()).event == "ready"

            await asyncio.sleep(0.7)
            made = await submit_report(client, w.reporter.headers, "W1")
            assert (await a.case()).data["code"] == made["code"]
            assert a.comments and all(c.startswith(": keep-alive") for c in a.comments)
            # shutdown: every stream says bye and ends, and the server stops (no wait for ever)
            server.should_exit = True
            for s in (a, b):
                ev = await s.next()
                while ev.event != "bye":
                    ev = await s.next()
                assert ev.data == {"reason": "shutdown"}
                with pytest.raises(EOFError):  # the response ends: no more events
                    await s.next(wait_s=5)
                assert s.ended
