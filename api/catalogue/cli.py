"""The catalogue's demo step for `phananh dev` (the catalogue itself is edited through the admin API)."""

from __future__ import annotations

from api.core.settings import Settings

# The power company takes power outages everywhere in Hồ Chí Minh City (the demo wards' province):
# a resident's outage report lands in its queue, and its officers (`--agency evn`) see only those.
DEMO_ROUTES = {"mat-dien": [("79", "evn")]}


async def load_demo(settings: Settings, url: str) -> None:
    """Route the demo categories to their agencies, unless an admin has routed them already."""
    from api.catalogue import service
    from api.core.db import Database, make_engine

    db = Database(make_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.session() as session:
            for category, routes in DEMO_ROUTES.items():
                current = await service.get_category(session, category)
                if not current["routes"]:
                    await service.set_routes(session, category, routes)
                shown = ", ".join(f"{area} → {agency}" for area, agency in routes)
                print(f"demo routes: {category} ({current['name_vi']}) {shown}", flush=True)
    finally:
        await db.dispose()
