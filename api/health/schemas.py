"""Bodies of the health and readiness endpoints."""

from __future__ import annotations

import msgspec


class Status(msgspec.Struct):
    status: str
