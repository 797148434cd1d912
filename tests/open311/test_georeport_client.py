"""Third-party code against a running server: the PyPI `georeport` client reads services, definitions
and requests (JSON and XML) from `phananh serve`, after a partner key made with `phananh apikeys create`
filed a request — the CLI prints the key on its last line, as the README says."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from georeport import GeoReport

from api.core.db import make_engine
from api.core.embedded_pg import free_port
from tests.factories import centre, make_city


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHANANH_")}
    return env | {
        "PHANANH_DATABASE_URL": url,
        "PHANANH_JWT_SECRET": "georeport-test-" + "x" * 32,
        "PHANANH_ACCESS_LOG": "false",
    }


async def test_georeport_client_against_phananh_serve(fresh_db: str, tmp_path: Path) -> None:
    engine = make_engine(fresh_db, pool_size=1, max_overflow=0)
    async with engine.begin() as conn:
        await make_city(conn)
    await engine.dispose()

    issued = subprocess.run(  # noqa: ASYNC221 (a short command, before the server starts)
        [sys.executable, "-m", "api.run.cli", "apikeys", "create", "--name", "Tổng đài 1022"],
        env=_env(fresh_db),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    assert key.startswith("pa_")

    port, log = free_port(), tmp_path / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 (started, not waited on)
            [sys.executable, "-m", "api.run.cli", "serve", "--no-worker", "--port", str(port)],
            env=_env(fresh_db),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}/open311/v2"
        async with httpx.AsyncClient(timeout=10) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                await asyncio.sleep(0.2)
            lat, lng = centre("W2")
            filed = await http.post(
                f"{base}/requests.json",
                data={
                    "api_key": key,
                    "service_code": "den-duong",
                    "lat": str(lat),
                    "long": str(lng),
                    "description": "Đèn đường hỏng ba hôm nay",
                },
            )
            assert filed.status_code == 200, filed.text
            code = filed.json()[0]["service_request_id"]

        def read(fmt: str) -> tuple[Any, Any, Any, Any]:
            client = GeoReport(base, jurisdiction="hcm", output_format=fmt)
            return (
                client.get_service_list(),
                client.get_service_definition("ngap-nuoc"),
                client.get_service_requests(status="open"),
                client.get_service_request(code),
            )

        services, definition, requests, one = await asyncio.to_thread(read, "json")
        assert "den-duong" in {s["service_code"] for s in services}
        assert definition["service_code"] == "ngap-nuoc" and definition["attributes"]
        assert code in {r["service_request_id"] for r in requests}
        assert one["service_request_id"] == code and one["status"] == "open"

        services, definition, requests, one = await asyncio.to_thread(read, "xml")
        assert "den-duong" in {s["service_code"] for s in services}
        assert definition["service_code"] == "ngap-nuoc"
        # xmltodict gives a dict for a single <request>, a list for several
        listed = requests if isinstance(requests, list) else [requests]
        assert code in {r["service_request_id"] for r in listed}
        assert one["service_request_id"] == code
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
