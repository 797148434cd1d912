"""`phananh serve --port P` hands out links (QR codes, Open311 discovery, media and uploads) on the
port it serves, unless PHANANH_PUBLIC_BASE_URL says where the API is reached."""

from __future__ import annotations

from typing import Any

import pytest

from api.core.settings import Settings
from api.run.serve import serve


def served(monkeypatch: pytest.MonkeyPatch, settings: Settings, host: str, port: int) -> Settings:
    """The settings of the app `serve` hands to uvicorn (which is not started)."""
    handed: list[Any] = []
    monkeypatch.setattr("uvicorn.Server.run", lambda server, *a, **k: handed.append(server.config))
    serve(settings, "postgresql://nobody@127.0.0.1:1/none", host, port, 1)
    [config] = handed
    assert (config.host, config.port) == (host, port)
    result: Settings = config.app.app.state.settings
    return result


def test_links_follow_the_port_served(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    plain = settings.with_(public_base_url="", port=8000)
    assert served(monkeypatch, plain, "127.0.0.1", 18123).base_url == "http://127.0.0.1:18123"


def test_a_public_base_url_wins(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    public = settings.with_(public_base_url="https://phananh.example.vn/")
    assert served(monkeypatch, public, "0.0.0.0", 18124).base_url == "https://phananh.example.vn"
