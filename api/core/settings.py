"""Settings from `PHANANH_*` environment variables, validated once at start-up.

Every field here is listed in the README. A bad value stops the process with a message naming
the variable, instead of failing later somewhere deep in a request.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

PREFIX = "PHANANH_"


class SettingsError(ValueError):
    """A `PHANANH_*` variable is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Settings:
    # --- service ---
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = ""  # links in QR codes and media URLs; defaults to http://host:port
    data_dir: Path = Path(".data")
    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON when stdout is not a terminal
    access_log: bool = True
    # --- database ---
    database_url: str = ""  # empty: the embedded cluster under data_dir/pg
    embedded_pg_port: int = 54329
    # Connections kept per process, and sessions (requests, worker steps) open at once: more wait
    # their turn (api.core.db.Database). Overflow connections serve the rest (a streaming export) and
    # are closed again on return; a new connection is dear (a PostgreSQL backend, PostGIS set-up,
    # every statement prepared again), so the pool is sized for the requests in flight rather than
    # kept small and refilled by overflow.
    db_pool_size: int = 20
    db_max_overflow: int = 10
    # How long a request may wait for one of those sessions (or a lookup its connection) before it is
    # answered 503 `service_busy`: under a stall, a quick refusal the app retries beats a queue.
    db_pool_wait_s: float = 2.0
    # Bounds set on every connection (requests): a statement running longer, or waiting longer for a
    # lock, is cancelled and answered 503 `service_busy`, so one stuck table cannot take every slot.
    db_statement_timeout_ms: int = 5000
    db_lock_timeout_ms: int = 1000
    db_idle_in_transaction_timeout_ms: int = 60000
    # … and for the long roles (exports, the worker's steps), set on their own transactions
    db_long_statement_timeout_ms: int = 600000
    db_long_lock_timeout_ms: int = 10000
    # Retry-After of a 503 while the database is away or busy
    db_retry_after_s: int = 2
    # --- overload ---
    # Work that holds a core for long (argon2 in staff sign-in and password changes, media checks,
    # exports) runs this many at once per process; this many more may wait, the rest get 503 at once.
    hash_concurrency: int = 1
    hash_queue: int = 8
    media_concurrency: int = 2
    media_queue: int = 8
    export_concurrency: int = 2
    # --- HTTP server (phananh serve) ---
    http_max_header_bytes: int = 16384  # the request line and headers together; more: 431
    http_max_headers: int = 100  # header lines; more: 431
    http_header_timeout_s: float = 10.0  # a request's line and headers must arrive within this
    http_body_timeout_s: float = 30.0  # … and its body may pause no longer than this between chunks
    http_keep_alive_s: float = 5.0  # an idle kept-alive connection is closed after this
    # --- auth ---
    jwt_secret: str = ""  # empty: generated once and kept in data_dir/jwt-secret
    access_token_ttl_s: int = 900
    refresh_token_ttl_s: int = 60 * 24 * 3600
    login_max_failures: int = 5  # staff sign-in: wrong passwords in a row before the account is locked
    login_lockout_minutes: int = 15  # … for this long
    # attempts per client address per minute; phones behind one carrier address share them
    register_rate_per_ip_minute: int = 60  # POST /v1/auth/device
    login_rate_per_ip_minute: int = 20  # POST /v1/auth/login
    # --- areas ---
    snap_distance_m: float = 200.0
    near_boundary_m: float = 15.0
    # Ward lookups on the database at once, per process: each on one of the pool's connections, kept for
    # lookups (the pool is this much larger). A few busy connections answer more on two cores than many.
    lookup_connections: int = 2
    # --- reports ---
    report_rate_per_device_hour: int = 30
    report_rate_per_ip_hour: int = 600
    nearby_radius_m: float = 50.0
    nearby_days: int = 30
    edit_window_min: int = 30  # a reporter may fix the text of a new report this long after sending it
    reopen_window_days: int = 14
    auto_close_days: int = 7
    # Personal data of reports closed longer than this is erased by the worker (api/reports/retention.py)
    retention_days: int = 730
    review_alert_min: int = 30  # moderators are told when text has waited for review this long
    timezone: str = "Asia/Ho_Chi_Minh"  # local days and times (api.core.clock)
    # Office hours, local time: the clock of categories that do not run around the clock (deadlines
    # count working time inside these periods, on working days; api.catalogue.deadlines)
    office_hours: str = "07:30-11:30,13:00-17:00"
    office_weekdays: str = "1-5"  # ISO weekdays (1 = Monday): a range or a comma list
    # --- media ---
    media_dir: Path = Path(".data/media")
    media_url_ttl_s: int = 3600
    upload_ttl_s: int = 24 * 3600
    max_photos_per_report: int = 5
    max_videos_per_report: int = 1
    max_photo_bytes: int = 25 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    max_video_seconds: float = 120.0
    max_image_pixels: int = 40_000_000
    media_far_from_report_m: float = 500.0  # staff see a flag when a photo's EXIF position is farther
    max_pending_uploads: int = 20  # per user: declared but not completed
    max_uploads_per_hour: int = 120  # per user
    s3_bucket: str = ""  # set: media goes to S3 instead of media_dir
    s3_endpoint_url: str = ""
    s3_region: str = "ap-southeast-1"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    # --- push ---
    fcm_credentials: str = ""  # path to a service-account JSON; empty: inbox only
    push_max_attempts: int = 8
    push_batch_size: int = 500  # messages per FCM batch (firebase-admin allows at most 500)
    push_lease_s: float = 120.0  # a claimed batch becomes due again after this if its worker died
    push_timeout_s: float = 10.0  # HTTP timeout of one FCM request
    deadline_near_s: int = 7200  # officers are warned this long before a case's deadline
    # --- Open311 ---
    open311_contact: str = ""  # discovery's contact; empty: the service's own address
    open311_fetch_timeout_s: float = 15.0  # a partner's media_url: connect and download within this
    open311_fetch_private: bool = False  # fetch media_url from private/loopback addresses (tests only)
    open311_requests_per_minute: int = 120  # per partner key
    # --- staff console (web/, served at /console/) ---
    console_dir: Path = Path("")  # the built console (web/dist); empty: web/dist beside the api package
    map_style_url: str = (
        ""  # a MapLibre style of a street basemap under the wards; empty: wards only, offline
    )
    # leaders are told of a deadline passed no longer ago than this (older ones, at a first start, are not)
    overdue_notice_window_s: int = 172800
    # --- live queue (server-sent events, api/casework/live.py) ---
    live_streams_max: int = 200  # open streams per API process; one more is 503
    live_keepalive_s: float = 15.0  # a comment this often keeps proxies from closing an idle stream
    stream_ticket_ttl_s: int = 60  # a stream ticket opens a stream within this many seconds
    # --- webhooks out (api/webhooks) ---
    webhook_timeout_s: float = 5.0  # one delivery: connect, send and read the answer within this
    webhook_max_attempts: int = 12  # then the delivery is dead (replayable by an admin)
    webhook_backoff_s: float = 10.0  # the first retry's wait; each next one doubles, at most 6 h
    webhook_allow_private: bool = False  # endpoints on private/loopback addresses (tests, intranets)
    webhook_batch: int = 100  # deliveries claimed per worker round
    due_soon_s: int = 24 * 3600  # the map shows a case as due soon this long before its deadline
    # --- background work ---
    serve_worker: bool = True  # run the background worker inside `phananh serve`
    worker_poll_s: float = 1.0

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def embedded(self) -> bool:
        return not self.database_url

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _parse(name: str, raw: str, typ: Any) -> Any:
    text = raw.strip()
    if typ in (bool, bool | None):
        if typ == bool | None and text == "":
            return None
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{PREFIX}{name.upper()} must be true or false, got {raw!r}")
    if typ is int:
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name.upper()} must be a whole number, got {raw!r}") from None
    if typ is float:
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name.upper()} must be a number, got {raw!r}") from None
    if typ is Path:
        return Path(text)
    return text


def _validate(s: Settings) -> None:
    if not (0 < s.port < 65536):
        raise SettingsError(f"{PREFIX}PORT must be between 1 and 65535, got {s.port}")
    if s.database_url and not s.database_url.startswith(
        ("postgresql://", "postgresql+asyncpg://", "postgres://")
    ):
        raise SettingsError(f"{PREFIX}DATABASE_URL must be a postgresql:// URL, got {s.database_url!r}")
    if s.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"{PREFIX}LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {s.log_level!r}")
    for name in ("snap_distance_m", "near_boundary_m", "nearby_radius_m", "media_far_from_report_m"):
        if getattr(s, name) < 0:
            raise SettingsError(f"{PREFIX}{name.upper()} must not be negative")
    if s.s3_bucket and len(s.s3_bucket) < 3:
        raise SettingsError(f"{PREFIX}S3_BUCKET must have at least 3 characters")
    if s.login_max_failures < 1 or s.login_lockout_minutes < 1:
        raise SettingsError(
            f"{PREFIX}LOGIN_MAX_FAILURES and {PREFIX}LOGIN_LOCKOUT_MINUTES must be at least 1"
        )
    if s.register_rate_per_ip_minute < 1 or s.login_rate_per_ip_minute < 1:
        raise SettingsError(
            f"{PREFIX}REGISTER_RATE_PER_IP_MINUTE and {PREFIX}LOGIN_RATE_PER_IP_MINUTE must be at least 1"
        )
    for name in (
        "db_statement_timeout_ms",
        "db_lock_timeout_ms",
        "db_long_statement_timeout_ms",
        "db_long_lock_timeout_ms",
        "hash_concurrency",
        "media_concurrency",
        "export_concurrency",
        "http_max_header_bytes",
        "http_max_headers",
    ):
        if getattr(s, name) < 1:
            raise SettingsError(f"{PREFIX}{name.upper()} must be at least 1")
    for name in ("db_pool_wait_s", "http_header_timeout_s", "http_body_timeout_s", "http_keep_alive_s"):
        if getattr(s, name) <= 0:
            raise SettingsError(f"{PREFIX}{name.upper()} must be more than 0 (seconds)")
    if s.db_idle_in_transaction_timeout_ms < 0 or s.hash_queue < 0 or s.media_queue < 0:
        raise SettingsError(f"{PREFIX}DB_IDLE_IN_TRANSACTION_TIMEOUT_MS and the queues must not be negative")
    if s.live_streams_max < 1 or s.live_keepalive_s <= 0 or s.stream_ticket_ttl_s < 1:
        raise SettingsError(
            f"{PREFIX}LIVE_STREAMS_MAX, {PREFIX}LIVE_KEEPALIVE_S and {PREFIX}STREAM_TICKET_TTL_S must be positive"
        )
    if s.review_alert_min < 1:
        raise SettingsError(f"{PREFIX}REVIEW_ALERT_MIN must be at least 1 (minutes)")
    if not (1 <= s.push_batch_size <= 500):
        raise SettingsError(f"{PREFIX}PUSH_BATCH_SIZE must be between 1 and 500, got {s.push_batch_size}")
    if s.retention_days <= s.reopen_window_days:
        # a case its reporter may still reopen must keep its reporter
        raise SettingsError(f"{PREFIX}RETENTION_DAYS must be longer than {PREFIX}REOPEN_WINDOW_DAYS")
    if s.push_lease_s <= s.push_timeout_s:
        raise SettingsError(f"{PREFIX}PUSH_LEASE_S must be longer than {PREFIX}PUSH_TIMEOUT_S")
    if s.map_style_url and not s.map_style_url.startswith(("https://", "http://")):
        raise SettingsError(f"{PREFIX}MAP_STYLE_URL must be an http(s):// URL, got {s.map_style_url!r}")
    if s.fcm_credentials and not Path(s.fcm_credentials).is_file():
        raise SettingsError(f"{PREFIX}FCM_CREDENTIALS names {s.fcm_credentials!r}, which is not a file")
    from api.core.clock import zone  # clock reads its default from here

    try:
        zone(s.timezone)
    except ValueError:
        raise SettingsError(f"{PREFIX}TIMEZONE must be an IANA time zone name, got {s.timezone!r}") from None
    from api.core.clock import parse_office_hours

    try:
        parse_office_hours(s.office_hours, s.office_weekdays)
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}OFFICE_HOURS / {PREFIX}OFFICE_WEEKDAYS: {exc}") from None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read and validate settings; raises SettingsError with a message naming the variable."""
    env = dict(os.environ if env is None else env)
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    known = {f.name for f in fields(Settings)}
    for f in fields(Settings):
        raw = env.get(PREFIX + f.name.upper())
        if raw is not None:
            values[f.name] = _parse(f.name, raw, hints[f.name])
    unknown = sorted(k for k in env if k.startswith(PREFIX) and k[len(PREFIX) :].lower() not in known)
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(unknown)} (see README, 'Configuration')")
    if "media_dir" not in values and "data_dir" in values:
        values["media_dir"] = values["data_dir"] / "media"
    settings = Settings(**values)
    _validate(settings)
    return settings


def ensure_jwt_secret(settings: Settings) -> Settings:
    """Production must set PHANANH_JWT_SECRET; the embedded default keeps a generated one on disk."""
    if settings.jwt_secret:
        return settings
    if not settings.embedded:
        raise SettingsError(f"{PREFIX}JWT_SECRET must be set when {PREFIX}DATABASE_URL is set")
    path = settings.data_dir / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return settings.with_(jwt_secret=path.read_text().strip())


__all__ = ["Settings", "SettingsError", "ensure_jwt_secret", "load_settings"]
