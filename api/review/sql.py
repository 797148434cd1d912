"""Moderation review's hand-written SQL: which reports a reviewer may see."""

from __future__ import annotations

from sqlalchemy import text

# A condition over `reports r` (`api.reports.models.ReportAsR`), parameters :role and :uid: admins and
# moderators without areas or agencies see every report, others those of their areas and agencies.
SCOPE = text(
    """
(
    :role = 'admin'
    OR (
        :role = 'moderator'
        AND NOT EXISTS (SELECT 1 FROM user_areas WHERE user_id = :uid)
        AND NOT EXISTS (SELECT 1 FROM user_agencies WHERE user_id = :uid)
    )
    OR EXISTS (
        SELECT 1 FROM areas w JOIN user_areas ua ON ua.area_code = ANY(w.lineage)
        WHERE w.code = r.ward_code AND ua.user_id = :uid
    )
    OR r.agency_code IN (SELECT agency_code FROM user_agencies WHERE user_id = :uid)
)
"""
)
