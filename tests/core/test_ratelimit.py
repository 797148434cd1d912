"""The in-process rate limits: counting within the window, and forgetting keys gone idle."""

from __future__ import annotations

import pytest

import api.core.ratelimit
from api.core.errors import TooManyRequests
from api.core.ratelimit import ReportLimiter, SlidingWindow


def test_limit_applies_within_the_window_and_lifts_after_it() -> None:
    w = SlidingWindow(2, 60)
    assert w.retry_after("a", 0.0) == 0
    w.hit("a", 0.0)
    w.hit("a", 10.0)
    assert w.retry_after("a", 10.0) == 50  # until the first hit leaves the window
    assert w.retry_after("b", 10.0) == 0  # other keys are not affected
    assert w.retry_after("a", 60.5) == 0


def test_idle_keys_are_dropped_and_live_ones_kept() -> None:
    w = SlidingWindow(3, 60)
    for i in range(1000):
        w.hit(f"idle-{i}", i / 1000)  # all within the first second
    w.hit("busy", 30.0)
    w.hit("busy", 30.5)
    assert len(w) == 1001

    w.hit("newcomer", 61.0)  # a minute later no idle-* key has a hit within the window
    assert len(w) == 2
    # "busy" was kept with its hits: its third hit reaches the limit
    w.hit("busy", 61.0)
    assert w.retry_after("busy", 61.0) == 29
    assert w.retry_after("idle-0", 61.0) == 0


def test_a_stream_of_distinct_keys_keeps_the_table_bounded() -> None:
    w = SlidingWindow(5, 10)
    for t in range(10_000):  # one new key a second, each seen once
        w.hit(f"k{t}", float(t))
        assert len(w) <= 11
    # a key still within the window is remembered and limited as usual
    for _ in range(4):
        w.hit("k9999", 9999.0)
    assert w.retry_after("k9999", 9999.5) == 10


def test_a_limited_key_is_not_forgotten_while_others_come_and_go() -> None:
    w = SlidingWindow(2, 60)
    w.hit("limited", 0.0)
    w.hit("limited", 1.0)
    for t in range(2, 60):
        w.hit(f"other-{t}", float(t))
        assert w.retry_after("limited", float(t)) > 0
    w.hit("other-61", 61.0)  # now both of its hits have left the window: it is forgotten
    assert len(w) == 59  # other-2 … other-59 and other-61
    assert w.retry_after("limited", 61.0) == 0


def test_report_limiter_forgets_idle_devices_and_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(api.core.ratelimit.time, "monotonic", lambda: clock[0])
    limiter = ReportLimiter(per_user_hour=2, per_ip_hour=100)
    for i in range(500):
        limiter.check(f"device-{i}", f"10.0.{i // 250}.{i % 250}")
    assert (len(limiter.per_user), len(limiter.per_ip)) == (500, 500)

    clock[0] += 3601
    limiter.check("device-late", "10.9.9.9")
    assert (len(limiter.per_user), len(limiter.per_ip)) == (1, 1)
    limiter.check("device-late", "10.9.9.9")
    with pytest.raises(TooManyRequests) as exc:
        limiter.check("device-late", "10.9.9.10")
    assert exc.value.headers == {"Retry-After": "3600"}
