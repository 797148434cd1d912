"""The `phananh` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from api.areas import cli as areas_cli
from api.core import clock
from api.core.commands import Command
from api.core.embedded_pg import Cluster, EmbeddedPgError
from api.core.logs import configure_logging
from api.core.settings import Settings, SettingsError, ensure_jwt_secret, load_settings
from api.open311 import cli as open311_cli
from api.run.serve import ServeError, serve
from api.staff import cli as staff_cli

log = logging.getLogger("phananh.cli")


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The configured server, or the embedded cluster (started here, and stopped again if we started it)."""
    if settings.database_url:
        yield settings.database_url
        return
    cluster = Cluster(settings.data_dir / "pg", settings.embedded_pg_port)
    # SIGTERM (docker stop, systemd, a process-group kill) must unwind like Ctrl-C so the cluster is
    # stopped below: uvicorn re-raises the signal after its own shutdown, and the default action
    # would end the process without running `finally`.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    started = cluster.start()
    if started:
        log.info("embedded PostgreSQL started on 127.0.0.1:%s (data in %s)", cluster.port, cluster.data)
    try:
        cluster.ensure_database()
        yield cluster.url
    finally:
        if started:
            # a second Ctrl-C (impatient user, or `uv run` forwarding the terminal's signal) must not
            # cut the shutdown short and leave the cluster running
            previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                cluster.stop()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            log.info("embedded PostgreSQL stopped")


async def _migrate(url: str) -> None:
    from api.core import migrate
    from api.core.db import make_engine

    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=1, help="worker processes (production)")
    p.add_argument(
        "--no-worker", action="store_true", help="do not run the background worker in this process"
    )


def _serve_cmd(args: argparse.Namespace, settings: Settings, url: str) -> int:
    if args.no_worker:
        settings = settings.with_(serve_worker=False)
    serve(settings, url, args.host or settings.host, args.port or settings.port, args.workers)
    return 0


def _migrate_cmd(args: argparse.Namespace, settings: Settings, url: str) -> int:
    asyncio.run(_migrate(url))
    print("database migrated")
    return 0


def _worker_cmd(args: argparse.Namespace, settings: Settings, url: str) -> int:
    from api import worker
    from api.core import migrate
    from api.core.db import Database, Timeouts, make_engine

    async def main() -> None:
        timeouts = Timeouts.of(settings)
        db = Database(make_engine(url, pool_size=4, max_overflow=4, timeouts=timeouts), timeouts=timeouts)
        await migrate.check(db.engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await worker.run_forever(db, settings, stop)
        finally:
            await db.dispose()

    asyncio.run(main())
    return 0


def _dev_cmd(args: argparse.Namespace, settings: Settings, url: str) -> int:
    asyncio.run(_migrate(url))
    for step in DEMO_LOADERS:
        asyncio.run(step(settings, url))
    serve(settings, url, args.host or settings.host, args.port or settings.port, 1)
    return 0


# Demo data steps for `phananh dev`; each must be idempotent.
DEMO_LOADERS: list[Callable[[Settings, str], Coroutine[Any, Any, None]]] = [areas_cli.load_demo]

COMMANDS: dict[str, Command] = {
    c.name: c
    for c in [
        Command(
            "serve", "serve the API (and the background worker unless --no-worker)", _serve_cmd, _serve_args
        ),
        Command("migrate", "bring the database schema up to date", _migrate_cmd),
        Command("worker", "run the background worker (push delivery, media processing, timers)", _worker_cmd),
        Command(
            "dev", "what `make run` does: embedded database, migrate, demo data, serve", _dev_cmd, _serve_args
        ),
        areas_cli.COMMAND,
        staff_cli.COMMAND,
        open311_cli.COMMAND,
    ]
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phananh", description="Phản Ánh backend")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, cmd in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=cmd.help, description=cmd.help)
        if cmd.configure:
            cmd.configure(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = ensure_jwt_secret(load_settings())
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_json)
    clock.configure(settings)
    cmd = COMMANDS[args.command]
    try:
        if not cmd.needs_database:
            return cmd.run(args, settings, "")
        with database_url(settings) as url:
            return cmd.run(args, settings, url)
    except EmbeddedPgError as exc:
        print(f"embedded database: {exc}", file=sys.stderr)
        return 2
    except ServeError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
