"""Serving the built console: caching, security headers, the 503 page when it was not built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.console import pages
from api.core.db import Database
from api.core.settings import Settings
from tests.conftest import serving


def fake_dist(root: Path) -> Path:
    """A dist folder as Vite lays it out."""
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text(
        '<!doctype html><html lang="vi"><script type="module" src="/console/assets/index-abc123.js"></script></html>'
    )
    (root / "assets" / "index-abc123.js").write_text("console.log('xin chào');\n" * 100)
    (root / "assets" / "index-abc123.css").write_text("body{margin:0}\n")
    return root


@pytest.fixture
async def console(settings: Settings, database: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings.with_(console_dir=fake_dist(tmp_path / "dist")), database=database)
    async with serving(app) as c:
        yield c


async def test_index_is_revalidated_and_carries_a_strict_policy(console: httpx.AsyncClient) -> None:
    for path in ("/console", "/console/", "/console/index.html"):
        r = await console.get(path)
        assert r.status_code == 200, (path, r.text)
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["cache-control"] == "no-cache"
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe" not in csp
        assert "worker-src 'self' blob:" in csp and "frame-ancestors 'none'" in csp
        assert "http" not in csp  # no other origin without a basemap
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "index-abc123.js" in r.text


async def test_hashed_assets_are_cached_for_a_year_and_gzipped(console: httpx.AsyncClient) -> None:
    r = await console.get("/console/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.text.startswith("console.log('xin chào')")  # httpx undid the gzip
    plain = await console.get("/console/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == r.text
    css = await console.get("/console/assets/index-abc123.css")
    assert css.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize(
    "path",
    [
        "/console/assets/missing.js",
        "/console/../pyproject.toml",
        "/console/assets/%2e%2e/%2e%2e/index.html",
        "/console/.hidden",
        "/console/assets",
    ],
)
async def test_nothing_outside_the_build_is_served(console: httpx.AsyncClient, path: str) -> None:
    r = await console.get(path)
    assert r.status_code == 404, (path, r.status_code, r.text[:200])


async def test_a_console_not_built_is_a_clear_503(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    app = create_app(settings.with_(console_dir=tmp_path / "nothing"), database=database)
    async with serving(app) as c:
        r = await c.get("/console/")
    assert r.status_code == 503
    assert "make web" in r.text and "chưa được xây dựng" in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_a_basemap_origin_is_the_one_other_origin_allowed() -> None:
    csp = pages.content_security_policy(Settings(map_style_url="https://tiles.example.vn/styles/street.json"))
    assert "connect-src 'self' https://tiles.example.vn;" in csp
    assert "img-src 'self' data: blob: https://tiles.example.vn;" in csp
    assert "script-src 'self';" in csp
