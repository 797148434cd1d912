"""reports, categories, events, follows (resident reporting)

Revision ID: 0002_reports
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql as pg

revision = "0002_reports"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
UUID = pg.UUID(as_uuid=True)


def _q(key: str, type_: str, vi: str, en: str, required: bool = False, **extra: object) -> dict:
    return {"key": key, "type": type_, "label_vi": vi, "label_en": en, "required": required, **extra}


# code, vi, en, group, icon, photo_required, ack_hours, resolve_value, resolve_unit, radius_m, questions
CATEGORIES = [
    (
        "ngap-nuoc",
        "Ngập nước",
        "Flooding",
        "ha-tang",
        "water",
        False,
        2,
        2,
        "days",
        100,
        [_q("depth_cm", "number", "Độ sâu ước tính (cm)", "Estimated depth (cm)", min=0, max=300)],
    ),
    (
        "rac-thai",
        "Rác thải, vệ sinh môi trường",
        "Rubbish and sanitation",
        "moi-truong",
        "trash",
        True,
        4,
        1,
        "days",
        50,
        [],
    ),
    (
        "den-duong",
        "Đèn đường hỏng",
        "Broken street light",
        "ha-tang",
        "lamp",
        False,
        8,
        3,
        "days",
        50,
        [_q("pole_number", "text", "Số trụ đèn", "Pole number", max_length=40)],
    ),
    ("hu-hong-duong", "Hư hỏng mặt đường", "Road damage", "ha-tang", "road", True, 8, 5, "days", 50, []),
    (
        "lan-chiem-via-he",
        "Lấn chiếm vỉa hè, lòng đường",
        "Pavement encroachment",
        "trat-tu-do-thi",
        "sidewalk",
        True,
        8,
        3,
        "days",
        30,
        [],
    ),
    (
        "xay-dung-trai-phep",
        "Xây dựng trái phép",
        "Illegal construction",
        "trat-tu-do-thi",
        "crane",
        True,
        8,
        7,
        "days",
        50,
        [],
    ),
    (
        "tieng-on",
        "Tiếng ồn",
        "Noise",
        "moi-truong",
        "noise",
        False,
        4,
        2,
        "days",
        100,
        [_q("time_of_day", "choice", "Thời điểm", "Time of day", options=["sang", "chieu", "toi", "dem"])],
    ),
    (
        "cay-gay-do",
        "Cây xanh gãy đổ",
        "Fallen tree",
        "ha-tang",
        "tree",
        False,
        1,
        1,
        "days",
        50,
        [_q("blocking_road", "boolean", "Cản trở giao thông?", "Blocking the road?", required=True)],
    ),
    ("cap-nuoc", "Cấp nước", "Water supply", "dich-vu", "tap", False, 4, 2, "days", 200, []),
    ("mat-dien", "Mất điện", "Power outage", "dich-vu", "power", False, 2, 8, "hours", 300, []),
    (
        "den-giao-thong",
        "Đèn giao thông hỏng",
        "Broken traffic light",
        "ha-tang",
        "traffic-light",
        False,
        1,
        8,
        "hours",
        50,
        [],
    ),
    ("khac", "Khác", "Other", "khac", "other", False, 8, 5, "days", 50, []),
]


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
        sa.Column("group_code", sa.Text),
        sa.Column("icon", sa.Text),
        sa.Column("photo_required", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("questions", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("ack_hours", sa.Integer, nullable=False),
        sa.Column("resolve_value", sa.Integer, nullable=False),
        sa.Column("resolve_unit", sa.Text, nullable=False, server_default="days"),
        sa.Column("nearby_radius_m", sa.Float),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("sort", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("resolve_unit IN ('hours','days')", name="ck_categories_resolve_unit"),
    )
    op.create_table(
        "agencies",
        sa.Column("code", sa.Text, primary_key=True),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
    )
    op.create_table(
        "category_routes",
        sa.Column(
            "category_code", sa.Text, sa.ForeignKey("categories.code", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("area_code", sa.Text, sa.ForeignKey("areas.code", ondelete="CASCADE"), primary_key=True),
        sa.Column("agency_code", sa.Text, sa.ForeignKey("agencies.code", ondelete="CASCADE"), nullable=False),
    )
    op.create_table(
        "user_agencies",
        sa.Column("user_id", UUID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column(
            "agency_code", sa.Text, sa.ForeignKey("agencies.code", ondelete="CASCADE"), primary_key=True
        ),
    )
    op.create_table(
        "holidays",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_table(
        "reports",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("reporter_id", UUID, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("client_id", UUID),
        sa.Column("category_code", sa.Text, sa.ForeignKey("categories.code"), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("answers", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
        sa.Column("accuracy_m", sa.Float),
        sa.Column("ward_code", sa.Text, sa.ForeignKey("areas.code"), nullable=False),
        sa.Column("agency_code", sa.Text, sa.ForeignKey("agencies.code")),
        sa.Column("near_boundary", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("snapped_m", sa.Float),
        sa.Column("status", sa.Text, nullable=False, server_default="new"),
        sa.Column("visibility", sa.Text, nullable=False, server_default="public"),
        sa.Column("anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("assignee_id", UUID, sa.ForeignKey("users.id")),
        sa.Column("duplicate_of", UUID, sa.ForeignKey("reports.id")),
        sa.Column("ack_due_at", TS),
        sa.Column("resolve_due_at", TS),
        sa.Column("acknowledged_at", TS),
        sa.Column("resolved_at", TS),
        sa.Column("closed_at", TS),
        sa.Column("reopen_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("follower_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rating", sa.SmallInteger),
        sa.Column("rating_comment", sa.Text),
        sa.Column("rated_at", TS),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint(
            "status IN ('new','acknowledged','in_progress','resolved','closed','rejected','duplicate')",
            name="ck_reports_status",
        ),
        sa.CheckConstraint(
            "visibility IN ('public','private','pending_review','hidden')", name="ck_reports_visibility"
        ),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="ck_reports_rating"),
        sa.UniqueConstraint("reporter_id", "client_id", name="uq_reports_reporter_client"),
    )
    op.create_index(
        "ix_reports_reporter_created", "reports", ["reporter_id", sa.text("created_at DESC"), "id"]
    )
    op.create_index("ix_reports_ward_status", "reports", ["ward_code", "status"])
    op.create_index("ix_reports_geom", "reports", ["geom"], postgresql_using="gist")
    # metres queries (nearby, near=) go through geography(geom): the index must match that expression
    op.execute("CREATE INDEX ix_reports_geog ON reports USING gist (geography(geom))")
    op.execute("CREATE INDEX ix_reports_search ON reports USING gin (search_text gin_trgm_ops)")
    op.create_index(
        "ix_reports_public_list",
        "reports",
        [sa.text("created_at DESC"), "id"],
        postgresql_where=sa.text("visibility = 'public'"),
    )

    op.create_table(
        "report_events",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("report_id", UUID, sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("actor_id", UUID, sa.ForeignKey("users.id")),
        sa.Column("actor_role", sa.Text),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text),
        sa.Column("public_message", sa.Text),
        sa.Column("internal_note", sa.Text),
        sa.Column("reason", sa.Text),
        sa.Column("data", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("is_public", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.clock_timestamp()),
    )
    op.create_index("ix_report_events_report", "report_events", ["report_id", "created_at"])
    op.create_table(
        "report_follows",
        sa.Column("report_id", UUID, sa.ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("user_id", UUID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_report_follows_user", "report_follows", ["user_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", UUID, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("report_id", UUID, sa.ForeignKey("reports.id", ondelete="CASCADE")),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", pg.JSONB),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
    )

    cats = sa.table(
        "categories",
        *(
            sa.column(c)
            for c in (
                "code",
                "name_vi",
                "name_en",
                "group_code",
                "icon",
                "photo_required",
                "ack_hours",
                "resolve_value",
                "resolve_unit",
                "nearby_radius_m",
                "sort",
            )
        ),
        sa.column("questions", pg.JSONB),
    )
    op.bulk_insert(
        cats,
        [
            dict(
                code=c,
                name_vi=vi,
                name_en=en,
                group_code=g,
                icon=i,
                photo_required=p,
                ack_hours=a,
                resolve_value=rv,
                resolve_unit=ru,
                nearby_radius_m=rad,
                sort=n * 10,
                questions=q,
            )
            for n, (c, vi, en, g, i, p, a, rv, ru, rad, q) in enumerate(CATEGORIES)
        ],
    )
    op.execute(
        "INSERT INTO agencies (code, name_vi, name_en) VALUES "
        "('evn', 'Công ty Điện lực', 'Power company (EVN)'), "
        "('cap-nuoc', 'Công ty Cấp nước', 'Water supply company')"
    )


def downgrade() -> None:
    for t in (
        "idempotency_keys",
        "report_follows",
        "report_events",
        "reports",
        "holidays",
        "user_agencies",
        "category_routes",
        "agencies",
        "categories",
    ):
        op.drop_table(t)
