"""In-process sliding-window rate limits (per user, per client address).

The counters live in this process: with several API processes each enforces its own share, which is
fine for abuse protection (limits are generous) but not an exact quota; use a shared store
(e.g. Redis) if exact global limits are ever needed.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

from api.core.errors import TooManyRequests


class SlidingWindow:
    """Hits per key within the last `window_s` seconds (`now` must not go backwards).

    Keys are kept in order of their latest hit, so the idle ones (no hit within the window) are at
    the front and are dropped as new hits arrive: the table holds only keys seen within the window.
    """

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        """Keys currently remembered."""
        return len(self._hits)

    def retry_after(self, key: str, now: float) -> int:
        """0 when `key` may go ahead now, else seconds until it may."""
        hits = self._hits.get(key)
        if hits is None:
            return 0
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, math.ceil(hits[0] + self.window_s - now))
        return 0

    def hit(self, key: str, now: float) -> None:
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        else:
            self._hits.move_to_end(key)
        hits.append(now)
        self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        # The front key has the oldest latest hit: once it is within the window, all the rest are.
        cutoff = now - self.window_s
        while self._hits:
            oldest = next(iter(self._hits.values()))
            if oldest and oldest[-1] > cutoff:
                break
            self._hits.popitem(last=False)


def _too_many(window: SlidingWindow, wait: int, what_en: str, what_vi: str) -> TooManyRequests:
    return TooManyRequests(
        f"Too many {what_en}; try again in {wait} s.",
        message_vi=f"Quá nhiều {what_vi}; vui lòng thử lại sau {wait} giây.",
        details={"limit": window.limit, "window_s": int(window.window_s), "retry_after_s": wait},
        headers={"Retry-After": str(wait)},
    )


class ReportLimiter:
    """Reports per user per hour, and per client address per hour (carriers share addresses: generous)."""

    def __init__(self, per_user_hour: int, per_ip_hour: int) -> None:
        self.per_user = SlidingWindow(per_user_hour, 3600)
        self.per_ip = SlidingWindow(per_ip_hour, 3600)

    def check(self, user_key: str, ip: str) -> None:
        """Count one report, or raise 429 with Retry-After (counting nothing)."""
        now = time.monotonic()
        checks = (
            (self.per_user, user_key, "reports from this device", "phản ánh từ thiết bị này"),
            (self.per_ip, ip, "reports from this network", "phản ánh từ mạng này"),
        )
        for window, key, what_en, what_vi in checks:
            wait = window.retry_after(key, now)
            if wait:
                raise _too_many(window, wait, what_en, what_vi)
        for window, key, _en, _vi in checks:
            window.hit(key, now)


class AddressLimiter:
    """Attempts per client address per minute, for the doors anyone may knock on (registering an
    app install, staff sign-in). Many phones share a carrier's address: set generously, it stops a
    flood from one address, not a busy network."""

    def __init__(self, per_minute: int, what_en: str, what_vi: str) -> None:
        self.window = SlidingWindow(per_minute, 60)
        self.what_en, self.what_vi = what_en, what_vi

    def check(self, ip: str) -> None:
        """Count one attempt, or raise 429 with Retry-After (counting nothing)."""
        now = time.monotonic()
        wait = self.window.retry_after(ip, now)
        if wait:
            raise _too_many(self.window, wait, self.what_en, self.what_vi)
        self.window.hit(ip, now)
