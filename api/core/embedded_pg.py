"""A private PostgreSQL+PostGIS cluster in a folder: the embedded default and the test database.

It uses the machine's own PostgreSQL binaries (Debian's `postgresql-NN` and `postgresql-NN-postgis-3`).
PostgreSQL refuses to run as root, so when we are root the cluster belongs to the unprivileged
`postgres` system user and its commands run through `runuser`.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DB_NAME = "phananh"


class EmbeddedPgError(RuntimeError):
    pass


def find_bindir() -> Path:
    """The newest PostgreSQL server binaries on this machine."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise EmbeddedPgError(
        "PostgreSQL server binaries not found. Install them with:\n"
        "  sudo apt-get install postgresql postgresql-15-postgis-3\n"
        "or run `make deps` as root."
    )


def postgis_available(bindir: Path) -> bool:
    version = bindir.parent.name
    return bool(glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Cluster:
    """A cluster living in `root` (data in root/data, socket and log in root/run)."""

    root: Path
    port: int

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.bindir = find_bindir()
        self.data = self.root / "data"
        self.run = self.root / "run"
        self.logfile = self.run / "postgres.log"
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DB_NAME}"

    def admin_url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def _cmd(self, *args: str) -> list[str]:
        if self._as_postgres:
            return ["runuser", "-u", "postgres", "--", *args]
        return list(args)

    def _own(self, path: Path) -> None:
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def _check_call(self, *args: str) -> None:
        proc = subprocess.run(self._cmd(*args), capture_output=True, text=True)
        if proc.returncode != 0:
            raise EmbeddedPgError(f"{' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def init(self) -> None:
        if self.initialised():
            return
        if not postgis_available(self.bindir):
            raise EmbeddedPgError(
                f"PostGIS is not installed for PostgreSQL {self.bindir.parent.name}. Install it with:\n"
                f"  sudo apt-get install postgresql-{self.bindir.parent.name}-postgis-3\n"
                "or run `make deps` as root."
            )
        for d in (self.root, self.data, self.run):
            d.mkdir(parents=True, exist_ok=True)
            self._own(d)
        if self._as_postgres:
            # postgres must be able to walk down to its folders
            for parent in self.root.parents:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)
        self._check_call(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )

    def running(self) -> bool:
        proc = subprocess.run(
            self._cmd(str(self.bindir / "pg_ctl"), "status", "-D", str(self.data)), capture_output=True
        )
        return proc.returncode == 0

    def running_port(self) -> int | None:
        """The port a running cluster listens on, as PostgreSQL itself records it (postmaster.pid,
        fourth line): a second `phananh` command joins the cluster `make run` started, whatever port
        that one was given."""
        try:
            lines = (self.data / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (OSError, IndexError, ValueError):
            return None

    def start(self, *, fast_unsafe: bool = False) -> bool:
        """Start the cluster; returns False if it was already running (then `port` is its port)."""
        self.init()
        if self.running():
            self.port = self.running_port() or self.port
            return False
        if port_open(self.port):
            raise EmbeddedPgError(
                f"port {self.port} is taken by another program; set PHANANH_EMBEDDED_PG_PORT to a free port"
            )
        opts = f"-p {self.port} -k {self.run} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if fast_unsafe:  # throwaway test clusters: durability does not matter
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._check_call(
            str(self.bindir / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-w",
            "-t",
            "60",
            "-o",
            opts,
        )
        deadline = time.monotonic() + 30
        while not port_open(self.port):
            if time.monotonic() > deadline:
                raise EmbeddedPgError(f"PostgreSQL did not open port {self.port}; see {self.logfile}")
            time.sleep(0.1)
        return True

    def stop(self) -> None:
        if self.initialised() and self.running():
            subprocess.run(
                self._cmd(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w"),
                capture_output=True,
            )

    def ensure_database(self, name: str = DB_NAME) -> None:
        """Create the database with PostGIS and unaccent if it is not there yet."""
        psql = [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-tA"]

        def run(db: str, sql: str) -> str:
            proc = subprocess.run([*psql, "-d", db, "-c", sql], capture_output=True, text=True)
            if proc.returncode != 0:
                # one line the operator can act on, not a traceback
                why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
                raise EmbeddedPgError(f"cannot reach the embedded database on port {self.port}: {why}")
            return proc.stdout.strip()

        if not run("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
            run("postgres", f'CREATE DATABASE "{name}"')
        run(
            name,
            "CREATE EXTENSION IF NOT EXISTS postgis; "
            "CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS pg_trgm;",
        )
