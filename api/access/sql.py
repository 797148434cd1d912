"""Hand-written statements of the access side, for the revocation listener's own asyncpg connection
(api/access/revocation.py), where no SQLAlchemy session runs: `Sql` constants with `:name`
parameters, run there as `stmt.sql` with `stmt.args(params)`."""

from __future__ import annotations

from api.core.db import Sql

# Older revocations only refuse tokens that have expired anyway.
RECENT_NOT_BEFORE = Sql(
    """
SELECT id, CAST(extract(epoch FROM tokens_not_before) AS float8)
FROM users
WHERE tokens_not_before > now() - make_interval(secs => CAST(:window_s AS float8))
"""
)

PING = Sql("SELECT 1")
