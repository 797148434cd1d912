"""Serving the API over HTTP: one process, or several worker processes behind one port.

With several workers, each binds its own listening socket with SO_REUSEPORT (Linux), so the kernel
spreads new connections over the workers by address hash. uvicorn's own `--workers` shares
one socket whose accept queue wakes the same warm worker first: keep-alive connections from phones
and proxies piled up on one worker (28 of 32 in bench/submit.py) while the other idled, and the
clients on the busy one waited several times longer.

The parent supervises: it stops every worker on SIGINT/SIGTERM and replaces a worker that dies,
unless workers keep dying right after their start (a broken configuration), when it stops them all.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

from api.core.settings import Settings
from api.run.guard import server_options

log = logging.getLogger("phananh.serve")

_BACKLOG = 2048
_QUICK_DEATH_S = 10.0  # a worker that dies sooner than this after its start counts as failing to start
_MAX_QUICK_DEATHS = 3


class ServeError(Exception):
    pass


def serve(settings: Settings, url: str, host: str, port: int, workers: int) -> None:
    """Serve until SIGINT/SIGTERM. The links the API hands out (QR codes, media, uploads) name the
    host and port actually served unless PHANANH_PUBLIC_BASE_URL says otherwise."""
    import uvicorn

    settings = settings.with_(host=host, port=port)

    if workers <= 1:
        from api.app import create_app, with_fast_paths

        app = with_fast_paths(create_app(settings, database_url=url), serving=True)
        log.info("Phản Ánh API on http://%s:%s  (docs: http://%s:%s/schema)", host, port, host, port)
        from api.run.server import Server

        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=False, **server_options(settings)
        )
        Server(config).run()
        return
    # worker processes build the app from the environment (api.app.create_asgi_from_env)
    os.environ["PHANANH_DATABASE_URL"] = url
    os.environ["PHANANH_JWT_SECRET"] = settings.jwt_secret
    os.environ["PHANANH_SERVE_WORKER"] = "true" if settings.serve_worker else "false"
    os.environ["PHANANH_HOST"], os.environ["PHANANH_PORT"] = host, str(port)
    _check_free(host, port)
    log.info("Phản Ánh API on http://%s:%s, %s worker processes", host, port, workers)
    Supervisor(host, port, workers).run()


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _check_free(host: str, port: int) -> None:
    """Refuse a port something already listens on: SO_REUSEPORT alone would join its group silently."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ServeError("several worker processes need SO_REUSEPORT (Linux); run with --workers 1")
    try:
        listening_socket(host, port, reuse_port=False).close()
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _worker(host: str, port: int) -> None:
    """One worker process: its own SO_REUSEPORT socket, the app from the environment."""
    import uvicorn

    from api.core.logs import configure_logging
    from api.core.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    # bound, not listening: uvicorn listens once the app has started, so that no connection waits
    # in the queue of a worker that cannot answer it yet
    sock = listening_socket(host, port, reuse_port=True)
    config = uvicorn.Config(
        "api.app:create_asgi_from_env",
        factory=True,
        backlog=_BACKLOG,
        log_config=None,
        access_log=False,
        **server_options(settings),
    )
    from api.run.server import Server

    Server(config).run(sockets=[sock])


class Supervisor:
    def __init__(self, host: str, port: int, workers: int) -> None:
        self.host, self.port, self.count = host, port, workers
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[tuple[BaseProcess, float]] = []
        self.stopping = False
        self.quick_deaths = 0

    def _start(self) -> tuple[BaseProcess, float]:
        process = self.context.Process(target=_worker, args=(self.host, self.port), name="phananh-worker")
        process.start()
        return process, time.monotonic()

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stopping = True

    def run(self) -> None:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.workers = [self._start() for _ in range(self.count)]
            while not self.stopping:
                wait([p.sentinel for p, _ in self.workers], timeout=0.5)
                self._replace_dead()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _replace_dead(self) -> None:
        for i, (process, started) in enumerate(self.workers):
            if process.is_alive() or self.stopping:
                continue
            quick = time.monotonic() - started < _QUICK_DEATH_S
            self.quick_deaths = self.quick_deaths + 1 if quick else 0
            log.error("worker %s exited with code %s", process.pid, process.exitcode)
            if self.quick_deaths >= _MAX_QUICK_DEATHS:
                raise ServeError("workers keep exiting right after they start; see the log above")
            self.workers[i] = self._start()

    def _stop_all(self) -> None:
        """SIGTERM (uvicorn's graceful stop) to every worker; SIGKILL for those still there after 30 s."""
        # a second Ctrl-C while the workers stop must not cut this short
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        for process, _ in self.workers:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process, _ in self.workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
