"""report counts: the map's clusters below the cluster zoom, kept by triggers on reports

Revision ID: 0017_report_counts
Revises: 0016_webhooks

`report_counts` holds the number of reports per (ward, agency, category, status, local day of
creation, hour of the next deadline): every filter of the map and the scope rule's two dimensions
(ward, agency); `report_ward_counts` the same per (ward, agency, deadline hour), for the map without
filters. Triggers on `reports` keep both in the same transaction as the change (a statement trigger
for INSERT and DELETE, one grouped UPSERT however many rows; a row trigger for an UPDATE that moves a
key), so they cannot drift. `ward_points` is one fixed point inside each ward
(ST_PointOnSurface), kept by a trigger on `areas`: a ward's clusters are drawn there, in one tile per
zoom. Both are backfilled here.

Each key is split over `SHARDS` rows by the report's id (`shard`): the counts are locked until the
transaction that changed them commits, so without shards every submission in one ward and deadline hour
would wait for the one before it. Readers sum over the shards.
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0017_report_counts"
down_revision = "0016_webhooks"
branch_labels = None
depends_on = None

# Frozen copies of the app's definitions at this revision: the local zone of `created_day`
# (api.casework.sql.COUNTS_ZONE) and the next deadline (api.casework.sql._DUE).
ZONE = "Asia/Ho_Chi_Minh"
DUE = (
    "(CASE WHEN r.status = 'new' THEN LEAST(r.ack_due_at, r.resolve_due_at) "
    "WHEN r.status IN ('acknowledged', 'in_progress') THEN r.resolve_due_at END)"
)
# The key of a report aliased `r`: its shard, then no agency is '', no deadline is 'infinity' (key
# columns are NOT NULL, so that the primary key is the UPSERT's conflict target). A report keeps its
# shard (its id does not change), so an update takes from and adds to the same shard.
SHARDS = 8
SHARD = f"(hashtext(CAST(r.id AS text)) & {SHARDS - 1})"
KEY = (
    f"{SHARD}, r.ward_code, COALESCE(r.agency_code, ''), r.category_code, r.status, "
    f"CAST(r.created_at AT TIME ZONE '{ZONE}' AS date), "
    f"COALESCE(date_trunc('hour', {DUE}, 'UTC'), CAST('infinity' AS timestamptz))"
)
COLUMNS = "shard, ward_code, agency_code, category_code, status, created_day, due_hour"
# The same rolled up per ward, agency and deadline hour, with the open ones: what the map sums when no
# filter asks for a category, a status or a date (a few hundred rows a ward rather than one a report).
WARD_KEY = (
    f"{SHARD}, r.ward_code, COALESCE(r.agency_code, ''), "
    f"COALESCE(date_trunc('hour', {DUE}, 'UTC'), CAST('infinity' AS timestamptz))"
)
WARD_COLUMNS = "shard, ward_code, agency_code, due_hour"
OPEN = "r.status IN ('new', 'acknowledged', 'in_progress', 'on_hold')"


def _upsert(sign: str, rows: str) -> str:
    return f"""
    INSERT INTO report_counts AS c ({COLUMNS}, n)
    SELECT {KEY}, {sign}count(*) FROM {rows} GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ({COLUMNS}) DO UPDATE SET n = c.n + EXCLUDED.n;
    INSERT INTO report_ward_counts AS c ({WARD_COLUMNS}, n, open_n)
    SELECT {WARD_KEY}, {sign}count(*), {sign}count(*) FILTER (WHERE {OPEN}) FROM {rows} GROUP BY 1, 2, 3, 4
    ON CONFLICT ({WARD_COLUMNS}) DO UPDATE SET n = c.n + EXCLUDED.n, open_n = c.open_n + EXCLUDED.open_n"""


def _drop_zeros(rows: str) -> str:
    return f"""
    DELETE FROM report_counts c WHERE c.n = 0 AND ({COLUMNS}) IN (SELECT {KEY} FROM {rows});
    DELETE FROM report_ward_counts c WHERE c.n = 0 AND ({WARD_COLUMNS}) IN (SELECT {WARD_KEY} FROM {rows})"""


FUNCTIONS = (
    f"""
CREATE FUNCTION phananh_report_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert("", "new_rows r")};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION phananh_report_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert("-", "old_rows r")};
    {_drop_zeros("old_rows r")};
    RETURN NULL;
END $$""",
    f"""
CREATE FUNCTION phananh_report_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert("-", "(SELECT OLD.*) r")};
    {_drop_zeros("(SELECT OLD.*) r")};
    {_upsert("", "(SELECT NEW.*) r")};
    RETURN NULL;
END $$""",
    """
CREATE FUNCTION phananh_ward_point() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.is_leaf AND NEW.geom IS NOT NULL THEN
        INSERT INTO ward_points (ward_code, geom) VALUES (NEW.code, ST_PointOnSurface(NEW.geom))
        ON CONFLICT (ward_code) DO UPDATE SET geom = EXCLUDED.geom;
    ELSE
        DELETE FROM ward_points WHERE ward_code = NEW.code;
    END IF;
    RETURN NULL;
END $$""",
)

# the columns that make a report's key
KEY_COLUMNS = (
    "ward_code",
    "agency_code",
    "category_code",
    "status",
    "created_at",
    "ack_due_at",
    "resolve_due_at",
)
_MOVED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in KEY_COLUMNS)

TRIGGERS = (
    "CREATE TRIGGER tr_reports_counts_insert AFTER INSERT ON reports REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION phananh_report_counts_insert()",
    "CREATE TRIGGER tr_reports_counts_delete AFTER DELETE ON reports REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION phananh_report_counts_delete()",
    f"CREATE TRIGGER tr_reports_counts_update AFTER UPDATE OF {', '.join(KEY_COLUMNS)} ON reports "
    f"FOR EACH ROW WHEN ({_MOVED}) EXECUTE FUNCTION phananh_report_counts_update()",
    "CREATE TRIGGER tr_areas_ward_point AFTER INSERT OR UPDATE OF geom, is_leaf ON areas "
    "FOR EACH ROW EXECUTE FUNCTION phananh_ward_point()",
)


def upgrade() -> None:
    op.create_table(
        "report_counts",
        sa.Column("shard", sa.SmallInteger, primary_key=True),
        sa.Column("ward_code", sa.Text, primary_key=True),
        sa.Column("agency_code", sa.Text, primary_key=True),
        sa.Column("category_code", sa.Text, primary_key=True),
        sa.Column("status", sa.Text, primary_key=True),
        sa.Column("created_day", sa.Date, primary_key=True),
        sa.Column("due_hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table(
        "report_ward_counts",
        sa.Column("shard", sa.SmallInteger, primary_key=True),
        sa.Column("ward_code", sa.Text, primary_key=True),
        sa.Column("agency_code", sa.Text, primary_key=True),
        sa.Column("due_hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("open_n", sa.Integer, nullable=False),
    )
    op.create_table(
        "ward_points",
        sa.Column("ward_code", sa.Text, sa.ForeignKey("areas.code", ondelete="CASCADE"), primary_key=True),
        sa.Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    )
    op.create_index("ix_ward_points_geom", "ward_points", ["geom"], postgresql_using="gist")
    for function in FUNCTIONS:
        op.execute(function)
    for trigger in TRIGGERS:
        op.execute(trigger)
    op.execute(
        "INSERT INTO ward_points (ward_code, geom) SELECT code, ST_PointOnSurface(geom) FROM areas "
        "WHERE is_leaf AND geom IS NOT NULL"
    )
    for statement in _upsert("", "reports r").split(";"):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS tr_areas_ward_point ON areas")
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS tr_reports_counts_{name} ON reports")
        op.execute(f"DROP FUNCTION IF EXISTS phananh_report_counts_{name}()")
    op.execute("DROP FUNCTION IF EXISTS phananh_ward_point()")
    op.drop_table("ward_points")
    op.drop_table("report_ward_counts")
    op.drop_table("report_counts")
