"""Point-to-ward assignment on the synthetic city (real boundaries: tests/test_geo_real.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from geo import assign
from tests.factories import ORIGIN_LAT, ORIGIN_LNG, SIZE, centre, make_city

KW = {"snap_distance_m": 200.0, "near_boundary_m": 15.0}


async def test_inside_a_ward(db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    a = await assign(db_conn, *centre("W2"), **KW)
    assert a is not None
    assert a.ward.code == "W2" and a.ward.name == "Phường Hai" and a.ward.level == "ward"
    assert [x.code for x in a.ancestors] == ["T1"]
    assert not a.snapped and a.distance_m is None and not a.near_boundary


async def test_shared_edge_is_deterministic_and_flagged(db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    edge_lng = ORIGIN_LNG + SIZE  # W1 | W2
    a = await assign(db_conn, ORIGIN_LAT + SIZE / 2, edge_lng, **KW)
    assert a is not None and a.ward.code == "W1" and a.near_boundary and a.candidates == 2


async def test_near_edge_is_flagged(db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    a = await assign(db_conn, ORIGIN_LAT + SIZE / 2, ORIGIN_LNG + SIZE - 0.00005, **KW)  # ~5 m inside W1
    assert a is not None and a.ward.code == "W1" and a.near_boundary and a.candidates == 1


async def test_snaps_within_distance_and_refuses_beyond(db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    lat = ORIGIN_LAT + SIZE / 2
    a = await assign(db_conn, lat, ORIGIN_LNG - 0.001, **KW)  # ~109 m west of W1
    assert a is not None and a.ward.code == "W1" and a.snapped
    assert a.distance_m is not None and 100 < a.distance_m < 120
    assert await assign(db_conn, lat, ORIGIN_LNG - 0.003, **KW) is None  # ~330 m
