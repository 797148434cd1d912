"""Fixtures for the media tests: a worker round with the real or a stand-in decoder."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

import media
import media.jobs
from api.db import Database
from api.media import config_for
from api.settings import Settings
from tests.media.fake_process import fake_process_file

Worker = Callable[[], Awaitable[media.ProcessStats]]


@pytest.fixture
def fake_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Process with the in-process stand-in (fast; the real decoder has its own tests)."""
    monkeypatch.setattr(
        media.jobs, "_process_file", lambda kind, src, out, limits: fake_process_file(kind, src, out, limits)
    )


@pytest.fixture
def run_worker(database: Database, settings: Settings) -> Worker:
    async def run() -> media.ProcessStats:
        return await media.process_due(database.session, config_for(settings), batch=20)

    return run
