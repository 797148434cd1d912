"""The catalogue's hand-written SQL: what a deadline needs of a category, in one statement."""

from __future__ import annotations

from api.core.db import Sql

# A category's rules with the holidays its resolve deadline can cross, from the local date :day
# (parameters: `deadlines.rules_params`; the span is :horizon days + 3 per working day). Every deadline
# reads it (reopen, transfer); submission, which also needs the questions and the photo rule, embeds
# its source in its own first statement.
RULES = Sql(
    """
SELECT c.code, c.active, c.photo_required, c.questions, c.nearby_radius_m,
       c.ack_hours, c.resolve_value, c.resolve_unit,
       CASE WHEN c.resolve_unit = 'days' THEN ARRAY(
           SELECT h.day FROM holidays h
           WHERE h.day BETWEEN CAST(:day AS date)
                           AND CAST(:day AS date) + (CAST(:horizon AS int) + 3 * c.resolve_value)
       ) END AS holidays
FROM categories c WHERE c.code = :category
"""
)
