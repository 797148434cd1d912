"""labels for the answers of choice questions

Revision ID: 0018_choice_labels
Revises: 0017_report_counts

A choice question kept only its values (`options`: "sang", "chieu"…), which apps showed as they are.
Each choice question now also has `choices`: value and label in Vietnamese and English. The seeded
questions get their real labels; any other gets each value as its own label until an admin sets them.
Answers are still given by value.
"""

import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0018_choice_labels"
down_revision = "0017_report_counts"
branch_labels = None
depends_on = None

# (category, question) → value → (Vietnamese, English)
LABELS = {
    ("tieng-on", "time_of_day"): {
        "sang": ("Buổi sáng", "Morning"),
        "chieu": ("Buổi chiều", "Afternoon"),
        "toi": ("Buổi tối", "Evening"),
        "dem": ("Ban đêm", "Night"),
    },
}


def _rewrite(change: Callable[[str, dict], dict]) -> None:
    conn = op.get_bind()
    for code, questions in conn.execute(sa.text("SELECT code, questions FROM categories")).all():
        new = [change(code, dict(q)) for q in questions or []]
        if new != questions:
            conn.execute(
                sa.text("UPDATE categories SET questions = CAST(:q AS jsonb) WHERE code = :c"),
                {"q": json.dumps(new, ensure_ascii=False), "c": code},
            )


def upgrade() -> None:
    def label(code: str, q: dict) -> dict:
        if q.get("type") != "choice" or q.get("choices"):
            return q
        known = LABELS.get((code, str(q.get("key"))), {})
        q["choices"] = [
            {"value": v, "label": dict(zip(("vi", "en"), known.get(v, (v, v)), strict=True))}
            for v in q.get("options") or []
        ]
        return q

    _rewrite(label)


def downgrade() -> None:
    def unlabel(code: str, q: dict) -> dict:
        q.pop("choices", None)
        return q

    _rewrite(unlabel)
