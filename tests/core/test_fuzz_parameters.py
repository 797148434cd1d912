"""A cheap in-process fuzz of every declared parameter: each route of the app (`app.routes`, the
handlers' and their dependencies' signatures, the hot routes' documented query) gets NUL, then a few
other hostile values, in every path parameter and every query parameter, one at a time, the others
left plausible. No answer
may be a 5xx; NUL is always the one `invalid_text` refusal (api/core/inputs.py)."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import httpx
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.assertions import assert_error_shape
from tests.factories import make_city, make_report, resident, staff

NUL = "%00"
# not UTF-8, a date and numbers out of every range, not a number, a non-ASCII digit, a huge page,
# text too long for any column
HOSTILE = ["%FF", "0001-01-01", "99999999999999999999999", "-9223372036854775809", "2147483648", "99999",
           "-1", "0", "nan", "-inf", "%C2%B2", "1" * 400, "2100-12-31T23:59:59-14:00"]  # fmt: skip
PLAUSIBLE = {uuid.UUID: "00000000-0000-4000-8000-000000000000", date: "2031-01-02", int: "1"}
RESERVED = {"request", "state", "scope", "data", "socket", "headers", "cookies", "query", "body"}
# the hot routes read their query themselves (api/core/fastpath.py); what they read is documented
HOT_QUERY = {"/v1/areas/lookup": ["lat", "lng"]}
ENDLESS = {("/v1/queue/events", "GET")}  # a live stream answers until the client leaves


def query_names(handler: Any, path_names: set[str]) -> list[str]:
    """The query parameters a handler and its dependencies declare, by the names clients send."""
    dependencies = handler.resolve_dependencies()
    signatures = [handler.parsed_fn_signature] + [
        p.parsed_fn_signature for p in dependencies.values() if getattr(p, "parsed_fn_signature", None)
    ]
    names: list[str] = []
    for signature in signatures:
        for name, field in signature.parameters.items():
            kwarg = field.kwarg_definition
            if name in RESERVED or name in dependencies or name in path_names:
                continue
            if getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None):
                continue
            names.append(getattr(kwarg, "query", None) or getattr(kwarg, "name", None) or name)
    return names


def operations(app: Litestar) -> list[tuple[str, str, dict[str, str], list[str]]]:
    """(path template, method, {path parameter: plausible value}, [query parameters]) of every route."""
    found = []
    for route in app.routes:
        if route.path.startswith(("/schema", "/console")):  # the console's pages: 503 until built
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                if (route.path, method) in ENDLESS:
                    continue
                params = {name: PLAUSIBLE.get(p.type, "") for name, p in route.path_parameters.items()}
                names = query_names(handler, set(params)) + HOT_QUERY.get(route.path, [])
                found.append((route.path, method, params, names))
    return found


def url_for(path: str, params: dict[str, str], code: str, target: str, value: str) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        return value if name == target else (params[name] or code)

    url = re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)
    return url if target in params else f"{url}?{target}={value}"


async def test_no_parameter_gets_a_5xx(
    client: httpx.AsyncClient, app: Litestar, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    _, admin = await staff(db_conn, "admin")
    code = (await make_report(db_conn, ward="W2")).code
    ops = operations(app)
    assert len(ops) > 40 and sum(len(p) + len(q) for *_, p, q in ops) > 60  # the walk saw the app
    sent = 0
    for path, method, params, names in ops:
        headers = (me if path.startswith("/v1/me") else admin) | {"content-type": "application/json"}
        body = b"{}" if method in ("POST", "PUT", "PATCH") else None
        for name in [*params, *names]:
            for value in [NUL, *HOSTILE]:
                url = url_for(path, params, code, name, value)
                r = await client.request(method, url, headers=headers, content=body)
                sent += 1
                assert r.status_code < 500, (method, url, r.text[:300])
                assert r.headers.get("x-request-id"), url
                if value == NUL and path.startswith("/open311/v2"):
                    assert r.status_code == 400 and r.json()[0]["code"] == 400, url  # Open311's own shape
                elif value == NUL:
                    assert_error_shape(r, 400, "invalid_text")
    assert sent > 300
