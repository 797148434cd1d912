"""Media benchmark: a large video through the local-store upload path, and photo processing throughput.

    uv run python -m bench.upload [--quick] [--mb 150] [--photos 8]

1. Upload: the API runs as its own uvicorn process (`api.app:create_app_from_env`) on a fresh
   migrated database with the local store in a temporary folder. A registered device declares a
   video of `--mb` MB (an MP4 header, then filler), streams it in 1 MiB chunks to the signed
   `PUT /v1/uploads/{id}/content` URL (the client never holds the body either), then completes it
   (size, SHA-256 computed while streaming, type sniffed). Printed: MB/s of the PUT, the time of the
   completion, and the API process's RSS before and its peak (VmHWM, reset just before) during the
   upload: the growth must stay far below the body size (target < 50 MB).
2. Processing: `media.process.process_file` on 12-megapixel JPEGs (4000×3000) one after the other,
   as one worker does: photos/s and seconds per photo (the decoder runs in a child process).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx

from api.core import migrate
from api.core.db import make_engine
from bench.export import proc_kb, reset_peak
from bench.lookup import ROOT, free_port
from tests.support.database import create_database, drop_database, server_url, unique_name

SECRET = "bench-upload-" + "x" * 40
CHUNK = 1024 * 1024


def video_head() -> bytes:
    """A real (tiny) MP4, so the completion's sniffing sees a video."""
    from tests.media.files import mp4

    return mp4(1.0)


def body_chunks(head: bytes, size: int) -> Iterator[bytes]:
    yield head
    left = size - len(head)
    filler = bytes(range(256)) * (CHUNK // 256)
    while left > 0:
        n = min(CHUNK, left)
        yield filler[:n]
        left -= n


async def abody(head: bytes, size: int) -> AsyncIterator[bytes]:
    for chunk in body_chunks(head, size):
        yield chunk


async def upload_run(mb: int) -> None:
    size = mb * 1024 * 1024
    head = video_head()
    digest = hashlib.sha256()
    for chunk in body_chunks(head, size):
        digest.update(chunk)
    with server_url() as admin, tempfile.TemporaryDirectory() as tmp:
        name = unique_name("phananh_bench_upload")
        url = await create_database(admin, name)
        proc: subprocess.Popen[bytes] | None = None
        try:
            engine = make_engine(url, pool_size=1, max_overflow=0)
            try:
                await migrate.upgrade(engine)
            finally:
                await engine.dispose()
            port = free_port()
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("PHANANH_")},
                "PHANANH_DATABASE_URL": url,
                "PHANANH_JWT_SECRET": SECRET,
                "PHANANH_DATA_DIR": tmp,
                "PHANANH_MEDIA_DIR": str(Path(tmp) / "media"),
                "PHANANH_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                "PHANANH_MAX_VIDEO_BYTES": str(max(size, 200 * 1024 * 1024)),
                "PHANANH_SERVE_WORKER": "false",
                "PHANANH_LOG_LEVEL": "WARNING",
                "PHANANH_ACCESS_LOG": "false",
            }
            proc = subprocess.Popen(  # noqa: ASYNC220
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "api.app:create_app_from_env",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                cwd=ROOT,
                env=env,
            )
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
                for _ in range(100):
                    try:
                        if (await client.get("/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                r = await client.post(
                    "/v1/auth/device",
                    json={
                        "device_id": "bench-upload-0001",
                        "device_secret": secrets.token_urlsafe(32),
                        "platform": "ios",
                    },
                )
                r.raise_for_status()
                me = {"Authorization": f"Bearer {r.json()['access_token']}"}

                async def one(n: int) -> tuple[float, float, float, float]:
                    r = await client.post(
                        "/v1/uploads",
                        json={
                            "kind": "video",
                            "content_type": "video/mp4",
                            "size": n,
                            "sha256": digest.hexdigest() if n == size else None,
                        },
                        headers=me,
                    )
                    r.raise_for_status()
                    t = r.json()
                    reset_peak(proc.pid)
                    rss0 = proc_kb(proc.pid, "VmRSS")
                    t0 = time.perf_counter()
                    r = await client.put(t["url"], content=abody(head, n), headers=t["headers"])
                    r.raise_for_status()
                    put_s = time.perf_counter() - t0
                    hwm = proc_kb(proc.pid, "VmHWM")
                    t0 = time.perf_counter()
                    r = await client.post(f"/v1/uploads/{t['id']}/complete", headers=me)
                    r.raise_for_status()
                    assert r.json()["status"] == "processing", r.text
                    return put_s, time.perf_counter() - t0, rss0 / 1024, hwm / 1024

                await one(8 * 1024 * 1024)  # warm-up: imports, pool, first plans
                put_s, complete_s, rss0, hwm = await one(size)
                print(
                    f"upload of {mb} MB through PUT /v1/uploads/{{id}}/content (local store, uvicorn, 1 process)"
                )
                print(
                    f"  {size / 1e6 / put_s:8.1f} MB/s   ({put_s:.2f} s)   complete: {complete_s * 1000:.0f} ms"
                )
                print(
                    f"  API RSS before {rss0:.1f} MB, peak during the upload {hwm:.1f} MB, "
                    f"growth {hwm - rss0:.1f} MB (target < 50 MB; body/growth = {mb / max(hwm - rss0, 0.1):.0f}×)"
                )
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
            await drop_database(admin, name)


def photo_run(n: int) -> None:
    from media import process
    from media.jobs import limits_for

    fn = getattr(process, "process_file", None)
    if fn is None:
        print("photo processing: skipped (media.process.process_file is not there yet)")
        return
    import numpy as np
    from PIL import Image

    from media.config import MediaConfig
    from media.storage import LocalStorage

    limits = limits_for(MediaConfig(storage=LocalStorage(Path("."), secret="x", base_url="")))
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(1)
        srcs = []
        for i in range(n):
            # a photo-like 12 MP image: smooth gradients plus sensor-like noise (≈ 3–5 MB as JPEG)
            y, x = np.mgrid[0:3000, 0:4000]
            base = np.stack([(x * 255 // 4000), (y * 255 // 3000), ((x + y + i * 97) % 256)], axis=-1)
            noisy = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
            p = Path(tmp) / f"p{i}.jpg"
            Image.fromarray(noisy).save(p, "JPEG", quality=90)
            srcs.append(p)
        avg_mb = sum(p.stat().st_size for p in srcs) / n / 1e6
        out_root = Path(tmp) / "out"
        t0 = time.perf_counter()
        ok = 0
        for i, src in enumerate(srcs):
            out = out_root / str(i)
            out.mkdir(parents=True)
            res = fn("photo", src, out, limits)
            ok += bool(res.ok)
            if not res.ok:
                print(f"  photo {i}: refused {res.reason}: {res.message}")
        secs = time.perf_counter() - t0
        print(f"photo processing: {n} × 12 MP JPEG (4000×3000, {avg_mb:.1f} MB each), one after the other")
        print(f"  {n / secs:6.2f} photos/s   ({secs / n:.2f} s per photo; {ok}/{n} ok)")


async def main(args: argparse.Namespace) -> None:
    mb = args.mb or (50 if args.quick else 150)
    await upload_run(mb)
    photo_run(args.photos or (3 if args.quick else 8))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mb", type=int, default=0, help="video size in MB (default 150)")
    parser.add_argument("--photos", type=int, default=0, help="12 MP photos to process (default 8)")
    asyncio.run(main(parser.parse_args()))
