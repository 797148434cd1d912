"""Dependencies every controller may name: `session`, `settings`, `database`, `principal`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from api.access.bearer import signed_in
from api.access.tokens import Principal
from api.core.db import Database
from api.core.settings import Settings
from geo import LineageCache


async def provide_session(
    state: State, viewer: NamedDependency[Principal | None]
) -> AsyncIterator[AsyncSession]:
    # `viewer` is unused: depending on it puts the session in a later resolution batch than `principal`,
    # so a 401 from `principal` never cancels this generator half-way (Litestar resolves a batch in a
    # task group, and a cancelled generator dependency fails its clean-up).
    del viewer
    db: Database = state.db
    async with db.session() as session:
        yield session


def lineage_cache(state: State) -> LineageCache:
    """The process's cache of ward lineages (areas change only on import)."""
    cache = state.get("lineage_cache")
    if cache is None:
        cache = state["lineage_cache"] = LineageCache()
    return cache


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def provide_database(state: State) -> Database:
    db: Database = state.db
    return db


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The signed-in caller; 401 when there is none."""
    return signed_in(request.scope.get("user"))


def provide_optional_principal(request: Request[Any, Any, Any]) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


DEPENDENCIES = {
    "session": Provide(provide_session),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "database": Provide(provide_database, sync_to_thread=False),
    "principal": Provide(provide_principal, sync_to_thread=False),
    "viewer": Provide(provide_optional_principal, sync_to_thread=False),
}
