"""Webhooks out, end to end over a database of the test's own: admins register endpoints; every public
case event reaches the matching endpoints from the outbox, signed (verified here with the
`standardwebhooks` package, as a receiver would), masked; 500s are retried with the same message id; a
hanging endpoint holds neither the worker's round nor the other endpoints; dead deliveries replay."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from api.app import create_app
from api.core.db import Database, make_engine
from api.core.settings import Settings
from api.webhooks import delivery
from api.webhooks.jobs import deliver_webhooks
from tests.conftest import serving
from tests.factories import make_city, resident, staff, submit_report


@dataclass
class Receiver:
    """A web server standing in for the city's other systems. Path → answers to give in turn (the
    last one repeats); `hang` paths answer only after `hang_s`."""

    base: str = ""
    answers: dict[str, list[int]] = field(default_factory=dict)
    got: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    hang_s: float = 3.0

    def on(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for p, h, b in self.got if p == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path.startswith("/hang"):
                time.sleep(rec.hang_s)
            rec.got.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            queue = rec.answers.get(self.path, [204])
            code = queue.pop(0) if len(queue) > 1 else queue[0]
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.base = f"http://127.0.0.1:{server.server_address[1]}"
    yield rec
    server.shutdown()
    server.server_close()
    thread.join()


@dataclass
class World:
    client: httpx.AsyncClient
    db: Database
    settings: Settings
    admin: dict[str, str]
    officer: dict[str, str]


@pytest.fixture
async def world(fresh_db: str, settings: Settings) -> AsyncIterator[World]:
    settings = settings.with_(webhook_allow_private=True, webhook_backoff_s=0.05, webhook_timeout_s=1.0)
    engine = make_engine(fresh_db, pool_size=5, max_overflow=5)
    async with engine.begin() as conn:
        await make_city(conn)
        _, admin = await staff(conn, "admin")
        _, officer = await staff(conn, "officer", ["W1", "W2"])
    db = Database(engine)
    async with serving(create_app(settings, database=db)) as client:
        yield World(client, db, settings, admin, officer)
    await delivery.drain()
    await engine.dispose()


async def _register(w: World, url: str, **filters: Any) -> dict[str, Any]:
    made = await w.client.post("/v1/admin/webhooks", json={"url": url, **filters}, headers=w.admin)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def _round(w: World) -> int:
    claimed = await deliver_webhooks(w.db, w.settings)
    await delivery.drain()
    return claimed


async def _statuses(w: World, endpoint_id: str) -> list[tuple[str, int]]:
    async with w.db.session() as s:
        rows = await s.execute(
            text(
                "SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = :e ORDER BY created_at"
            ),
            {"e": endpoint_id},
        )
        return [(r.status, r.attempts) for r in rows]


async def test_events_are_delivered_signed_masked_and_filtered(world: World, receiver: Receiver) -> None:
    w = world
    everything = await _register(w, receiver.base + "/all")
    only_w2 = await _register(w, receiver.base + "/w2", areas=["W2"])
    only_ack = await _register(w, receiver.base + "/ack", event_types=["acknowledged"])
    assert everything["secret"].startswith("whsec_")
    listed = (await w.client.get("/v1/admin/webhooks", headers=w.admin)).json()
    assert len(listed["items"]) == 3 and all("secret" not in e for e in listed["items"])

    _, me = await resident(w.client)
    report = await submit_report(w.client, me, "W1", description="Cống tràn, gọi tôi 0903 123 456")
    acked = await w.client.post(
        f"/v1/reports/{report['code']}/actions",
        json={"action": "acknowledge", "message": "Đã nhận"},
        headers=w.officer,
    )
    assert acked.status_code == 200
    assert await _round(w) == 3  # created + acknowledged to /all, acknowledged to /ack; nothing to /w2

    got = receiver.on("/all")
    assert [json.loads(b)["type"] for _, b in got] == ["case.created", "case.acknowledged"]
    for headers, body in got:
        # a receiver's check, with the secret it was given
        verified = Webhook(everything["secret"]).verify(body.decode(), headers)
        assert verified["data"]["code"] == report["code"]
    created = json.loads(got[0][1])["data"]
    assert "0903 123 456" not in created["description"] and created["ward"]["code"] == "W1"
    assert json.loads(got[1][1])["data"]["message"] == "Đã nhận"
    assert [json.loads(b)["type"] for _, b in receiver.on("/ack")] == ["case.acknowledged"]
    assert receiver.on("/w2") == []
    with pytest.raises(WebhookVerificationError):  # another endpoint's secret does not verify
        Webhook(only_ack["secret"]).verify(got[0][1].decode(), got[0][0])
    assert await _statuses(w, only_w2["id"]) == []
    log = (await w.client.get(f"/v1/admin/webhooks/{everything['id']}/deliveries", headers=w.admin)).json()
    assert [d["status"] for d in log["items"]] == ["delivered", "delivered"]
    assert (await w.client.get("/v1/admin/webhooks", headers=w.officer)).status_code == 403
    for bad in ("ftp://example.com/x", "http://no-such-host.invalid/x"):
        r = await w.client.post("/v1/admin/webhooks", json={"url": bad}, headers=w.admin)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_webhook_url"


async def test_500s_are_retried_with_the_same_id_then_dead_then_replayed(
    world: World, receiver: Receiver
) -> None:
    w = world
    receiver.answers["/flaky"] = [500, 503, 200]
    flaky = await _register(w, receiver.base + "/flaky")
    _, me = await resident(w.client)
    await submit_report(w.client, me, "W1")
    for _ in range(3):
        await _round(w)
        await asyncio.sleep(0.2)  # past the (test's short) backoff
    attempts = receiver.on("/flaky")
    assert len(attempts) == 3
    assert len({h["webhook-id"] for h, _ in attempts}) == 1  # one message, three attempts
    assert await _statuses(w, flaky["id"]) == [("delivered", 3)]

    # an endpoint that always fails runs out of attempts, then an admin replays it
    settings = w.settings.with_(webhook_max_attempts=2)
    receiver.answers["/down"] = [500]
    down = await _register(w, receiver.base + "/down")
    await submit_report(w.client, me, "W2")
    for _ in range(2):
        await deliver_webhooks(w.db, settings)
        await delivery.drain()
        await asyncio.sleep(0.2)
    assert await _statuses(w, down["id"]) == [("dead", 2)]
    (dead,) = (await w.client.get(f"/v1/admin/webhooks/{down['id']}/deliveries", headers=w.admin)).json()[
        "items"
    ]
    assert dead["last_status_code"] == 500
    receiver.answers["/down"] = [200]
    replayed = await w.client.post(f"/v1/admin/webhooks/deliveries/{dead['id']}/replay", headers=w.admin)
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    await _round(w)
    assert await _statuses(w, down["id"]) == [("delivered", 1)]
    ids = {h["webhook-id"] for h, _ in receiver.on("/down")}
    assert ids == {dead["id"]}  # the replay keeps the message id


async def test_a_hanging_endpoint_holds_neither_the_round_nor_the_others(
    world: World, receiver: Receiver
) -> None:
    w = world
    receiver.hang_s = 3.0  # longer than the delivery timeout (1 s)
    hanging = await _register(w, receiver.base + "/hang")
    healthy = await _register(w, receiver.base + "/ok")
    _, me = await resident(w.client)
    await submit_report(w.client, me, "W1")
    assert await deliver_webhooks(w.db, w.settings) == 2
    assert receiver.on("/hang") == []  # the round came back while the hanging endpoint still holds on
    for _ in range(100):  # the healthy endpoint is served meanwhile, by its own sender
        if await _statuses(w, healthy["id"]) == [("delivered", 1)]:
            break
        await asyncio.sleep(0.05)
    async with w.db.session() as s:
        in_flight = await s.scalar(
            text("SELECT lease_until IS NOT NULL FROM webhook_deliveries WHERE endpoint_id = :e"),
            {"e": hanging["id"]},
        )
    assert await _statuses(w, healthy["id"]) == [("delivered", 1)] and in_flight
    await delivery.drain()
    assert await _statuses(w, hanging["id"]) == [("pending", 1)]  # timed out: due again later
