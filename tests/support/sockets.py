"""TCP sockets of this machine, read from /proc (Linux): which exist on a port, in which state."""

from __future__ import annotations

import contextlib
from pathlib import Path

ESTABLISHED, LISTEN = "01", "0A"


def tcp_inodes(port: int, state: str) -> set[int]:
    """Inodes of the TCP sockets (IPv4 and IPv6) with local port `port` in `state`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == state:
                    found.add(int(cols[9]))
    return found


def tcp_inode_to(port: int, peer_port: int) -> int | None:
    """Inode of the established TCP socket with local port `port` whose peer has port `peer_port`:
    the server's end of the client connection from `peer_port`."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                local, remote = int(cols[1].rsplit(":", 1)[1], 16), int(cols[2].rsplit(":", 1)[1], 16)
                if local == port and remote == peer_port and cols[3] == ESTABLISHED:
                    return int(cols[9])
    return None
