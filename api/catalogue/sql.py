"""The catalogue's hand-written SQL: what a deadline needs of a category and of the admin's calendar."""

from __future__ import annotations

from api.core.db import Sql


def _entries(first: str, last: str) -> str:
    """The admin's calendar entries of each kind between two local dates (SQL expressions):
    `admin_days_off` and `admin_working_days` (arrays), the columns `deadlines.Calendar` reads."""
    return f"""
       ARRAY(SELECT h.day FROM holidays h
             WHERE h.kind = 'day_off' AND h.day BETWEEN {first} AND {last}) AS admin_days_off,
       ARRAY(SELECT h.day FROM holidays h
             WHERE h.kind = 'working_day' AND h.day BETWEEN {first} AND {last}) AS admin_working_days"""


_RULES_SPAN = _entries(
    "CAST(:day AS date)", "CAST(:day AS date) + (CAST(:horizon AS int) + 2 * (c.ack_hours + c.resolve_value))"
)

# A category's rules with the admin's calendar entries its deadlines can cross, from the local date
# :day (parameters: `deadlines.rules_params`; the span is :horizon days plus two per hour or day
# asked, ample for office hours). Every deadline reads it (reopen, transfer); submission, which also
# needs the questions and the photo rule, embeds its source in its own first statement.
RULES = Sql(
    f"""
SELECT c.code, c.active, c.photo_required, c.questions, c.nearby_radius_m,
       c.ack_hours, c.resolve_value, c.resolve_unit, c.clock,{_RULES_SPAN}
FROM categories c WHERE c.code = :category
"""
)

# The admin's entries between the local dates :first and :last (inclusive).
ADMIN_CALENDAR = Sql(f"SELECT{_entries('CAST(:first AS date)', 'CAST(:last AS date)')}")
