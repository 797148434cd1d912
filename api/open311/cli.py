"""`phananh apikeys create --name NAME` (prints the new key on its last line), `list`, `revoke ID`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid

from api.core.commands import Command
from api.core.errors import AppError
from api.core.settings import Settings


def _args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="apikeys_command", required=True)
    c = sub.add_parser("create", help="issue a key for a partner system (shown once)")
    c.add_argument("--name", required=True, help="the partner system, e.g. 'Cổng dịch vụ công'")
    sub.add_parser("list", help="every key (never the key itself)")
    r = sub.add_parser("revoke", help="revoke a key")
    r.add_argument("id", help="the key's id (from `list`)")


async def _run(url: str, args: argparse.Namespace) -> list[str]:
    from api.core.db import Database, make_engine
    from api.open311 import keys

    db = Database(make_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.session() as session:
            if args.apikeys_command == "create":
                issued = await keys.issue(session, args.name)
                return [
                    f"issued key {issued.key.id} for {issued.key.name}; it is shown only now:",
                    issued.secret,
                ]
            if args.apikeys_command == "revoke":
                try:
                    key_id = uuid.UUID(args.id)
                except ValueError:
                    raise AppError("That is not a key id.", code="bad_key_id") from None
                key = await keys.revoke(session, key_id)
                return [f"revoked {key.id} ({key.name})"]
            found, _ = await keys.list_keys(session, cursor=None, limit=200)
            return [
                f"{k.id}  {k.prefix}…  {'revoked' if k.revoked_at else 'live   '}  {k.name}" for k in found
            ] or ["no keys"]
    finally:
        await db.dispose()


def _apikeys_cmd(args: argparse.Namespace, settings: Settings, url: str) -> int:
    del settings
    try:
        for line in asyncio.run(_run(url, args)):
            print(line)
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


COMMAND = Command(
    "apikeys",
    "Open311 partners' keys: `apikeys create --name NAME`, `apikeys list`, `apikeys revoke ID`",
    _apikeys_cmd,
    _args,
)
