"""What a `phananh` subcommand is. Domains declare theirs in their `cli.py`; `api/run/cli.py` lists them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from api.core.settings import Settings

Run = Callable[[argparse.Namespace, Settings, str], int]
Configure = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """`run(args, settings, database_url) -> exit code`, reached as `phananh NAME`."""

    name: str
    help: str
    run: Run
    configure: Configure | None = None
    needs_database: bool = True
