"""`phananh users create …` (the first admin) and `phananh users password …` (a locked-out admin)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from api.core.commands import Command
from api.core.errors import AppError
from api.core.settings import Settings


def _args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="users_command", required=True)
    c = sub.add_parser("create", help="create a staff account")
    c.add_argument("--username", required=True)
    c.add_argument("--password", help="the password (leave out to be asked for it)")
    c.add_argument("--role", required=True, choices=["officer", "leader", "moderator", "admin"])
    c.add_argument("--area", action="append", default=[], metavar="CODE", help="scope area (repeatable)")
    c.add_argument("--agency", action="append", default=[], metavar="CODE", help="scope agency (repeatable)")
    c.add_argument("--display-name", default=None)
    pw = sub.add_parser("password", help="set a staff account's password (also unlocks it)")
    pw.add_argument("--username", required=True)
    pw.add_argument("--password", help="the new password (leave out to be asked for it)")


async def _run(url: str, args: argparse.Namespace, password: str) -> str:
    from sqlalchemy import func, select

    from api.access.models import User
    from api.core.db import Database, make_engine
    from api.staff import service

    db = Database(make_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.session() as session:
            if args.users_command == "create":
                created = await service.create_user(
                    session,
                    username=args.username,
                    password=password,
                    role=args.role,
                    areas=args.area,
                    agencies=args.agency,
                    display_name=args.display_name,
                )
                return f"created {created.user.role} {created.user.username} ({created.user.id})"
            name = service.normalise_username(args.username)
            user_id = await session.scalar(
                select(User.id).where(func.lower(User.username) == name, User.role != "resident")
            )
            if user_id is None:
                raise service.user_not_found()
            await service.set_password(session, user_id, password)
            return f"password set for {name}; the account is unlocked and signed out everywhere"
    finally:
        await db.dispose()


def _users_cmd(args: argparse.Namespace, settings: Settings, url: str) -> int:
    password = args.password or ""
    if not password and sys.stdin.isatty():
        password = getpass.getpass("password: ")
    if len(password) < 8:
        print("error: the password needs at least 8 characters", file=sys.stderr)
        return 2
    try:
        print(asyncio.run(_run(url, args, password)))
    except AppError as exc:  # unknown area or agency, taken username…: one line, exit 2
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    return 0


DEMO_ADMIN = "demo-admin"


async def load_demo(settings: Settings, url: str) -> None:
    """An admin for the demo, so the first hour needs no command: its password is printed when it
    is created (the first start) and never again; the line after says how to set a new one."""
    import secrets

    from sqlalchemy import func, select

    from api.access.models import User
    from api.core.db import Database, make_engine
    from api.staff import service

    db = Database(make_engine(url, pool_size=1, max_overflow=0))
    try:
        async with db.session() as session:
            if await session.scalar(select(User.id).where(func.lower(User.username) == DEMO_ADMIN)) is None:
                password = secrets.token_urlsafe(12)
                await service.create_user(
                    session, username=DEMO_ADMIN, password=password, role="admin", display_name="Demo admin"
                )
                print(f"demo admin: username {DEMO_ADMIN}, password {password} (shown this once)", flush=True)
            else:
                print(
                    f"demo admin: username {DEMO_ADMIN} (its password was shown at the first start)",
                    flush=True,
                )
            print(
                f"  new password: uv run phananh users password --username {DEMO_ADMIN}\n"
                "  more staff:   uv run phananh users create --username lan --role officer --area 26743"
                " (README: Staff, roles and administration)",
                flush=True,
            )
    finally:
        await db.dispose()


COMMAND = Command(
    "users",
    "staff accounts: `users create --username U --password P --role R --area CODE`",
    _users_cmd,
    _args,
)
