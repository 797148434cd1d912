"""Bad input is a 4xx in the one error shape, never a 500: each case replays a request that once
failed on the server (NUL or invalid UTF-8 reaching PostgreSQL, dates whose arithmetic overflowed,
JSON nested until the decoder gave up, signed links and tile numbers with non-ASCII digits), and the
answers that went out without a request id. The checks live in api/core/inputs.py."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core import inputs
from api.core.logs import JsonFormatter, RequestIdFilter, access_log, configure_logging
from api.core.settings import Settings
from tests.assertions import assert_error_shape
from tests.factories import centre, make_city, make_report, resident, staff

JSON = {"content-type": "application/json"}


@pytest.fixture
async def people(client: httpx.AsyncClient, db_conn: AsyncConnection) -> dict[str, dict[str, str]]:
    await make_city(db_conn)
    _, me = await resident(client)
    _, officer = await staff(db_conn, "officer", ["W2"])
    _, leader = await staff(db_conn, "leader", ["T1"])
    _, admin = await staff(db_conn, "admin")
    return {"none": {}, "resident": me, "officer": officer, "leader": leader, "admin": admin}


# ---------------------------------------------------------------------------- NUL and bad UTF-8

NUL_TARGETS = [
    ("none", "/v1/reports?q=%00"),
    ("none", "/v1/reports?ward=%00"),
    ("none", "/v1/reports?category=ngap%00nuoc"),
    ("none", "/v1/reports?cursor=%00"),
    ("none", "/v1/reports?q=%FF%FE"),  # not UTF-8
    ("none", "/v1/reports/%00"),
    ("none", "/v1/reports/HCM%00-1/qr.png"),
    ("none", "/v1/areas/%00"),
    ("none", "/v1/areas?parent=%00"),
    ("none", "/v1/areas/lookup?lat=10.7%00&lng=106.7"),
    ("none", "/open311/v2/requests.json?service_code=%00"),
    ("none", "/open311/v2/requests/%00.json"),
    ("none", "/open311/v2/services/%00.json"),
    ("none", "/nowhere/%00"),
    ("officer", "/v1/officer/queue?category=%00"),
    ("leader", "/v1/stats?area=%00"),
    ("leader", "/v1/export.csv?area=%00"),
    ("admin", "/v1/admin/users?q=%00"),
    ("admin", "/v1/admin/users?area=%00"),
    ("admin", "/v1/admin/users?q=a%01b"),
]


@pytest.mark.parametrize(("who", "url"), NUL_TARGETS, ids=[u for _, u in NUL_TARGETS])
async def test_control_characters_in_the_target(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], who: str, url: str
) -> None:
    r = await client.get(url, headers=people[who])
    assert r.headers["x-request-id"]
    if url.startswith("/open311/"):  # Open311's own error shape under its prefix
        assert r.status_code == 400
        [err] = r.json()
        assert err["code"] == 400 and err["description"]
        return
    err = assert_error_shape(r, 400, "invalid_text")
    assert err["details"]["in"] in ("path", "query")


async def test_invalid_text_speaks_both_languages(client: httpx.AsyncClient) -> None:
    vi = assert_error_shape(await client.get("/v1/reports?q=%00"), 400, "invalid_text")
    en = assert_error_shape(
        await client.get("/v1/reports?q=%00", headers={"Accept-Language": "en"}), 400, "invalid_text"
    )
    assert vi["message"] != en["message"] and "control character" in en["message"]


NUL = "a\u0000b"
BODIES = [
    ("none", "POST", "/v1/auth/login", {"username": NUL, "password": "x"}),
    ("resident", "POST", "/v1/reports", {"category": "ngap-nuoc", "description": NUL, "lat": 1, "lng": 1}),
    ("resident", "PATCH", "/v1/me", {"display_name": NUL}),
    ("admin", "POST", "/v1/admin/holidays", {"day": "2031-01-02", "name": NUL}),
    ("officer", "POST", "/v1/reports/HCM-1/actions", {"action": "acknowledge", "message": NUL}),
    ("officer", "POST", "/v1/reports/HCM-1/actions", {"action": "acknowledge", "note": "\u0008"}),
    ("officer", "POST", "/v1/reports/HCM-1/actions", {"action": "transfer", "ward": NUL, "reason": "x"}),
    ("officer", "POST", "/v1/reports/HCM-1/actions", {"action": "merge", "into": NUL}),
    ("resident", "POST", "/v1/reports/HCM-1/reopen", {"reason": "lại\u001fngập"}),
    ("resident", "POST", "/v1/reports", {"category": "ngap-nuoc", "answers": {NUL: 1}, "lat": 1, "lng": 1}),
]


@pytest.mark.parametrize(("who", "method", "url", "body"), BODIES, ids=[f"{m} {u}" for _, m, u, _ in BODIES])
async def test_control_characters_in_json_strings(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    who: str,
    method: str,
    url: str,
    body: dict[str, Any],
) -> None:
    raw = json.dumps(body).encode()
    assert b"\\" in raw  # the character travels escaped, as JSON must send it
    r = await client.request(method, url, content=raw, headers=people[who] | JSON)
    err = assert_error_shape(r, 400, "invalid_text")
    assert err["details"] == {"in": "body"}


async def test_tab_and_line_breaks_are_text(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    """Tab, line feed and carriage return are text a message may hold; an escaped backslash followed by
    `u0000` is text too, not a NUL."""
    for name in ("Tết\tnghỉ", "Tết\r\nnghỉ", "Tết \\u0000 nghỉ"):
        r = await client.patch("/v1/me", json={"display_name": name}, headers=people["resident"])
        assert r.status_code == 200, r.text
        assert r.json()["display_name"] == name


@pytest.mark.parametrize(
    "raw",
    [
        b'{"username": "\xff\xfe", "password": "x"}',
        b'{"username": "a\xc3", "password": "x"}',
        b"\xed\xa0\x80",
    ],
    ids=["not utf-8", "cut sequence", "encoded surrogate"],
)
async def test_invalid_utf8_body(client: httpx.AsyncClient, raw: bytes) -> None:
    for content_type in ("application/json", "text/plain"):
        r = await client.post("/v1/auth/login", content=raw, headers={"content-type": content_type})
        assert_error_shape(r, 400, "invalid_text")


async def test_invalid_utf8_on_the_hot_route(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    r = await client.post(
        "/v1/reports", content=b'{"description": "\xff"}', headers=people["resident"] | JSON
    )
    assert_error_shape(r, 400, "invalid_text")


# ---------------------------------------------------------------------------- dates and numbers

OUT_OF_RANGE = [
    ("none", "/v1/reports?since=0001-01-01T00:00:00%2B14:00", "since"),
    ("none", "/v1/reports?since=9999-12-31T23:59:59-14:00", "since"),
    ("none", "/v1/reports?since=1999-12-31T00:00:00Z", "since"),
    ("leader", "/v1/stats?from=0001-01-01&to=0001-01-02", "from"),
    ("leader", "/v1/stats?from=2026-01-01&to=9999-12-31", "to"),
    ("leader", "/v1/export.csv?from=0001-01-01", "from"),
    ("leader", "/v1/export.geojson?to=9999-12-31", "to"),
    ("admin", "/v1/admin/holidays?year=99999999999999999999", "year"),
    ("none", "/v1/reports?limit=99999999999999999999999", "limit"),
    ("none", "/v1/reports?near=10.7,106.7&radius=nan", "radius"),
    ("none", "/v1/reports?near=10.7,106.7&radius=inf", "radius"),
    ("leader", "/v1/tiles/99999999999999999999/1/1.mvt", "z"),
]


@pytest.mark.parametrize(("who", "url", "parameter"), OUT_OF_RANGE, ids=[u for _, u, _ in OUT_OF_RANGE])
async def test_out_of_range_parameters(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], who: str, url: str, parameter: str
) -> None:
    r = await client.get(url, headers=people[who])
    err = assert_error_shape(r, 400, "out_of_range")
    assert err["details"]["parameter"] == parameter


async def test_out_of_range_path_date(client: httpx.AsyncClient, people: dict[str, dict[str, str]]) -> None:
    r = await client.delete("/v1/admin/holidays/0001-01-01", headers=people["admin"])
    assert_error_shape(r, 400, "out_of_range")


async def test_dates_within_range_pass(client: httpx.AsyncClient, people: dict[str, dict[str, str]]) -> None:
    assert (await client.get("/v1/reports?since=2000-01-02T00:00:00%2B14:00")).status_code == 200
    r = await client.get("/v1/stats?from=2026-01-01&to=2026-01-31", headers=people["leader"])
    assert r.status_code == 200, r.text


async def test_open311_dates_and_numbers(client: httpx.AsyncClient) -> None:
    """Open311 answers in its own error shape (the spec's), as a 400."""
    for query in (
        "start_date=0001-01-01T00:00:00Z",
        "end_date=9999-12-31T00:00:00-14:00",
        "page_size=%C2%B2",
    ):
        r = await client.get(f"/open311/v2/requests.json?{query}")
        assert r.status_code == 400, (query, r.text)
        assert r.json()[0]["code"] == 400


# ---------------------------------------------------------------------------- deep JSON


@pytest.mark.parametrize("depth", [inputs.MAX_DEPTH + 1, 1000, 20_000])
@pytest.mark.parametrize("shape", ["arrays", "objects"])
async def test_deep_json(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], depth: int, shape: str
) -> None:
    body = b"[" * depth + b"]" * depth if shape == "arrays" else b'{"a":' * depth + b"1" + b"}" * depth
    for method, url, who in (("POST", "/v1/auth/login", "none"), ("POST", "/v1/reports", "resident")):
        r = await client.request(method, url, content=body, headers=people[who] | JSON)
        err = assert_error_shape(r, 400, "invalid_json")
        assert str(inputs.MAX_DEPTH) in err["details"]["reason"]


def test_depth_counts_structure_not_text() -> None:
    """Brackets inside strings are text; many shallow containers are not deep."""
    inputs.check_json(json.dumps({"description": "[" * 500, "answers": {"a": [[1]] * 200}}).encode())
    inputs.check_json(b"[" + b"[]," * 1000 + b"[]]")
    nested = b"[" * inputs.MAX_DEPTH + b"]" * inputs.MAX_DEPTH
    inputs.check_json(nested)
    with pytest.raises(inputs.AppError):
        inputs.check_json(b"[" + nested + b"]")
    # brackets that never close, however deep, or inside a string that never ends
    for unpaired in (b"[" * 100_000, b'{"a":' * 5000, b'["' + b'\\"' * 10_000 + b"[" * 100):
        with pytest.raises(inputs.AppError):
            inputs.check_json(unpaired)
    inputs.check_json(b'"' + b"[" * 100)  # a string that never ends: the decoder's to refuse


# ---------------------------------------------------------------------------- signed links, tiles


@pytest.mark.parametrize("query", ["exp=%C2%B2&sig=abc", "exp=9999999999&sig=%C3%A9", "exp=%D9%A3&sig=x"])
async def test_non_ascii_in_signed_links(client: httpx.AsyncClient, query: str) -> None:
    r = await client.get(f"/media/local/r/{'a' * 32}/photo.jpg?{query}")
    assert r.status_code in (403, 404), r.text
    assert r.json()["error"]["code"]


async def test_non_ascii_digits_in_tiles(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    for y in ("%C2%B2.mvt", "%D9%A3.mvt", "1%C2%B2.mvt"):
        r = await client.get(f"/v1/tiles/3/6/{y}", headers=people["leader"])
        assert_error_shape(r, 404, "tile_not_found")


# ---------------------------------------------------------------------------- streams


async def test_export_error_before_its_first_row_is_an_error_answer(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query that fails is a 500 in the one shape, not a 200 cut after the header row."""
    monkeypatch.setattr(
        "api.casework.export._select", lambda *a, **k: select(literal_column("1 / 0").label("code"))
    )
    for fmt in ("csv", "geojson"):
        r = await client.get(f"/v1/export.{fmt}", headers=people["leader"])
        assert_error_shape(r, 500, "internal_error")
        assert r.headers["content-type"] == "application/json"


async def test_export_content_type_says_charset_once(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], db_conn: AsyncConnection
) -> None:
    r = await client.get("/v1/export.csv", headers=people["leader"])
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.content.decode("utf-8-sig").startswith("code,status")
    await make_report(db_conn, ward="W2")
    r = await client.get("/v1/export.csv", headers=people["leader"])
    assert len(r.content.decode("utf-8-sig").strip().splitlines()) == 2


# ---------------------------------------------------------------------------- request ids


class Lines(logging.Handler):
    """The access lines, with the request id the logs' own filter gives every line."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_every_answer_has_a_request_id_and_an_access_line(
    settings: Settings, database: Any, db_conn: AsyncConnection
) -> None:
    from api.app import create_app, with_fast_paths
    from tests.conftest import serving

    app: Litestar = create_app(settings.with_(access_log=True), database=database)
    await make_city(db_conn)
    lines = Lines()
    access_log.addHandler(lines)
    level = access_log.level
    access_log.setLevel(logging.INFO)  # whatever the root's level is in this test run
    try:
        async with serving(app, fast=with_fast_paths(app)) as c:
            cases = [
                ("GET", "/nowhere", {}, 404),
                ("DELETE", "/v1/categories", {}, 405),
                ("GET", "/v1/me", {"Authorization": "Bearer expired"}, 401),
                ("GET", "/v1/me", {"Authorization": "Basic eA=="}, 401),
                ("GET", "/v1/areas/lookup?lat=abc&lng=1", {}, 400),
                ("GET", "/v1/areas/lookup?lat=1%00&lng=1", {}, 400),
                ("POST", "/v1/reports", {"Authorization": "Bearer nope"}, 401),
                ("GET", "/v1/reports?q=%00", {}, 400),
                ("GET", "/health", {}, 200),
            ]
            for i, (method, url, headers, status) in enumerate(cases):
                lines.records.clear()
                rid = f"case-{i}"
                r = await c.request(method, url, headers=headers | {"x-request-id": rid})
                assert r.status_code == status, (url, r.text)
                assert r.headers["x-request-id"] == rid, url
                [line] = lines.records
                assert line.__dict__["status"] == status and line.__dict__["request_id"] == rid
    finally:
        access_log.removeHandler(lines)
        access_log.setLevel(level)


def test_logs_are_json_with_the_request_id_and_alembic_is_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    try:
        configure_logging("INFO", None)  # stdout is not a terminal here: JSON
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
        logging.getLogger("alembic.runtime.plugins").info("setup plugin alembic.autogenerate.schemas")
        logging.getLogger("alembic.runtime.migration").info("Context impl PostgresqlImpl.")
        logging.getLogger("alembic.runtime.migration").info("Running upgrade 0010 -> 0011")
        logging.getLogger("uvicorn.error").info(
            "Started server process [%d]", 1, extra={"color_message": "x"}
        )
    finally:
        root.handlers[:], _ = kept
        root.setLevel(kept[1])
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["msg"] for line in lines] == ["Running upgrade 0010 -> 0011", "Started server process [1]"]
    assert all("request_id" in line and "color_message" not in line for line in lines)


# ---------------------------------------------------------------------------- numbers in bodies

CATEGORY = {"code": "x-sort", "name_vi": "Thử", "name_en": "Try", "ack_hours": 2, "resolve_value": 1}
NUMBERS = [
    ("admin", "POST", "/v1/admin/categories", CATEGORY | {"sort": 2**40}),
    ("admin", "POST", "/v1/admin/categories", CATEGORY | {"sort": 2**70}),
    ("admin", "PATCH", "/v1/admin/categories/ngap-nuoc", {"sort": -(2**40)}),
    ("officer", "POST", "/v1/reports/{code}/actions", {"action": "acknowledge", "version": 2**63}),
]


@pytest.mark.parametrize(("who", "method", "url", "body"), NUMBERS, ids=[str(b) for *_, b in NUMBERS])
async def test_numbers_beyond_their_columns(
    client: httpx.AsyncClient,
    people: dict[str, dict[str, str]],
    db_conn: AsyncConnection,
    who: str,
    method: str,
    url: str,
    body: dict[str, Any],
) -> None:
    """JSON integers have no bound; the columns they reach have (int4 for a sort order and a version)."""
    code = (await make_report(db_conn, ward="W2")).code
    r = await client.request(method, url.format(code=code), json=body, headers=people[who])
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] in ("out_of_range", "validation_error")


async def test_open311_form_text(client: httpx.AsyncClient, people: dict[str, dict[str, str]]) -> None:
    """A partner's form is text like a JSON body: NUL refused (in Open311's shape), line breaks kept."""
    made = (await client.post("/v1/admin/apikeys", json={"name": "Partner"}, headers=people["admin"])).json()
    lat, lng = centre("W1")
    form = {"api_key": made["key"], "service_code": "ngap-nuoc", "lat": str(lat), "long": str(lng)}
    for bad in ({"description": "ngập\x00"}, {"first_name": "Lan\x1b"}, {"descr\x00iption": "ngập"}):
        r = await client.post("/open311/v2/requests.json", data=form | bad)
        assert r.status_code == 400, r.text
        assert r.json()[0]["code"] == 400
    r = await client.post("/open311/v2/requests.json", data=form | {"description": "Nước ngập\r\ntrước chợ"})
    assert r.status_code == 200, r.text
