"""`phananh areas import PATH --code-field F --name-field F …`: load boundaries from GeoJSON."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from api.core.commands import Command
from api.core.settings import Settings


def _args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="areas_command", required=True)
    i = sub.add_parser("import", help="import boundaries from a .geojson or .geojson.gz FeatureCollection")
    i.add_argument("path", type=Path)
    i.add_argument("--code-field", default="code", help="property holding the area code (default: code)")
    i.add_argument("--name-field", default="name", help="property holding the name (default: name)")
    i.add_argument("--parent-code-field", default=None, help="property holding the parent's code")
    i.add_argument("--parent-name-field", default=None, help="property holding the parent's name")
    i.add_argument("--ascii-field", default="nameEn", help="property with an accent-free name (else derived)")
    i.add_argument("--level", default="ward", help="level of the imported areas (default: ward)")
    i.add_argument("--parent-level", default="province", help="level of parents built from the file")


async def run_import(url: str, path: Path, opts: object) -> str:
    from api.core import migrate
    from api.core.db import make_engine
    from geo.importer import ImportOptions, import_file

    assert isinstance(opts, ImportOptions)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        await migrate.check(engine)
        async with engine.begin() as conn:
            result = await import_file(conn, path, opts)
    finally:
        await engine.dispose()
    return result.summary()


def _areas_cmd(args: argparse.Namespace, settings: Settings, url: str) -> int:
    from api.core.migrate import NotMigrated
    from geo.importer import ImportError_, ImportOptions

    if not args.path.exists():
        print(f"error: {args.path} not found", file=sys.stderr)
        return 2
    opts = ImportOptions(
        code_field=args.code_field,
        name_field=args.name_field,
        parent_code_field=args.parent_code_field,
        parent_name_field=args.parent_name_field,
        ascii_field=args.ascii_field or None,
        level=args.level,
        parent_level=args.parent_level,
    )
    started = time.perf_counter()
    try:
        summary = asyncio.run(run_import(url, args.path, opts))
    except (ImportError_, NotMigrated) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary)
    print(f"imported {args.path.name} in {time.perf_counter() - started:.1f} s")
    return 0


def demo_wards() -> Path:
    import geo

    return Path(geo.__file__).resolve().parent / "demo" / "hcmc_central_wards.geojson"


async def load_demo(settings: Settings, url: str) -> None:
    """Demo step for `phananh dev`: central HCMC wards (idempotent: a re-import updates in place)."""
    from geo.importer import ImportOptions

    summary = await run_import(
        url, demo_wards(), ImportOptions(parent_code_field="provinceCode", parent_name_field="provinceName")
    )
    print("demo wards (central Hồ Chí Minh City):", summary.splitlines()[0], flush=True)


COMMAND = Command(
    "areas", "area boundaries: `areas import PATH --code-field F --name-field F …`", _areas_cmd, _args
)
