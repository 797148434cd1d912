"""The hot routes answer the same through both ways in, byte for byte.

`phananh serve` answers `GET /v1/areas/lookup` and `POST /v1/reports` in a lean ASGI path in front of
Litestar (api/core/fastpath.py); the Litestar app alone answers them through its handlers. Every case
below goes through both — the app alone, and the app behind `FastPaths` — and the two answers must
have the same status, the same header names and values (only x-request-id values may differ where
the request sent none, and new reports' ids, codes and times) and the same body bytes.
"""

from __future__ import annotations

import json
import logging
import re
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncConnection

from api.app import create_app, with_fast_paths
from api.core.db import Database
from api.core.fastpath import FastPaths
from api.core.logs import access_log, request_id_var
from api.core.settings import Settings
from api.reports.schemas import MAX_BODY
from tests.conftest import serving
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, SIZE, centre, make_city, resident, staff

LOOKUP, SUBMIT = "/v1/areas/lookup", "/v1/reports"
LAT, LNG = centre("W2")
JSON = {"content-type": "application/json"}
# a new report's own values: they differ between two submissions, whatever the way in
FRESH = {"id", "code", "created_at", "acknowledge_by", "resolve_by"}


@dataclass
class Ways:
    plain: httpx.AsyncClient  # the Litestar app alone
    fast: httpx.AsyncClient  # the same app behind its fast paths
    paths: FastPaths
    tokens: dict[str, dict[str, str]]


@asynccontextmanager
async def both_ways(app: Litestar) -> AsyncIterator[Ways]:
    """The app served alone and behind its fast paths (one lifespan, one database)."""
    paths = with_fast_paths(app)
    transport = httpx.ASGITransport(app=paths)
    async with (
        serving(app) as plain,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as fast,
    ):
        yield Ways(plain, fast, paths, {})


@pytest.fixture
async def ways(app: Litestar, db_conn: AsyncConnection) -> AsyncIterator[Ways]:
    await make_city(db_conn)
    async with both_ways(app) as ways:
        _, me = await resident(ways.plain)
        _, officer = await staff(db_conn, "officer", ["W2"])
        gone, disabled = await staff(db_conn, "officer", ["W2"])
        _, admin = await staff(db_conn, "admin")
        # disabled through the admin API, which ends the account's tokens in every process
        r = await ways.plain.patch(f"/v1/admin/users/{gone}", json={"disabled": True}, headers=admin)
        assert r.status_code == 200, r.text
        tokens = {
            "none": {},
            "resident": me,
            "staff": officer,
            "disabled staff": disabled,
            "bad token": {"Authorization": "Bearer not-a-token"},
            "basic scheme": {"Authorization": "Basic dXNlcjpwdw=="},
            "bearer, no token": {"Authorization": "Bearer"},
        }
        ways.tokens.update(tokens)
        yield ways


def report(**kw: object) -> dict[str, object]:
    return {"category": "ngap-nuoc", "description": "Đường ngập sâu 30cm", "lat": LAT, "lng": LNG, **kw}


def raw(value: object) -> bytes:
    return json.dumps(value).encode()


async def through_both(
    ways: Ways, method: str, url: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[httpx.Response, httpx.Response]:
    before = dict(ways.paths.answered)
    want = await ways.plain.request(method, url, headers=headers, content=body)
    got = await ways.fast.request(method, url, headers=headers, content=body)
    path = url.partition("?")[0]
    assert ways.paths.answered[path] == before[path] + 1, "the fast path did not answer itself"
    return want, got


def assert_same(want: httpx.Response, got: httpx.Response, *, fresh: bool = False) -> None:
    """Status, headers (names as sent, values; x-request-id only by presence) and body bytes."""
    assert got.status_code == want.status_code, (want.text, got.text)
    body = got.content
    if fresh:  # the other way made a report of its own: take the first one's values for its own
        mine, theirs = json.loads(got.content), json.loads(want.content)
        differing = dict(leaves_that_differ(mine, theirs))
        assert set(differing) <= FRESH, differing
        for value, wanted in differing.values():
            body = body.replace(json.dumps(value).encode(), json.dumps(wanted).encode())
        assert got.headers["content-length"] == str(len(got.content))
    assert headers_of(got, fresh) == headers_of(want, fresh)
    assert body == want.content


def headers_of(r: httpx.Response, fresh: bool = False) -> list[tuple[bytes, bytes]]:
    varying = (b"x-request-id", b"date") + ((b"content-length",) if fresh else ())
    return sorted((name, b"*" if name.lower() in varying else value) for name, value in r.headers.raw)


def leaves_that_differ(a: object, b: object, key: str = "") -> list[tuple[str, tuple[object, object]]]:
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return [d for k in a for d in leaves_that_differ(a[k], b[k], k)]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for x, y in zip(a, b, strict=True) for d in leaves_that_differ(x, y, key)]
    return [] if a == b else [(key, (a, b))]


# ---------------------------------------------------------------------------- GET /v1/areas/lookup

EDGE = (ORIGIN_LAT + SIZE / 2, ORIGIN_LNG + SIZE)
LOOKUPS = {
    "inside a ward": f"lat={LAT}&lng={LNG}",
    "on a shared edge": f"lat={EDGE[0]}&lng={EDGE[1]}",
    "snapped to the nearest ward": f"lat={ORIGIN_LAT + SIZE / 2}&lng={ORIGIN_LNG - 0.001}",
    "outside all wards": f"lat={ORIGIN_LAT + SIZE / 2}&lng={ORIGIN_LNG - 0.003}",
    "far outside": "lat=0&lng=0",
    "percent-encoded": f"lat={LAT}&lng=%2B{LNG}",
    "quoted number": f"lat=%22{LAT}%22&lng={LNG}",
    "lat not a number": "lat=abc&lng=106.7",
    "lng empty": "lat=10.7&lng=",
    "lat above 90": "lat=91&lng=106.7",
    "lng below -180": "lat=10.7&lng=-180.5",
    "lat NaN": "lat=nan&lng=106.7",
    "lat infinite": "lat=inf&lng=106.7",
    "lat missing": "lng=106.7",
    "no query": "",
    "both wrong": "lat=abc&lng=999",
    "an extra parameter": f"lat={LAT}&lng={LNG}&extra=1",
    "a repeated parameter (the last counts)": f"lat=0&lat={LAT}&lng={LNG}",
    "no value": "lat&lng",
    "NUL in a value": f"lat={LAT}%00&lng={LNG}",
    "a control character in a name": f"lat={LAT}&ln%01g={LNG}",
    "not UTF-8": f"lat={LAT}&lng={LNG}&x=%FF",
    "non-ASCII digits": f"lat=%D9%A1%D9%A0&lng={LNG}",
}


@pytest.mark.parametrize("language", [None, "vi", "en", "en-US,en;q=0.9"])
@pytest.mark.parametrize("query", LOOKUPS.values(), ids=LOOKUPS.keys())
async def test_lookup(ways: Ways, query: str, language: str | None) -> None:
    headers = {"x-request-id": "lookup-case"} | ({"Accept-Language": language} if language else {})
    want, got = await through_both(ways, "GET", f"{LOOKUP}?{query}", headers)
    assert_same(want, got)
    assert want.headers["x-request-id"] == got.headers["x-request-id"] == "lookup-case"
    assert got.headers["content-type"] == "application/json"


async def test_lookup_outcomes(ways: Ways) -> None:
    """What the cases above compare is what the lookup answers (not two equal mistakes)."""
    answers = {}
    for name in ("inside a ward", "outside all wards", "quoted number", "lat missing", "both wrong"):
        answers[name], _ = await through_both(ways, "GET", f"{LOOKUP}?{LOOKUPS[name]}", {})
    assert answers["inside a ward"].json()["ward"]["code"] == "W2"
    assert answers["outside all wards"].status_code == 422
    assert answers["outside all wards"].json()["error"]["code"] == "outside_service_area"
    for name in ("quoted number", "lat missing", "both wrong"):
        assert (
            answers[name].status_code == 400 and answers[name].json()["error"]["code"] == "validation_error"
        )
    for name in ("NUL in a value", "a control character in a name", "not UTF-8"):
        answers[name], _ = await through_both(ways, "GET", f"{LOOKUP}?{LOOKUPS[name]}", {})
        assert answers[name].status_code == 400 and answers[name].json()["error"]["code"] == "invalid_text"


@pytest.mark.parametrize(
    "token", ["none", "resident", "staff", "disabled staff", "bad token", "basic scheme", "bearer, no token"]
)
@pytest.mark.parametrize("query", ["inside a ward", "lat not a number"])
async def test_lookup_tokens(ways: Ways, token: str, query: str) -> None:
    """Public, but a token that is sent is checked, on both ways before anything else."""
    want, got = await through_both(ways, "GET", f"{LOOKUP}?{LOOKUPS[query]}", ways.tokens[token])
    assert_same(want, got)
    if token in ("disabled staff", "bad token", "basic scheme", "bearer, no token"):
        assert want.status_code == 401


async def test_lookup_request_ids(ways: Ways) -> None:
    """A usable incoming request id is echoed; any other is replaced by a new one, on both ways."""
    for sent in ("", "bad id with spaces", "x" * 129):
        want, got = await through_both(
            ways, "GET", f"{LOOKUP}?{LOOKUPS['inside a ward']}", {"x-request-id": sent}
        )
        assert_same(want, got)
        assert len({sent, want.headers["x-request-id"], got.headers["x-request-id"]}) == 3
        assert re.fullmatch(r"[0-9a-f]{32}", got.headers["x-request-id"])


async def test_lookup_failure_is_the_same_500(ways: Ways, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr("api.areas.http.assign_fast", broken)
    for language in ("vi", "en"):
        want, got = await through_both(
            ways, "GET", f"{LOOKUP}?{LOOKUPS['inside a ward']}", {"Accept-Language": language}
        )
        assert_same(want, got)
        assert want.status_code == 500 and "secret" not in want.text


# ---------------------------------------------------------------------------- POST /v1/reports

SUBMISSIONS: dict[str, tuple[str, dict[str, str], bytes]] = {
    # name: (token, extra headers, body)
    "no token": ("none", JSON, raw(report())),
    "bad token": ("bad token", JSON, raw(report())),
    "basic scheme": ("basic scheme", JSON, raw(report())),
    "bearer, no token": ("bearer, no token", JSON, raw(report())),
    "disabled staff": ("disabled staff", JSON, raw(report())),
    "no token, bad body": ("none", JSON, b"{"),
    "text/plain": ("resident", {"content-type": "text/plain"}, raw(report())),
    "form content type": ("resident", {"content-type": "application/x-www-form-urlencoded"}, raw(report())),
    "no content type": ("resident", {}, raw(report())),
    "oversized body": ("resident", JSON, b"{" + b" " * (MAX_BODY + 1) + b"}"),
    "oversized, no token": ("none", JSON, b"{" + b" " * (MAX_BODY + 1) + b"}"),
    "key too short": ("resident", JSON | {"Idempotency-Key": "short"}, raw(report())),
    "key too long": ("resident", JSON | {"Idempotency-Key": "k" * 129}, raw(report())),
    "key too short and a bad body": ("resident", JSON | {"Idempotency-Key": "short"}, raw(report(lat=95))),
    "lat above 90": ("resident", JSON, raw(report(lat=95))),
    "lng not a number": ("resident", JSON, raw(report(lng="abc"))),
    'lat as a string "10.9"': ("resident", JSON, raw(report(lat="10.9"))),
    "lat NaN": ("resident", JSON, raw(report()).replace(str(LAT).encode(), b"NaN")),
    "an extra field": ("resident", JSON, raw(report(extra=1))),
    "category missing": ("resident", JSON, raw({k: v for k, v in report().items() if k != "category"})),
    "malformed JSON": ("resident", JSON, b'{"category": "ngap-nuoc", "lat": '),
    "empty body": ("resident", JSON, b""),
    "an array": ("resident", JSON, b"[]"),
    "null": ("resident", JSON, b"null"),
    "a bad media id": ("resident", JSON, raw(report(media_ids=["nope"]))),
    "blank description": ("resident", JSON, raw(report(description="   "))),
    "description too long": ("resident", JSON, raw(report(description="x" * 2001))),
    "unknown category": ("resident", JSON, raw(report(category="ufo"))),
    "bad answers": ("resident", JSON, raw(report(answers={"depth_cm": "deep"}))),
    "outside all wards": ("resident", JSON, raw(report(lat=ORIGIN_LAT + 0.005, lng=ORIGIN_LNG - 0.01))),
    "NUL in the description": ("resident", JSON, raw(report(description="ngập\u0000"))),
    "NUL in an answer's name": ("resident", JSON, raw(report(answers={"\u0000": 1}))),
    "a backspace in the address": ("resident", JSON, raw(report(address="12\b Lê Lợi"))),
    "NUL, no token": ("none", JSON, raw(report(description="\u0000"))),
    "not UTF-8": ("resident", JSON, raw(report()).replace(b"30cm", b"30\xff")),
    "not UTF-8, text/plain": ("resident", {"content-type": "text/plain"}, b'{"description": "\xff"}'),
    "arrays 40 deep": ("resident", JSON, b"[" * 40 + b"]" * 40),
    "objects 5000 deep": ("resident", JSON, b'{"a":' * 5000 + b"1" + b"}" * 5000),
    "arrays never closed": ("resident", JSON, b"[" * 50_000),
    "deep in an answer": (
        "resident",
        JSON,
        raw(report()).replace(b"}", b', "answers": {"a": ' + b"[" * 2000 + b"]" * 2000 + b"}}"),
    ),
}


@pytest.mark.parametrize("language", [None, "en"])
@pytest.mark.parametrize("case", SUBMISSIONS.values(), ids=SUBMISSIONS.keys())
async def test_submit_refusals(
    ways: Ways, case: tuple[str, dict[str, str], bytes], language: str | None
) -> None:
    token, extra, body = case
    headers = ways.tokens[token] | extra | ({"Accept-Language": language} if language else {})
    want, got = await through_both(ways, "POST", SUBMIT, headers, body)
    assert_same(want, got)
    assert want.status_code >= 400 and want.json()["error"]["code"]


async def test_submit_refusal_codes(ways: Ways) -> None:
    """What the cases above compare is what submitting answers."""
    expected = {
        "no token": (401, "unauthorized"),
        "bad token": (401, "invalid_token"),
        "disabled staff": (401, "invalid_token"),
        "text/plain": (415, "unsupported_media_type"),
        "no content type": (415, "unsupported_media_type"),
        "oversized body": (413, "payload_too_large"),
        "oversized, no token": (413, "payload_too_large"),
        "key too short": (400, "validation_error"),
        'lat as a string "10.9"': (400, "validation_error"),
        "malformed JSON": (400, "validation_error"),
        "blank description": (400, "description_required"),
        "unknown category": (422, "unknown_category"),
        "outside all wards": (422, "outside_service_area"),
        "NUL in the description": (400, "invalid_text"),
        "NUL in an answer's name": (400, "invalid_text"),
        "a backspace in the address": (400, "invalid_text"),
        "NUL, no token": (400, "invalid_text"),  # the body is refused whoever sends it
        "not UTF-8": (400, "invalid_text"),
        "arrays 40 deep": (400, "invalid_json"),
        "objects 5000 deep": (400, "invalid_json"),
        "arrays never closed": (400, "invalid_json"),
        "deep in an answer": (400, "invalid_json"),
    }
    for name, (status, code) in expected.items():
        token, extra, body = SUBMISSIONS[name]
        want, _ = await through_both(ways, "POST", SUBMIT, ways.tokens[token] | extra, body)
        assert (want.status_code, want.json()["error"]["code"]) == (status, code), name
    both = (
        await through_both(
            ways,
            "POST",
            SUBMIT,
            ways.tokens["resident"] | SUBMISSIONS["key too short and a bad body"][1],
            SUBMISSIONS["key too short and a bad body"][2],
        )
    )[0]
    assert [p["key"] for p in both.json()["error"]["details"]] == ["Idempotency-Key", "lat"]


@pytest.mark.parametrize("token", ["resident", "staff"])
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
async def test_submit_created_and_replayed(ways: Ways, token: str, content_type: str) -> None:
    headers = ways.tokens[token] | {"content-type": content_type}
    want = await ways.plain.post(
        SUBMIT, content=raw(report()), headers=headers | {"Idempotency-Key": "key-plain-0001"}
    )
    # ~220 m away, so that neither report lists the other as nearby
    got = await ways.fast.post(
        SUBMIT, content=raw(report(lat=LAT + 0.002)), headers=headers | {"Idempotency-Key": "key-fast-0001"}
    )
    assert want.status_code == 201 and "idempotent-replayed" not in want.headers
    assert_same(want, got, fresh=True)
    # the first report's key, again through both: its stored answer, byte for byte
    want, got = await through_both(
        ways, "POST", SUBMIT, headers | {"Idempotency-Key": "key-plain-0001"}, raw(report())
    )
    assert want.status_code == 201 and want.headers["idempotent-replayed"] == "true"
    assert_same(want, got)
    # the same key with another body
    changed = raw(report(description="khác"))
    want, got = await through_both(
        ways, "POST", SUBMIT, headers | {"Idempotency-Key": "key-plain-0001"}, changed
    )
    assert want.status_code == 409
    assert_same(want, got)


async def test_submit_rate_limited(
    settings: Settings, database: Database, db_conn: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit is one step of the one service call: both ways count into it and answer the same 429."""
    # a clock of its own for the limiter, so that Retry-After cannot tick between the two answers
    # (the start of an hour: the window of an hourly limit ends an hour later)
    monkeypatch.setattr("api.core.ratelimit.time", types.SimpleNamespace(time=lambda: 7200.0))
    app = create_app(settings.with_(report_rate_per_device_hour=2), database=database)
    await make_city(db_conn)
    async with both_ways(app) as ways:
        _, me = await resident(ways.plain)
        for client, key in ((ways.plain, "key-plain-0001"), (ways.fast, "key-fast-0001")):
            r = await client.post(SUBMIT, json=report(), headers=me | {"Idempotency-Key": key})
            assert r.status_code == 201
        for language in ("vi", "en"):
            want, got = await through_both(
                ways, "POST", SUBMIT, me | JSON | {"Accept-Language": language}, raw(report())
            )
            assert want.status_code == 429 and want.headers["retry-after"] == "3600"
            assert_same(want, got)
        # a replay is answered from its stored result, not limited, on either way
        want, got = await through_both(
            ways, "POST", SUBMIT, me | JSON | {"Idempotency-Key": "key-plain-0001"}, raw(report())
        )
        assert want.status_code == 201
        assert_same(want, got)


class Kept(logging.Handler):
    """The access lines, each with the request id in force when it was written."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, int, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.getMessage(), record.__dict__["status"], request_id_var.get()))


async def test_access_line_is_the_same(
    settings: Settings, database: Database, db_conn: AsyncConnection
) -> None:
    """One access line per request, the same on both ways, written under the request's own id."""
    app = create_app(settings.with_(access_log=True), database=database)
    await make_city(db_conn)
    kept = Kept()  # on the logger itself: Litestar's logging set-up replaces the root's handlers
    access_log.addHandler(kept)
    level = access_log.level
    access_log.setLevel(logging.INFO)  # whatever the root's level is in this test run
    try:
        async with both_ways(app) as ways:
            _, me = await resident(ways.plain)
            cases = [
                ("GET", f"{LOOKUP}?{LOOKUPS['inside a ward']}", {}, None),
                ("GET", f"{LOOKUP}?lat=abc", {}, None),
                ("GET", f"{LOOKUP}?{LOOKUPS['inside a ward']}", {"Authorization": "Bearer nope"}, None),
                ("POST", SUBMIT, me | JSON, b"{}"),
            ]
            for method, url, headers, body in cases:
                kept.lines.clear()
                want, _ = await through_both(ways, method, url, headers | {"x-request-id": "rid-0001"}, body)
                line = (f"{method} {url.partition('?')[0]} {want.status_code}", want.status_code, "rid-0001")
                assert kept.lines == [line, line]
    finally:
        access_log.removeHandler(kept)
        access_log.setLevel(level)
