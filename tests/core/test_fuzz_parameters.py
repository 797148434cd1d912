"""A cheap in-process fuzz of every documented parameter: each route of the app (from its OpenAPI
document, which lists the hot routes' parameters too) gets NUL, then a few other hostile values, in
every path parameter and every query parameter, one at a time, the others left plausible. No answer
may be a 5xx; NUL is always the one `invalid_text` refusal (api/core/inputs.py)."""

from __future__ import annotations

import re
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
METHODS = ("get", "post", "put", "patch", "delete")
PLAUSIBLE = {"uuid": "00000000-0000-4000-8000-000000000000", "date": "2031-01-02", "integer": "1"}


def plausible(parameter: dict[str, Any], code: str) -> str:
    schema = parameter.get("schema", {})
    kinds = [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]
    for kind in kinds:
        if kind.get("format") in PLAUSIBLE:
            return PLAUSIBLE[kind["format"]]
        if kind.get("type") == "integer":
            return "1"
    return code


def operations(app: Litestar) -> list[tuple[str, str, list[dict[str, Any]]]]:
    found = []
    for path, item in (app.openapi_schema.paths or {}).items():
        if path.startswith("/schema"):
            continue
        for method in METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            params = [p.to_schema() for p in operation.parameters or []]
            found.append((path, method, [p for p in params if p["in"] in ("path", "query")]))
    return found


def url_for(path: str, params: list[dict[str, Any]], code: str, target: str | None, value: str) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == target:
            return value
        parameter = next((p for p in params if p["name"] == name), {})
        return plausible(parameter, code)

    url = re.sub(r"\{(\w+)(?::\w+)?\}", fill, path)
    if target is not None and not any(p["name"] == target and p["in"] == "path" for p in params):
        url += f"?{target}={value}"
    return url


async def test_no_parameter_gets_a_5xx(
    client: httpx.AsyncClient, app: Litestar, db_conn: AsyncConnection
) -> None:
    await make_city(db_conn)
    _, me = await resident(client)
    _, admin = await staff(db_conn, "admin")
    code = (await make_report(db_conn, ward="W2")).code
    ops = operations(app)
    assert len(ops) > 40 and sum(len(p) for _, _, p in ops) > 60  # the walk saw the app
    sent = 0
    for path, method, params in ops:
        headers = (me if path.startswith("/v1/me") else admin) | {"content-type": "application/json"}
        body = b"{}" if method in ("post", "put", "patch") else None
        for parameter in params:
            for value in [NUL, *HOSTILE]:
                url = url_for(path, params, code, parameter["name"], value)
                r = await client.request(method.upper(), url, headers=headers, content=body)
                sent += 1
                assert r.status_code < 500, (method, url, r.text[:300])
                assert r.headers.get("x-request-id"), url
                if value == NUL:
                    assert_error_shape(r, 400, "invalid_text")
    assert sent > 300
