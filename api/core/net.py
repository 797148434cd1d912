"""Calling out to addresses that others gave us (a partner's photo link, a webhook endpoint).

The server must not become a way into the city's own network: a URL is used only over http(s), and
only when every address its host resolves to is public — unless a setting allows private and loopback
addresses (tests, or an intranet deployment that means it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeUrl(Exception):
    """Why a URL may not be called (English; callers word it for their own users)."""


def check_scheme(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; UnsafeUrl otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("only http and https links are used")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeUrl("the port is not valid") from None
    return parts.hostname, port


async def check_public(url: str, *, allow_private: bool) -> None:
    """Raises UnsafeUrl unless `url` is http(s) and its host resolves to public addresses only."""
    host, port = check_scheme(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise UnsafeUrl(f"the host {host!r} does not resolve") from None
    if allow_private:
        return
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise UnsafeUrl("it points at a private or local address")
