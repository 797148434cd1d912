"""What partners send through Open311: service requests, updates to them, and tokens.

A partner's request goes through the app's own submission (`api.reports.service.submit`): the same ward
assignment, category questions, screening, masking, deadlines and idempotency as the app's. The
person behind it becomes a resident of the partner's own (found again by email, device id or phone),
and the report is always filed as anonymous: what a partner sends about a person is never published.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

import geo
from api.access.models import User
from api.access.tokens import Principal
from api.catalogue.models import Category
from api.core.errors import AppError
from api.core.media import config_for
from api.core.ratelimit import Limit
from api.core.settings import Settings
from api.core.status import CLOSED
from api.core.text import nfc
from api.open311 import fetch
from api.open311.models import ApiKey, PartnerReporter, PartnerSubmission
from api.open311.service import Open311Error, service_notice, w3c
from api.reports import events
from api.reports import sql as reports_sql
from api.reports.models import Report, ReportAsR, ReportEvent
from api.reports.schemas import ReportIn
from api.reports.service import submit
from api.reports.views import public_event_text

MAX_DESCRIPTION = 4000  # the spec's limit
MAX_FIELD = 200  # names, phone, email, device id, address_string


@dataclass(frozen=True, slots=True)
class Form:
    """A form's fields: the first value of each, and every value of the repeatable ones."""

    first: dict[str, str]
    all: dict[str, list[str]]

    def get(self, name: str) -> str | None:
        value = self.first.get(name)
        return value.strip() if value is not None and value.strip() else None


def _text(form: Form, name: str, limit: int = MAX_FIELD) -> str | None:
    value = nfc(form.get(name))
    if value is not None and len(value) > limit:
        raise Open311Error(400, f"{name} is longer than {limit} characters.")
    return value


def _number(form: Form, name: str) -> float | None:
    raw = form.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise Open311Error(400, f"{name} must be a number.")
    return value


def _answers(form: Form, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """`attribute[code]` and `attribute[code][]` as answers typed by the category's questions."""
    kinds = {q["key"]: q.get("type", "text") for q in questions}
    answers: dict[str, Any] = {}
    for name, values in form.all.items():
        if not name.startswith("attribute[") or not values:
            continue
        code = name[len("attribute[") :].removesuffix("[]").removesuffix("]")
        if name.endswith("[]"):
            answers[code] = values  # a multi-value list: the category's checks refuse it where single
            continue
        raw = values[0].strip()
        kind = kinds.get(code)
        if kind == "number":
            try:
                answers[code] = int(raw) if raw.lstrip("-").isdigit() else float(raw)
            except ValueError:
                answers[code] = raw  # refused below, by the category's checks, with the field named
        elif kind == "boolean":
            answers[code] = {"true": True, "false": False}.get(raw.lower(), raw)
        else:
            answers[code] = raw
    return answers


def _contact_hash(form: Form) -> tuple[bytes, str | None]:
    """Who the partner says sent it: by email, device id or phone; the partner's anonymous otherwise."""
    email = (form.get("email") or "").lower() or None
    for kind, value in (("email", email), ("device", form.get("device_id")), ("phone", form.get("phone"))):
        if value:
            return hashlib.sha256(f"{kind}:{value}".encode()).digest(), email
    return hashlib.sha256(b"anonymous").digest(), None


async def _reporter(session: AsyncSession, key: ApiKey, form: Form) -> uuid.UUID:
    """The partner's resident for this contact, created on first sight (two at once make one)."""
    contact, email = _contact_hash(form)
    found = await session.scalar(
        select(PartnerReporter.user_id).where(
            PartnerReporter.api_key_id == key.id, PartnerReporter.contact_hash == contact
        )
    )
    if found is not None:
        return found
    names = " ".join(n for n in (_text(form, "first_name"), _text(form, "last_name")) if n) or None
    user = User(role="resident", display_name=names, phone=_text(form, "phone"))
    session.add(user)
    await session.flush()
    claimed = await session.scalar(
        insert(PartnerReporter)
        .values(api_key_id=key.id, contact_hash=contact, user_id=user.id, email=email)
        .on_conflict_do_nothing()
        .returning(PartnerReporter.user_id)
    )
    if claimed is None:  # another request made them first
        await session.delete(user)
        claimed = await session.scalar(
            select(PartnerReporter.user_id).where(
                PartnerReporter.api_key_id == key.id, PartnerReporter.contact_hash == contact
            )
        )
    await session.commit()
    assert claimed is not None
    return claimed


def _idempotency(key: ApiKey, form: Form, header: str | None) -> str:
    """Per key: the partner's Idempotency-Key, or the form itself (the same form sent again is a retry)."""
    if header:
        if len(header) > 128:
            raise Open311Error(400, "Idempotency-Key is longer than 128 characters.")
        return f"open311:{key.id}:{header}"
    canonical = sorted((k, v) for k, values in form.all.items() if k != "api_key" for v in values)
    return f"open311:{key.id}:" + hashlib.sha256(msgspec.json.encode(canonical)).hexdigest()


def _open311_error(exc: AppError, english: bool) -> Open311Error:
    """The app's refusal in Open311's terms: an unknown category is its 404, the rest a 400."""
    status = 404 if exc.code == "unknown_category" else 400
    return Open311Error(status, exc.message if english else exc.message_vi)


def token_for(key_id: uuid.UUID, report_id: uuid.UUID) -> str:
    """The same token for the same submission, however often it is answered."""
    return "tk_" + hashlib.sha256(f"{key_id}:{report_id}".encode()).hexdigest()[:32]


async def create_request(
    session: AsyncSession,
    settings: Settings,
    key: ApiKey,
    form: Form,
    *,
    idempotency_key: str | None,
    lineage_cache: geo.LineageCache,
    english: bool,
    limits: Sequence[tuple[Limit, str]] = (),
) -> list[dict[str, Any]]:
    """POST requests: the spec's answer, `[{service_request_id | token, service_notice, account_id}]`."""
    code = form.get("service_code")
    if code is None:
        raise Open311Error(400, "service_code is required.")
    category = await session.get(Category, code)
    if category is None or not category.active:
        raise Open311Error(404, f"Unknown service_code {code!r}.")
    lat, lng = _number(form, "lat"), _number(form, "long")
    if lat is None or lng is None:
        if form.get("address_string") or form.get("address_id"):
            raise Open311Error(
                400,
                "lat and long are required: this server does not geocode addresses "
                "(send the position with address_string as its description).",
            )
        raise Open311Error(400, "lat and long are required.")
    description = _text(form, "description", MAX_DESCRIPTION)
    if description is None:
        raise Open311Error(400, "description is required.")
    address = _text(form, "address_string", MAX_FIELD)
    answers = _answers(form, category.questions or [])
    idem = _idempotency(key, form, idempotency_key)
    reporter = await _reporter(session, key, form)
    media_ids: list[uuid.UUID] = []
    if (url := form.get("media_url")) is not None:
        media_ids.append(await fetch.fetch_photo(session, settings, config_for(settings), url, reporter))
    try:
        data = ReportIn(
            category=code,
            description=description,
            lat=lat,
            lng=lng,
            address=address,
            answers=answers,
            media_ids=media_ids,
            anonymous=True,
        )
        data = msgspec.convert(msgspec.to_builtins(data), ReportIn)  # the struct's own limits (lat, lng)
    except msgspec.ValidationError as exc:
        raise Open311Error(400, f"Invalid request: {exc}.") from None
    try:
        outcome = await submit(
            session,
            settings,
            Principal(reporter, "resident"),
            data,
            idempotency_key=idem,
            lineage_cache=lineage_cache,
            limits=limits,
            max_description=MAX_DESCRIPTION,
        )
    except AppError as exc:
        raise _open311_error(exc, english) from None
    created = outcome.created()
    await session.execute(
        insert(PartnerSubmission)
        .values(token=token_for(key.id, created.id), api_key_id=key.id, report_id=created.id)
        .on_conflict_do_nothing()
    )
    await session.commit()
    notice = service_notice(category.ack_hours, category.resolve_value, category.resolve_unit, english)
    if created.visibility != "public":
        # held for a moderator: not public yet, so no id to look up; the token will resolve to it
        return [{"token": token_for(key.id, created.id), "service_notice": notice}]
    return [{"service_request_id": created.code, "service_notice": notice, "account_id": None}]


async def resolve_token(session: AsyncSession, token: str) -> list[dict[str, Any]]:
    """GET tokens/{token}: the request it became, once public (an empty id until then)."""
    row = (
        await session.execute(
            select(Report.code, Report.visibility)
            .join(PartnerSubmission, PartnerSubmission.report_id == Report.id)
            .where(PartnerSubmission.token == token)
        )
    ).first()
    if row is None:
        raise Open311Error(404, f"No such token {token!r}.")
    return [{"token": token, "service_request_id": row.code if row.visibility == "public" else ""}]


# our statuses → mySociety's update statuses (FixMyStreet's Open311 client reads these)
_UPDATE_STATUS = {
    "new": "open",
    "acknowledged": "investigating",
    "in_progress": "in_progress",
    "resolved": "fixed",
    "closed": "closed",
    "rejected": "no_further_action",
    "duplicate": "duplicate",
}


async def updates(
    session: AsyncSession, *, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """mySociety's `servicerequestupdates`: the public events of public reports in a time window."""
    r, e = ReportAsR, ReportEvent
    stmt = (
        select(
            e.id,
            e.kind,
            e.to_status,
            e.public_message,
            e.reason,
            e.text_status,
            e.created_at,
            r.code,
            r.status,
        )
        .join(r, r.id == e.report_id)
        .where(reports_sql.PUBLIC, e.is_public, e.kind != "created")
        .order_by(e.created_at, e.id)
        .limit(1000)
    )
    if start:
        stmt = stmt.where(e.created_at >= start)
    if end:
        stmt = stmt.where(e.created_at <= end)
    out = []
    for row in await session.execute(stmt):
        message, _ = public_event_text(row.public_message, row.reason, row.text_status)
        status = row.to_status or row.status
        out.append(
            {
                "update_id": str(row.id),
                "service_request_id": row.code,
                "status": _UPDATE_STATUS.get(status, "closed" if status in CLOSED else "open"),
                "updated_datetime": w3c(row.created_at),
                "description": message or "",
                "media_url": "",
            }
        )
    return out


async def post_update(session: AsyncSession, key: ApiKey, form: Form) -> list[dict[str, Any]]:
    """A partner adds a public update (a resident's comment through it) to a request it filed. The
    text is screened like every resident's (`events.new_event`: it may wait for a moderator)."""
    code = form.get("service_request_id")
    description = _text(form, "description", MAX_DESCRIPTION)
    if code is None or description is None:
        raise Open311Error(400, "service_request_id and description are required.")
    report = (
        await session.execute(
            select(Report)
            .join(PartnerSubmission, PartnerSubmission.report_id == Report.id)
            .where(Report.code == code.upper(), PartnerSubmission.api_key_id == key.id)
        )
    ).scalar_one_or_none()
    if report is None:
        raise Open311Error(404, f"No request {code!r} filed with this key.")
    reporter = await _reporter(session, key, form)
    event = await events.append_event(
        session,
        report.id,
        "commented",
        actor_id=reporter,
        actor_role="resident",
        public_message=description,
        data={"via": "open311", "partner": key.name},
    )
    await session.commit()
    return [{"update_id": str(event.id)}]
