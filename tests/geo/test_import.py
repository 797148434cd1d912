"""`geo.importer` on small files: shared city sets, re-import in place, repair, parents by name."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.areas.cli import demo_wards
from geo import assign
from geo.importer import ImportError_, ImportOptions, import_file, parent_code_for
from tests.conftest import shared_file

KW = {"snap_distance_m": 200.0, "near_boundary_m": 15.0}
SHARED = ImportOptions(parent_code_field="provinceCode", parent_name_field="provinceName")


async def scalar(conn: AsyncConnection, sql: str, **params: Any) -> Any:
    return (await conn.execute(text(sql), params)).scalar_one()


def write(path: Path, features: list[dict[str, Any]]) -> Path:
    data = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data.encode()))
    else:
        path.write_text(data, encoding="utf-8")
    return path


def square(x0: float, y0: float, size: float = 0.01) -> dict[str, Any]:
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(code: str, name: str, geometry: dict[str, Any] | None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code, "name": name, **props}, "geometry": geometry}


@pytest.mark.parametrize(
    ("name", "wards", "province", "point", "ward"),
    [
        ("hcmc_wards_2025_full.geojson.gz", 168, "79", (10.76788394, 106.65735539), "27226"),
        ("hanoi_wards_2025_full.geojson.gz", 126, "01", None, None),
    ],
)
async def test_city_sets(
    db_conn: AsyncConnection,
    name: str,
    wards: int,
    province: str,
    point: tuple[float, float] | None,
    ward: str | None,
) -> None:
    result = await import_file(db_conn, shared_file(name), SHARED)
    assert (result.features, result.inserted, result.updated) == (wards, wards, 0)
    assert (result.parents_inserted, result.repaired, result.skipped) == (1, [], [])
    assert (
        await scalar(db_conn, "SELECT count(*) FROM areas WHERE is_leaf AND parent_code = :p", p=province)
        == wards
    )
    assert await scalar(db_conn, "SELECT count(DISTINCT area_code) FROM area_parts") == wards
    # subdivided: no lookup part has more than 128 vertices (the raw polygons have up to 7,415)
    assert await scalar(db_conn, "SELECT max(ST_NPoints(geom)) FROM area_parts") <= 128
    # every ward sits under its province, with the accent-free name from the data
    bad = await scalar(
        db_conn,
        "SELECT count(*) FROM areas WHERE is_leaf AND (lineage <> ARRAY[:p, code] OR depth <> 1 "
        "OR name_ascii ~ '[^\\x01-\\x7f]')",
        p=province,
    )
    assert bad == 0
    if point is not None:
        a = await assign(db_conn, *point, **KW)
        assert a is not None and a.ward.code == ward


async def test_sanity_points_of_hcmc(db_conn: AsyncConnection) -> None:
    await import_file(db_conn, shared_file("hcmc_wards_2025_full.geojson.gz"), SHARED)
    ben_thanh = await assign(db_conn, 10.7725, 106.6981, **KW)
    sai_gon = await assign(db_conn, 10.7769, 106.7009, **KW)
    assert ben_thanh is not None and ben_thanh.ward.name == "Bến Thành"
    assert sai_gon is not None and sai_gon.ward.name == "Sài Gòn"
    assert [x.name for x in sai_gon.ancestors] == ["Thành phố Hồ Chí Minh"]


async def test_reimport_updates_in_place(db_conn: AsyncConnection, tmp_path: Path) -> None:
    first = await import_file(db_conn, demo_wards(), SHARED)
    assert first.inserted == 16
    parts_before = {
        r.id: r.area_code for r in (await db_conn.execute(text("SELECT id, area_code FROM area_parts"))).all()
    }
    data = json.loads(demo_wards().read_text(encoding="utf-8"))
    by_name = {f["properties"]["name"]: f for f in data["features"]}
    moved = by_name["Bến Thành"]
    moved["properties"]["name"] = "Bến Thành Mới"
    moved["properties"]["nameEn"] = "Ben Thanh Moi"
    moved["geometry"] = {"type": "MultiPolygon", "coordinates": [square(106.69, 10.765)["coordinates"]]}
    again = await import_file(db_conn, write(tmp_path / "edited.geojson.gz", data["features"]), SHARED)

    assert (again.inserted, again.updated, again.geometry_changed) == (0, 16, 1)
    assert await scalar(db_conn, "SELECT count(*) FROM areas") == 17
    code = moved["properties"]["code"]
    row = (
        await db_conn.execute(text("SELECT name, name_ascii FROM areas WHERE code = :c"), {"c": code})
    ).one()
    assert tuple(row) == ("Bến Thành Mới", "Ben Thanh Moi")
    parts_after = {
        r.id: r.area_code for r in (await db_conn.execute(text("SELECT id, area_code FROM area_parts"))).all()
    }
    # only the edited ward was re-subdivided: every other ward keeps its very rows
    assert {i: c for i, c in parts_before.items() if c != code} == {
        i: c for i, c in parts_after.items() if c != code
    }
    assert set(parts_after.values()) == set(parts_before.values())
    inside_new = await assign(db_conn, 10.77, 106.695, **KW)
    assert inside_new is not None and inside_new.ward.code == code


async def test_invalid_polygon_is_repaired_and_reported(db_conn: AsyncConnection, tmp_path: Path) -> None:
    # a bow-tie: the ring crosses itself at (106.705, 10.775)
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[106.70, 10.77], [106.71, 10.78], [106.71, 10.77], [106.70, 10.78], [106.70, 10.77]]
        ],
    }
    path = write(
        tmp_path / "wards.geojson",
        [
            feature("B1", "Phường Nơ", bowtie, province="Tỉnh Thử"),
            feature("S1", "Phường Vuông", square(106.72, 10.77), province="Tỉnh Thử"),
            feature("N1", "Xã Không Hình", None, province="Tỉnh Thử"),
        ],
    )
    opts = ImportOptions(parent_name_field="province", ascii_field=None)
    result = await import_file(db_conn, path, opts)
    assert result.repaired == ["B1"] and result.skipped == ["N1"]
    assert "repaired 1 invalid geometries: B1" in result.summary()
    valid, kind = (
        await db_conn.execute(
            text("SELECT ST_IsValid(geom), GeometryType(geom) FROM areas WHERE code = 'B1'")
        )
    ).one()
    assert valid and kind == "MULTIPOLYGON"
    # both lobes of the bow-tie still belong to the ward
    for lat, lng in [(10.775, 106.7015), (10.775, 106.7085)]:
        a = await assign(db_conn, lat, lng, **KW)
        assert a is not None and a.ward.code == "B1"
    # the parent was built from its name alone, with a stable code; accent-free names derived
    parent = parent_code_for("Tỉnh Thử")
    assert parent == "tinh_thu"
    row = (
        await db_conn.execute(
            text("SELECT name, level, is_leaf, name_ascii FROM areas WHERE code = :c"), {"c": parent}
        )
    ).one()
    assert tuple(row) == ("Tỉnh Thử", "province", False, "Tinh Thu")
    assert await scalar(db_conn, "SELECT name_ascii FROM areas WHERE code = 'B1'") == "Phuong No"


async def test_missing_property_is_refused(db_conn: AsyncConnection, tmp_path: Path) -> None:
    path = write(tmp_path / "x.geojson", [feature("A", "Phường A", square(106.7, 10.7))])
    with pytest.raises(ImportError_, match="'ma'"):
        await import_file(db_conn, path, ImportOptions(code_field="ma"))
    dup = write(tmp_path / "d.geojson", [feature("A", "A", None), feature("A", "B", None)])
    with pytest.raises(ImportError_, match="twice"):
        await import_file(db_conn, dup, ImportOptions())


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PHANANH_DATABASE_URL": url,
        "PHANANH_JWT_SECRET": "cli-test-" + "x" * 32,
        "PHANANH_LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "api.run.cli", "areas", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_cli_imports_and_reimports(fresh_db: str) -> None:
    path = str(shared_file("hanoi_wards_2025_full.geojson.gz"))
    opts = ["--code-field", "code", "--name-field", "name"]
    opts += ["--parent-code-field", "provinceCode", "--parent-name-field", "provinceName"]
    first = await asyncio.to_thread(run_cli, fresh_db, path, *opts)
    assert first.returncode == 0, first.stderr
    assert "126 features: 126 new, 0 updated" in first.stdout and "parents: 1 new" in first.stdout
    again = await asyncio.to_thread(run_cli, fresh_db, path, *opts)
    assert again.returncode == 0, again.stderr
    assert "126 features: 0 new, 126 updated (0 with a changed boundary" in again.stdout
    wrong = await asyncio.to_thread(run_cli, fresh_db, path, "--code-field", "ma")
    assert wrong.returncode == 2 and "'ma'" in wrong.stderr
