"""The OpenAPI document describes what the API answers, and its viewer is served by the app itself."""

from __future__ import annotations

import re
from typing import Any

import httpx
from litestar import Litestar

from api.app import TOKENLESS
from api.open311.http import PREFIX as OPEN311

METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


def test_every_error_response_is_the_one_error_shape(app: Litestar) -> None:
    document = app.openapi_schema.to_schema()
    ops = operations(document)
    assert len(ops) > 40
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert set(error["properties"]["error"]["properties"]) == {"code", "message", "details"}
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        statuses = {s for s in op["responses"] if s[0] in "45"}
        assert "503" in statuses, where
        tokenless = any(re.search(p, path) for p in TOKENLESS)
        assert ("401" in statuses) != tokenless, where
        if op.get("parameters") or op.get("requestBody"):
            assert "400" in statuses, where
        for status in statuses:
            content = op["responses"][status]["content"]
            if path.startswith(OPEN311):
                assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Open311Errors"}
                assert content["text/xml"]["schema"]["type"] == "string", where
            else:
                assert content == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}, (
                    where,
                    status,
                )
    # Litestar's own 400 (status_code, detail, extra) is nowhere
    assert "ValidationException" not in str(document)


def test_open311_documents_both_formats(app: Litestar) -> None:
    document = app.openapi_schema.to_schema()
    errors = document["components"]["schemas"]["Open311Errors"]
    assert errors["type"] == "array"
    assert errors["items"]["required"] == ["code", "description"]
    for path, method, op in operations(document):
        if path.startswith(OPEN311):
            for status, response in op["responses"].items():
                if status.startswith("2"):
                    assert set(response["content"]) == {"application/json", "text/xml"}, (method, path)


async def test_served_document_is_the_finished_one(client: httpx.AsyncClient, app: Litestar) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    assert (
        r.json()["components"]["schemas"]["Error"]
        == app.openapi_schema.to_schema()["components"]["schemas"]["Error"]
    )


async def test_docs_viewer_loads_only_its_own_files(client: httpx.AsyncClient) -> None:
    for page in ("/schema", "/schema/swagger"):
        r = await client.get(page)
        assert r.status_code == 200, page
        assert "text/html" in r.headers["content-type"]
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", r.text)
        assert len(assets) >= 3, r.text
        for url in assets:
            assert url.startswith("/") and not url.startswith("//"), url
            asset = await client.get(url)
            assert asset.status_code == 200, url
            assert asset.content, url
        assert "cdn" not in r.text.lower()


async def test_open311_target_refused_before_routing_is_in_open311s_shape(client: httpx.AsyncClient) -> None:
    r = await client.get("/open311/v2/requests/%00.xml")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/xml")
    assert r.text.startswith('<?xml version="1.0" encoding="utf-8"?><errors><error><code>400</code>')
    r = await client.get("/open311/v2/requests/%00.json")
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/json")
    assert [set(e) for e in r.json()] == [{"code", "description"}]


async def test_open311_ignores_bearer_tokens(client: httpx.AsyncClient) -> None:
    """Partners authenticate with api_key: a stale bearer token there is not a 401 (none is documented)."""
    r = await client.get("/open311/v2/services.json", headers={"Authorization": "Bearer stale"})
    assert r.status_code == 200
