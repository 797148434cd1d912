"""uvicorn's server, ending this process's live streams when it begins to shut down.

uvicorn waits for every open connection to finish before the app's lifespan ends, and a live stream
(server-sent events) never finishes by itself: without this the server would wait for ever (or until
its graceful-shutdown timeout, then cut the streams off mid-event). The streams say `bye` and end.
"""

from __future__ import annotations

import socket

import uvicorn

from api.casework import live


class Server(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        live.close_all()
        await super().shutdown(sockets)
