"""The staff scope rule — the one rule, used by the workflow, the queue, figures, exports, tiles and
api/reports/access.py — as a SQL condition over `reports r`.

Admins see every report; officers and leaders the reports whose ward has one of their `user_areas`
in its lineage (a leader of a province sees every leaf under it), or whose agency is one of theirs.
Anything else answers 404 as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from api.access.tokens import Principal

# Admins see everything; officers and leaders the leaves under their areas (and their agencies' cases).
SCOPE_SQL = """
(
    :scope_role = 'admin'
    OR EXISTS (
        SELECT 1 FROM areas w JOIN user_areas ua ON ua.area_code = ANY(w.lineage)
        WHERE w.code = r.ward_code AND ua.user_id = :scope_uid
    )
    OR r.agency_code IN (SELECT agency_code FROM user_agencies WHERE user_id = :scope_uid)
)
"""


def scope(principal: Principal) -> tuple[str, dict[str, Any]]:
    """(SQL condition over `r`, its parameters)."""
    return SCOPE_SQL, {"scope_role": principal.role, "scope_uid": principal.id}
