"""faces and plates hidden in public renditions; perceptual hashes and photos seen on other reports

Revision ID: 0011_media_blur
Revises: 0010_safety

`blur_boxes` is what the public renditions hide (NULL: not looked for yet), `blur_requested_at` says
the worker is to make them again (a moderator changed the boxes). Photos and posters processed before
this revision have unblurred public renditions: they are all queued, and stay out of public view
until the worker has looked for faces and plates in them. `media_matches` pairs photos whose
perceptual hashes (`phash`) are near.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0011_media_blur"
down_revision = "0010_safety"
branch_labels = None
depends_on = None

UUID = pg.UUID(as_uuid=True)


def upgrade() -> None:
    op.add_column("media", sa.Column("blur_boxes", pg.JSONB))
    op.add_column("media", sa.Column("blur_requested_at", sa.DateTime(timezone=True)))
    op.add_column("media", sa.Column("phash", sa.BigInteger))
    op.create_index(
        "ix_media_blur_due",
        "media",
        [sa.text("coalesce(lease_until, blur_requested_at)")],
        postgresql_where=sa.text("status = 'ready' AND blur_requested_at IS NOT NULL"),
    )
    op.execute("UPDATE media SET blur_requested_at = now() WHERE status = 'ready'")
    op.create_table(
        "media_matches",
        sa.Column("media_id", UUID, sa.ForeignKey("media.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("other_id", UUID, sa.ForeignKey("media.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("distance", sa.SmallInteger, nullable=False),
        sa.CheckConstraint("media_id < other_id", name="ck_media_matches_order"),
    )
    op.create_index("ix_media_matches_other", "media_matches", ["other_id"])


def downgrade() -> None:
    op.drop_table("media_matches")
    op.drop_index("ix_media_blur_due", "media")
    op.drop_column("media", "phash")
    op.drop_column("media", "blur_requested_at")
    op.drop_column("media", "blur_boxes")
