"""A small synthetic city for tests that need wards but not the real boundaries.

Province "T1" holds a 3×1 row of square wards W1, W2, W3 (each 0.01° ≈ 1.1 km wide) starting at
(lng 106.70, lat 10.77). Centres: W1 (106.705, 10.775), W2 (106.715, 10.775), W3 (106.725, 10.775).
"""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncConnection

from geo import AreaIn, rebuild_parts, upsert_area

ORIGIN_LNG, ORIGIN_LAT, SIZE = 106.70, 10.77, 0.01
WARDS = {"W1": "Phường Một", "W2": "Phường Hai", "W3": "Phường Ba"}


def square(i: int) -> str:
    x0, y0 = ORIGIN_LNG + i * SIZE, ORIGIN_LAT
    ring = [[x0, y0], [x0 + SIZE, y0], [x0 + SIZE, y0 + SIZE], [x0, y0 + SIZE], [x0, y0]]
    return json.dumps({"type": "MultiPolygon", "coordinates": [[ring]]})


def centre(code: str) -> tuple[float, float]:
    """(lat, lng) of the middle of a synthetic ward."""
    i = list(WARDS).index(code)
    return ORIGIN_LAT + SIZE / 2, ORIGIN_LNG + i * SIZE + SIZE / 2


async def make_city(conn: AsyncConnection) -> None:
    await upsert_area(conn, AreaIn(code="T1", name="Thành phố Thử", level="province"))
    for i, (code, name) in enumerate(WARDS.items()):
        await upsert_area(
            conn, AreaIn(code=code, name=name, level="ward", parent_code="T1", geojson=square(i))
        )
        await rebuild_parts(conn, code)
