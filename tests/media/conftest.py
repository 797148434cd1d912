"""Fixtures for the media tests: a worker round (with the real, sandboxed decoder)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

import media
import media.jobs
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings

Worker = Callable[[], Awaitable[media.ProcessStats]]


@pytest.fixture
def run_worker(database: Database, settings: Settings) -> Worker:
    async def run() -> media.ProcessStats:
        return await media.process_due(database.session, config_for(settings), batch=20)

    return run
