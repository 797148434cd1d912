"""Fixtures for the public pages: a media worker round (the real, sandboxed decoder) to make the
public renditions of a photo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

import media
from api.core.db import Database
from api.core.media import config_for
from api.core.settings import Settings

Worker = Callable[[], Awaitable[media.ProcessStats]]


@pytest.fixture
def run_worker(database: Database, settings: Settings) -> Worker:
    async def run() -> media.ProcessStats:
        return await media.process_due(database.session, config_for(settings), batch=20)

    return run
