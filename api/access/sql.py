"""Hand-written statements of the access side, for the revocation listener's own asyncpg connection
(api/access/revocation.py), where no SQLAlchemy session runs."""

# $1: how far back, in seconds. Older revocations only refuse tokens that have expired anyway.
RECENT_NOT_BEFORE = """
SELECT id, extract(epoch FROM tokens_not_before)::float8
FROM users
WHERE tokens_not_before > now() - make_interval(secs => $1)
"""

PING = "SELECT 1"
