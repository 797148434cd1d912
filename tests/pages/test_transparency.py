"""GET /transparency and GET /v1/public/wards: every ward of an area with the leaders' figures over
the public reports of a period, as an HTML table (sortable by links) and as JSON."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from api.core import clock
from geo import AreaIn, upsert_area
from tests.assertions import assert_error_shape
from tests.factories import insert_report, make_city, staff

WINDOW = {"from": "2031-03-02", "to": "2031-03-03"}
COLUMNS = (
    "received",
    "open",
    "overdue",
    "on_time_pct",
    "median_days_to_resolve",
    "reopen_rate",
    "mean_rating",
)


def local(s: str) -> datetime:
    return datetime.fromisoformat(s).replace(tzinfo=clock.local_zone())


async def seed(db_conn: AsyncConnection) -> None:
    """W1: four public reports in the window (one on time, one late and reopened, one overdue, one
    new), one held, one outside; W2: one on time, one hidden; W3: none public."""
    await make_city(db_conn)
    now = datetime.now(UTC)

    async def put(ward: str, created: str, status: str, **kw: Any) -> None:
        t0 = local(created)
        cols: dict[str, Any] = {"created_at": t0}
        for name, col in (("ack", "acknowledged_at"), ("res", "resolved_at"), ("due", "resolve_due_at")):
            if name in kw:
                cols[col] = t0 + timedelta(hours=kw.pop(name))
        cols.update(kw)
        await insert_report(db_conn, ward, status=status, **cols)

    await put("W1", "2031-03-02T08:00", "closed", ack=2, res=10, due=24, rating=5)
    await put("W1", "2031-03-02T09:00", "resolved", ack=4, res=30, due=24, reopen_count=1, rating=3)
    await put("W1", "2031-03-03T10:00", "in_progress", ack=1, resolve_due_at=now - timedelta(hours=1))
    await put("W1", "2031-03-03T23:30", "new", ack_due_at=now + timedelta(days=3))
    await put("W1", "2031-03-03T11:00", "new", visibility="pending_review")
    await put("W1", "2031-03-04T00:30", "new")  # the next local day
    await put("W2", "2031-03-02T12:00", "closed", ack=6, res=60, due=48, rating=4)
    await put("W2", "2031-03-02T13:00", "new", visibility="hidden")
    await put("W3", "2031-03-03T09:00", "new", visibility="hidden")


async def table_json(client: httpx.AsyncClient, **params: str) -> dict[str, Any]:
    r = await client.get("/v1/public/wards", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def html_rows(page: str) -> list[list[str]]:
    """The table's rows: [ward name, cell…] as the page shows them."""
    body = page.partition("<tbody>")[2].partition("</tbody>")[0]
    rows = re.findall(r"<tr><th>(.*?)</th>((?:<td>[^<]*)*)", body)
    return [
        [html.unescape(name), *map(html.unescape, re.findall(r"<td>([^<]*)", cells))] for name, cells in rows
    ]


def shown(value: Any, column: str) -> str:
    """A JSON figure as the page writes it."""
    if value is None:
        return "–"
    if column == "reopen_rate":
        return f"{value * 100:.1f}"
    if column == "mean_rating":
        return f"{value:.2f}"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


async def test_every_ward_with_the_figures(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await seed(db_conn)
    body = await table_json(client, area="T1", **WINDOW)
    assert body["area"] == {"code": "T1", "name": "Thành phố Thử"}
    assert (body["from"], body["to"]) == ("2031-03-02", "2031-03-03")
    got = {w["code"]: w for w in body["wards"]}
    assert [w["name"] for w in body["wards"]] == ["Phường Ba", "Phường Hai", "Phường Một"]
    pick = lambda w: tuple(w[c] for c in COLUMNS)  # noqa: E731
    # W1: 4 public received, 2 open, 1 overdue; of 2 resolved 1 on time; resolved after 10 h and 30 h
    assert pick(got["W1"]) == (4, 2, 1, 50.0, round(20 / 24, 1), 0.5, 4.0)
    assert pick(got["W2"]) == (1, 0, 0, 0.0, 2.5, 0.0, 4.0)
    assert pick(got["W3"]) == (0, 0, 0, None, None, None, None)  # listed without a public report


async def test_the_same_figures_as_the_leaders(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    """One definition (api/casework/stats.py): where every report is public, the public table and the
    leaders' GET /v1/stats agree."""
    await seed(db_conn)
    await db_conn.exec_driver_sql("DELETE FROM reports WHERE visibility <> 'public'")
    _, leader = await staff(db_conn, "leader", ["T1"])
    r = await client.get("/v1/stats", params={"area": "T1", "group_by": "ward", **WINDOW}, headers=leader)
    assert r.status_code == 200, r.text
    leaders = {g["key"]: g for g in r.json()["groups"]}
    public = {w["code"]: w for w in (await table_json(client, area="T1", **WINDOW))["wards"]}
    assert set(leaders) == set(public) == {"W1", "W2", "W3"}
    for ward, g in leaders.items():
        w = public[ward]
        assert (w["received"], w["open"], w["overdue"], w["resolved"]) == (
            g["received"],
            g["open"],
            g["overdue"],
            g["resolved"],
        )
        assert (w["on_time_pct"], w["reopen_rate"], w["mean_rating"]) == (
            g["resolved_on_time_pct"],
            g["reopen_rate"],
            g["mean_rating"],
        )
        hours = g["median_resolve_hours"]
        assert w["median_days_to_resolve"] == (None if hours is None else round(hours / 24, 1))


async def test_page_lists_every_ward_and_equals_the_json(
    client: httpx.AsyncClient, db_conn: AsyncConnection
) -> None:
    await seed(db_conn)
    r = await client.get("/transparency", params={"area": "T1", **WINDOW})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    size = len(r.content)
    print(f"transparency page: {size} bytes")
    assert size <= 50_000 and "<script" not in r.text
    body = await table_json(client, area="T1", **WINDOW)
    assert html_rows(r.text) == [[w["name"]] + [shown(w[c], c) for c in COLUMNS] for w in body["wards"]]
    assert "W1" not in html_rows(r.text)[0]  # names, not codes
    assert "Thành phố Thử" in r.text and "02/03/2031" in r.text


async def test_default_area_and_period(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    body = await table_json(client)
    today = clock.local_date(datetime.now(UTC))
    assert body["to"] == today.isoformat()
    assert body["from"] == (today - timedelta(days=89)).isoformat()
    assert {"W1", "W2", "W3"} <= {w["code"] for w in body["wards"]}


@pytest.mark.parametrize("column", ["received", "on_time_pct", "median_days_to_resolve", "name"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_sorting(
    client: httpx.AsyncClient, db_conn: AsyncConnection, column: str, direction: str
) -> None:
    await seed(db_conn)
    params = {"area": "T1", **WINDOW, "sort": column, "dir": direction}
    wards = (await table_json(client, **params))["wards"]
    measured = [w[column] for w in wards if w[column] is not None]
    if column == "name":
        measured = [w["code"] for w in wards]
        assert measured == (["W3", "W2", "W1"] if direction == "asc" else ["W1", "W2", "W3"])
    else:
        assert measured == sorted(measured, reverse=direction == "desc")
        # wards without a figure come last, whichever the direction
        assert all(w[column] is None for w in wards[len(measured) :])
    page = (await client.get("/transparency", params=params)).text
    assert [row[0] for row in html_rows(page)] == [w["name"] for w in wards]
    # the column's header links to the other direction, keeping the area and the period
    other = "desc" if direction == "asc" else "asc"
    link = f'href="/transparency?area=T1&amp;from=2031-03-02&amp;to=2031-03-03&amp;sort={column}&amp;dir={other}"'
    assert link in page


async def test_received_sorts_the_page(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await seed(db_conn)
    page = (
        await client.get("/transparency", params={"area": "T1", **WINDOW, "sort": "received", "dir": "desc"})
    ).text
    assert [row[0] for row in html_rows(page)] == ["Phường Một", "Phường Hai", "Phường Ba"]


async def test_json_etag_and_cache(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await seed(db_conn)
    r = await client.get("/v1/public/wards", params={"area": "T1", **WINDOW})
    assert r.headers["cache-control"] == "public, max-age=300" and r.headers["etag"].startswith('"')
    same = await client.get(
        "/v1/public/wards", params={"area": "T1", **WINDOW}, headers={"If-None-Match": r.headers["etag"]}
    )
    assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == r.headers["etag"]
    # another report: other bytes, another ETag, a 200 for the old tag
    await insert_report(db_conn, "W3", created_at=local("2031-03-02T10:00"))
    changed = await client.get(
        "/v1/public/wards", params={"area": "T1", **WINDOW}, headers={"If-None-Match": r.headers["etag"]}
    )
    assert changed.status_code == 200 and changed.headers["etag"] != r.headers["etag"]
    page = await client.get("/transparency", params={"area": "T1", **WINDOW})
    again = await client.get(
        "/transparency", params={"area": "T1", **WINDOW}, headers={"If-None-Match": page.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "2031-13-01"}, "invalid_parameter"),
        ({"from": "yesterday"}, "invalid_parameter"),
        ({"from": "2031-03-01" * 10}, "validation_error"),  # the JSON's bound, the framework's answer
        ({"to": "2031-3-1"}, "invalid_parameter"),
        ({"from": "2031-03-05", "to": "2031-03-01"}, "invalid_parameter"),
        ({"from": "2020-01-01", "to": "2031-01-01"}, "invalid_parameter"),
        ({"sort": "password"}, "invalid_parameter"),
        ({"dir": "up"}, "invalid_parameter"),
    ],
)
async def test_bad_parameters(
    client: httpx.AsyncClient, db_conn: AsyncConnection, params: dict[str, str], code: str
) -> None:
    await make_city(db_conn)
    assert_error_shape(await client.get("/v1/public/wards", params=params), 400, code)
    page = await client.get("/transparency", params=params)
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert "Yêu cầu không hợp lệ" in page.text


async def test_unknown_area(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    assert_error_shape(await client.get("/v1/public/wards", params={"area": "NOPE"}), 404, "area_not_found")
    page = await client.get("/transparency", params={"area": "NOPE"})
    assert page.status_code == 404 and "Không tìm thấy địa bàn" in page.text
    # a control character is refused for every query alike (api/core/inputs.py), in the one error shape
    for path in ("/v1/public/wards", "/transparency"):
        assert_error_shape(await client.get(path, params={"area": "T1\x00"}), 400, "invalid_text")


async def test_english(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await seed(db_conn)
    page = (await client.get("/transparency", params={"area": "T1", **WINDOW, "lang": "en"})).text
    assert "Wards league table" in page and "Median days to resolve" in page
    assert "lang=en" in page  # the sort links keep the language
    bad = await client.get("/transparency", params={"from": "x"}, headers={"Accept-Language": "en"})
    assert bad.status_code == 400 and "Bad request" in bad.text and "expected a date" in bad.text


async def test_the_json_is_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    op = spec["paths"]["/v1/public/wards"]["get"]
    assert op["operationId"] == "publicWardTable" and op["security"] == [{}]
    assert {"200", "400", "404"} <= set(op["responses"])
    ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = spec["components"]["schemas"][ref]
    assert {"area", "from", "to", "sort", "dir", "wards"} <= set(schema["properties"])
    assert {p["name"] for p in op["parameters"]} >= {"area", "from", "to", "sort", "dir"}
    # the HTML pages are for people, not in the API's documentation
    assert "/r/{code}" not in spec["paths"] and "/transparency" not in spec["paths"]


async def test_a_city_of_wards_stays_light(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    """A city's worth of wards with long names: the page still weighs under 50 KB."""
    await upsert_area(db_conn, AreaIn(code="BIG", name="Thành phố Lớn", level="province"))
    for i in range(320):
        name = f"Phường Nguyễn Thị Minh Khai Số {i:03d}"
        await upsert_area(db_conn, AreaIn(code=f"BIG{i:03d}", name=name, level="ward", parent_code="BIG"))
    r = await client.get("/transparency", params={"area": "BIG", "lang": "en"})
    assert r.status_code == 200 and len(html_rows(r.text)) == 320
    print(f"transparency page, 320 wards: {len(r.content)} bytes")
    assert len(r.content) <= 50_000
