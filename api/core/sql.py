"""The shell's hand-written SQL: the long role's bounds, and the shared rate-limit counters
(`api.core.ratelimit`)."""

from __future__ import annotations

from sqlalchemy import text

from api.core.db import Sql

# The long role's bounds (exports, the worker's steps), for the rest of the transaction only.
RAISE_BOUNDS = text(
    "SELECT set_config('statement_timeout', :statement_timeout, true), "
    "set_config('lock_timeout', :lock_timeout, true)"
)


def counting(condition: str) -> str:
    """CTEs `rate_hits` (one hit on each counter of `ratelimit.hit_params`, when `condition` holds) and
    `rate_totals` (`rate_keys`, `rate_totals`: each key's hits in its window, all shards, by key), to
    embed in a statement. For composing statements at import."""
    return f"""
rate_hits AS (
    INSERT INTO rate_counters AS c (key, window_start, shard, hits, expires_at)
    SELECT u.key, u.window_start, u.shard, 1, u.expires_at
    FROM unnest(CAST(:rate_keys AS text[]), CAST(:rate_windows AS bigint[]),
                CAST(:rate_shards AS smallint[]), CAST(:rate_expires AS timestamptz[]))
         AS u(key, window_start, shard, expires_at)
    WHERE {condition}
    ON CONFLICT (key, window_start, shard) DO UPDATE SET hits = c.hits + 1
    RETURNING c.key, c.window_start, c.shard, c.hits
),
rate_totals AS (
    SELECT array_agg(h.key ORDER BY h.key) AS rate_keys,
           array_agg(h.hits + coalesce((
               SELECT sum(o.hits) FROM rate_counters o
               WHERE o.key = h.key AND o.window_start = h.window_start AND o.shard <> h.shard
           ), 0) ORDER BY h.key) AS rate_totals
    FROM rate_hits h
)"""


# One hit on each counter, on its own.
HIT = Sql("WITH " + counting("true") + "\nSELECT rate_keys, rate_totals FROM rate_totals")

# Counters of windows gone by, a batch at a time (by the index on expires_at).
PRUNE = Sql(
    """
WITH gone AS (
    DELETE FROM rate_counters WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM rate_counters WHERE expires_at < now() ORDER BY expires_at LIMIT :batch
    ))
    RETURNING 1
)
SELECT count(*) FROM gone"""
)
