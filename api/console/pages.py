"""Serving the built console (web/dist): which file a path names, how long it may be cached, and the
security headers every console page carries.

Asset names carry a content hash (Vite), so /console/assets/* is cached for a year; index.html is
revalidated on every load so a release is picked up at once. Files are read once and kept in memory
with their gzip, keyed by modification time (the dist folder is small: a few files, about a megabyte).
"""

from __future__ import annotations

import gzip
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from anyio import to_thread

from api.core.settings import Settings

INDEX = "index.html"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_COMPRESSIBLE = (".js", ".css", ".html", ".json", ".svg", ".map")


def dist_dir(settings: Settings) -> Path:
    """PHANANH_CONSOLE_DIR, or web/dist beside the api package (a checkout, the Docker image)."""
    if str(settings.console_dir) not in ("", "."):
        return settings.console_dir
    return Path(__file__).resolve().parents[2] / "web" / "dist"


def content_security_policy(settings: Settings) -> str:
    """Nothing from another origin but the basemap's (PHANANH_MAP_STYLE_URL), no inline script, no eval.
    MapLibre starts its worker from a blob: URL and draws into canvases (blob:/data: images)."""
    extra = ""
    if settings.map_style_url:
        parts = urlsplit(settings.map_style_url)
        extra = f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{extra}",
            "font-src 'self'",
            f"connect-src 'self'{extra}",
            "worker-src 'self' blob:",
            "child-src blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    }


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    media_type: str
    cache_control: str
    gzipped: bool


@dataclass(frozen=True, slots=True)
class _Cached:
    mtime_ns: int
    raw: bytes
    gz: bytes | None


_cache: dict[Path, _Cached] = {}


def _read(path: Path) -> _Cached | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    hit = _cache.get(path)
    if hit is not None and hit.mtime_ns == stat.st_mtime_ns:
        return hit
    raw = path.read_bytes()
    gz = gzip.compress(raw, 9, mtime=0) if path.suffix in _COMPRESSIBLE and len(raw) > 512 else None
    entry = _Cached(stat.st_mtime_ns, raw, gz)
    _cache[path] = entry
    return entry


def _resolve(root: Path, name: str) -> Path | None:
    """The file `name` names inside `root`, or None (outside it, hidden, a folder, absent)."""
    parts = [p for p in name.split("/") if p]
    if any(p.startswith(".") or "\\" in p for p in parts):
        return None
    path = (root.joinpath(*parts) if parts else root / INDEX).resolve()
    base = root.resolve()
    if path != base and base not in path.parents:
        return None
    return path if path.is_file() else None


def built(settings: Settings) -> bool:
    return (dist_dir(settings) / INDEX).is_file()


async def page(settings: Settings, name: str, accepts_gzip: bool) -> Page | None:
    """The console file at `name` (relative to /console/; empty: index.html), or None."""
    root = dist_dir(settings)
    path = _resolve(root, name)
    if path is None:
        return None
    entry = await to_thread.run_sync(_read, path)
    if entry is None:
        return None
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type.startswith("text/") or media_type in ("application/javascript", "text/javascript"):
        media_type += "; charset=utf-8"
    immutable = path.parent.name == "assets" and path.parent.parent == root.resolve()
    use_gz = accepts_gzip and entry.gz is not None
    return Page(
        entry.gz if use_gz and entry.gz is not None else entry.raw,
        media_type,
        IMMUTABLE if immutable else REVALIDATE,
        use_gz,
    )


NOT_BUILT = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Phản Ánh — chưa có bảng điều khiển</title></head>
<body>
<h1>Bảng điều khiển chưa được xây dựng</h1>
<p>Máy chủ không tìm thấy bản dựng của bảng điều khiển (thư mục <code>web/dist</code>).
Hãy chạy <code>make web</code> (cần Node.js và npm) rồi tải lại trang.</p>
<h1 lang="en">The console has not been built</h1>
<p lang="en">The server found no build of the staff console (the <code>web/dist</code> folder, or
<code>PHANANH_CONSOLE_DIR</code>). Run <code>make web</code> (needs Node.js and npm), then reload.</p>
</body></html>
""".encode()
