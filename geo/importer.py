"""Bulk import of area boundaries from GeoJSON (.geojson or .geojson.gz).

Python reads the properties and turns the geometries into WKB with shapely (GEOS's GeoJSON reader is
~5x faster than ST_GeomFromGeoJSON); rows are COPYed into a staging table and checked, repaired and
subdivided by PostGIS in a few set-based statements. The national set
(3,321 wards, 7 M vertices) imports in well under a minute. Re-importing updates rows in place and
re-subdivides only the areas whose geometry changed.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import shapely
from sqlalchemy.ext.asyncio import AsyncConnection

from geo import sql
from geo.store import SUBDIVIDE_VERTICES, ascii_name


class ImportError_(ValueError):
    """The file cannot be imported as asked (missing property, not a FeatureCollection…)."""


class _Feature(msgspec.Struct):
    properties: dict[str, Any] | None = None
    geometry: msgspec.Raw = msgspec.Raw(b"null")  # left unparsed: PostGIS reads it


class _Collection(msgspec.Struct):
    features: list[_Feature]
    type: str = "FeatureCollection"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    code_field: str = "code"
    name_field: str = "name"
    parent_code_field: str | None = None
    parent_name_field: str | None = None
    ascii_field: str | None = "nameEn"  # an accent-free name in the data, else derived from the name
    level: str = "ward"
    parent_level: str = "province"


@dataclass
class ImportResult:
    features: int = 0
    inserted: int = 0
    updated: int = 0
    parents_inserted: int = 0
    parents_updated: int = 0
    geometry_changed: int = 0
    parts: int = 0
    repaired: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # features without a usable geometry

    def summary(self) -> str:
        lines = [
            f"{self.features} features: {self.inserted} new, {self.updated} updated "
            f"({self.geometry_changed} with a changed boundary, {self.parts} lookup parts written)",
            f"parents: {self.parents_inserted} new, {self.parents_updated} updated",
        ]
        if self.repaired:
            lines.append(f"repaired {len(self.repaired)} invalid geometries: {', '.join(self.repaired)}")
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} features without a polygon: {', '.join(self.skipped)}")
        return "\n".join(lines)


def read_features(path: Path) -> list[_Feature]:
    raw = path.read_bytes()
    if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    try:
        return msgspec.json.decode(raw, type=_Collection).features
    except msgspec.ValidationError as exc:
        raise ImportError_(f"{path}: not a GeoJSON FeatureCollection ({exc})") from exc


def parent_code_for(name: str) -> str:
    """A stable code for a parent known only by name: 'Thành phố Hồ Chí Minh' → 'thanh_pho_ho_chi_minh'."""
    return re.sub(r"[^a-z0-9]+", "_", ascii_name(name).lower()).strip("_")


def _text(props: dict[str, Any], key: str | None) -> str | None:
    if not key:
        return None
    value = props.get(key)
    if value is None or value == "":
        return None
    return str(value).strip()


def _rows(features: Iterable[_Feature], opts: ImportOptions) -> tuple[list[tuple[Any, ...]], dict[str, str]]:
    """Staging rows (code, name, name_ascii, parent_code, wkb) and the parents {code: name}."""
    rows: list[tuple[Any, ...]] = []
    parents: dict[str, str] = {}
    seen: set[str] = set()
    for i, f in enumerate(features):
        props = f.properties or {}
        code, name = _text(props, opts.code_field), _text(props, opts.name_field)
        if code is None or name is None:
            raise ImportError_(
                f"feature #{i} has no '{opts.code_field}' or '{opts.name_field}' property "
                f"(properties: {sorted(props)[:12]})"
            )
        if code in seen:
            raise ImportError_(f"code {code} appears twice in the file")
        seen.add(code)
        p_code, p_name = _text(props, opts.parent_code_field), _text(props, opts.parent_name_field)
        if p_code is None and p_name is not None:
            p_code = parent_code_for(p_name)
        if p_code is not None:
            parents.setdefault(p_code, p_name or p_code)
        asc = _text(props, opts.ascii_field) or ascii_name(name)
        rows.append((code, name, asc, p_code, bytes(f.geometry)))
    wkbs = _to_wkb([r[4] for r in rows])
    return [(*r[:4], w) for r, w in zip(rows, wkbs, strict=True)], parents


def _to_wkb(geojsons: list[bytes]) -> list[bytes | None]:
    """GeoJSON geometry texts → WKB (None for null or non-polygonal geometry)."""
    present = [i for i, g in enumerate(geojsons) if g.strip() != b"null"]
    try:
        geoms = shapely.from_geojson([geojsons[i].decode() for i in present])
    except shapely.errors.GEOSException as exc:
        raise ImportError_(f"a geometry cannot be read: {exc}") from exc
    out: list[bytes | None] = [None] * len(geojsons)
    for i, geom, wkb in zip(present, geoms, shapely.to_wkb(geoms), strict=True):
        if geom is not None and geom.geom_type in ("Polygon", "MultiPolygon") and not geom.is_empty:
            out[i] = wkb
    return out


async def import_features(
    conn: AsyncConnection, features: list[_Feature], opts: ImportOptions, *, source: str
) -> ImportResult:
    """Upsert the features (and their parents) inside the caller's transaction."""
    rows, parents = _rows(features, opts)
    result = ImportResult(features=len(rows))
    await conn.execute(sql.IMPORT_DROP)  # an earlier import in this same transaction
    await conn.execute(sql.IMPORT_STAGE)
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table("area_stage", records=rows)  # type: ignore[union-attr]
    await conn.execute(sql.IMPORT_PARSE)
    flags = (await conn.execute(sql.IMPORT_VALIDITY)).all()
    result.repaired = sorted(r.code for r in flags if not r.valid)
    have_geom = {r.code for r in flags}
    result.skipped = sorted(r[0] for r in rows if r[0] not in have_geom)

    if parents:
        codes = list(parents)
        done = (
            await conn.execute(
                sql.IMPORT_PARENTS,
                {
                    "codes": codes,
                    "names": [parents[c] for c in codes],
                    "asciis": [ascii_name(parents[c]) for c in codes],
                    "level": opts.parent_level,
                    "source": source,
                },
            )
        ).all()
        result.parents_inserted = sum(1 for r in done if r.inserted)
        result.parents_updated = len(done) - result.parents_inserted

    await conn.execute(sql.IMPORT_CHANGED)
    done = (await conn.execute(sql.IMPORT_LEAVES, {"level": opts.level, "source": source})).all()
    result.inserted = sum(1 for r in done if r.inserted)
    result.updated = len(done) - result.inserted
    await conn.execute(sql.IMPORT_DROP_CHANGED_PARTS)
    result.geometry_changed = int((await conn.execute(sql.IMPORT_CHANGED_COUNT)).scalar_one())
    parts = await conn.execute(sql.IMPORT_PARTS, {"n": SUBDIVIDE_VERTICES})
    result.parts = parts.rowcount or 0
    await conn.execute(sql.IMPORT_DROP)
    await conn.execute(sql.ANALYZE_PARTS)
    return result


async def import_file(conn: AsyncConnection, path: Path, opts: ImportOptions) -> ImportResult:
    """Read a .geojson[.gz] and import it in the caller's transaction (the caller commits)."""
    return await import_features(conn, read_features(path), opts, source=path.name)
