"""The outbox delivered through the real firebase-admin code to a local fake FCM."""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from firebase_admin import exceptions
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import push
from api.core.db import Database, make_engine
from push import FcmSender, Text
from push.fcm import classify
from tests.factories import resident
from tests.support.fake_fcm import Error, FakeFcm, Ok, Slow

TEXTS = {
    "vi": Text("Đã tiếp nhận", "Phản ánh PA-TEST-0001 đã được tiếp nhận."),
    "en": Text("Received", "Got it."),
}


async def outbox(session: AsyncSession) -> list[dict[str, object]]:
    rows = await session.execute(
        text(
            "SELECT token, status, attempts, last_error, message_id, "
            "EXTRACT(EPOCH FROM due_at - now()) AS due_in FROM push_outbox ORDER BY id"
        )
    )
    return [dict(r._mapping) for r in rows]


async def make_due(session: AsyncSession) -> None:
    """Stand in for time passing: every pending row is due now."""
    await session.execute(text("UPDATE push_outbox SET due_at = now() WHERE status = 'pending'"))
    await session.commit()


async def devices_of(session: AsyncSession, user_id: uuid.UUID, *tokens_locales: tuple[str, str]) -> None:
    for token, locale in tokens_locales:
        await push.register_device(session, user_id=user_id, token=token, platform="android", locale=locale)


async def test_sends_localised_push_with_data_and_marks_sent(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-vi", "vi"), ("tok-en", "en-US"))
    ids = await push.notify(
        session,
        user_ids=[uid],
        kind="resolved",
        texts=TEXTS,
        report_code="PA-TEST-0001",
        data={"status": "resolved"},
    )
    await session.commit()
    assert len(ids) == 1

    stats = await push.deliver_due(database.session, sender)
    assert (stats.claimed, stats.sent) == (2, 2)
    by_token = {m["token"]: m for m in fake_fcm.delivered}
    assert by_token["tok-vi"]["notification"] == {"title": "Đã tiếp nhận", "body": TEXTS["vi"].body}
    assert by_token["tok-en"]["notification"]["title"] == "Received"
    data = by_token["tok-vi"]["data"]
    assert data["report_code"] == "PA-TEST-0001" and data["status"] == "resolved"
    assert data["kind"] == "resolved" and data["notification_id"] == str(ids[0])
    rows = await outbox(session)
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert all(str(r["message_id"]).startswith("projects/phananh-test/messages/") for r in rows)
    # nothing left to do: a second round claims nothing and sends nothing
    again = await push.deliver_due(database.session, sender)
    assert again.claimed == 0 and len(fake_fcm.delivered) == 2
    assert fake_fcm.unauthorised == 0 and fake_fcm.token_requests >= 1


async def test_unregistered_and_sender_mismatch_prune_the_device(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-gone", "vi"), ("tok-other-project", "vi"), ("tok-ok", "vi"))
    fake_fcm.script("tok-gone", Error(404, "UNREGISTERED"))
    fake_fcm.script("tok-other-project", Error(403, "SENDER_ID_MISMATCH"))
    for _ in range(2):
        await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS, report_code="PA-TEST-0001")
    await session.commit()

    # one per round so the second notification's rows are still pending when the token dies
    stats = await push.deliver_due(database.session, sender, batch_size=3)
    assert (stats.sent, stats.failed, stats.pruned) == (1, 2, 2)
    tokens = {d.token for d in await push.list_devices(session, uid)}
    assert tokens == {"tok-ok"}
    await push.deliver_due(database.session, sender)
    rows = await outbox(session)
    statuses = sorted((r["token"], r["status"]) for r in rows)
    assert statuses == [
        ("tok-gone", "failed"),
        ("tok-gone", "skipped"),
        ("tok-ok", "sent"),
        ("tok-ok", "sent"),
        ("tok-other-project", "failed"),
        ("tok-other-project", "skipped"),
    ]
    assert any("Unregistered" in str(r["last_error"]) for r in rows)
    assert fake_fcm.delivered_tokens() == ["tok-ok", "tok-ok"]


async def test_invalid_argument_for_a_bad_registration_token_drops_the_device(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-garbled", "vi"), ("tok-ok", "vi"))
    # what FCM answers for a token that is not one of its registration tokens at all
    fake_fcm.script(
        "tok-garbled",
        Error(
            400, "INVALID_ARGUMENT", message="The registration token is not a valid FCM registration token"
        ),
    )
    for _ in range(2):
        await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS)
    await session.commit()

    stats = await push.deliver_due(database.session, sender, batch_size=2)  # the first notification
    assert (stats.sent, stats.failed, stats.retried, stats.pruned) == (1, 1, 0, 1)
    assert {d.token for d in await push.list_devices(session, uid)} == {"tok-ok"}
    await push.deliver_due(database.session, sender)
    rows = await outbox(session)
    assert sorted((r["token"], r["status"], r["attempts"]) for r in rows) == [
        ("tok-garbled", "failed", 1),
        ("tok-garbled", "skipped", 0),  # never sent: the device was dropped first
        ("tok-ok", "sent", 1),
        ("tok-ok", "sent", 1),
    ]
    [failed] = [r for r in rows if r["status"] == "failed"]
    assert "InvalidArgumentError" in str(failed["last_error"]) and "registration token" in str(
        failed["last_error"]
    )
    assert fake_fcm.requests == 3 and fake_fcm.delivered_tokens() == ["tok-ok", "tok-ok"]


async def test_invalid_argument_about_the_message_fails_it_and_keeps_the_device(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-1", "vi"))
    fake_fcm.script(
        "tok-1", Error(400, "INVALID_ARGUMENT", message="Invalid value at 'message.data[0].value'"), Ok()
    )
    await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS)
    await session.commit()

    stats = await push.deliver_due(database.session, sender)
    assert (stats.failed, stats.retried, stats.pruned) == (1, 0, 0)
    [row] = await outbox(session)
    assert row["status"] == "failed" and "InvalidArgumentError" in str(row["last_error"])
    await make_due(session)
    assert (await push.deliver_due(database.session, sender)).claimed == 0  # not retried
    assert [d.token for d in await push.list_devices(session, uid)] == ["tok-1"]
    await push.notify(session, user_ids=[uid], kind="resolved", texts=TEXTS)  # the device still gets pushes
    await session.commit()
    assert (await push.deliver_due(database.session, sender)).sent == 1


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


async def test_retry_after_as_an_http_date_is_honoured(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-429", "vi"), ("tok-503", "vi"), ("tok-past", "vi"))
    fake_fcm.script("tok-429", Error(429, "QUOTA_EXCEEDED", retry_after=http_date(300)))
    fake_fcm.script("tok-503", Error(503, retry_after=http_date(120)))
    fake_fcm.script("tok-past", Error(503, retry_after=http_date(-60)))  # already gone by
    await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS)
    await session.commit()

    stats = await push.deliver_due(database.session, sender)
    assert (stats.sent, stats.retried) == (0, 3)
    due_in = {r["token"]: float(r["due_in"]) for r in await outbox(session)}  # type: ignore[arg-type]
    # an HTTP date has whole seconds; a round takes well under 5 s; backoff alone would be ≤ 1 s
    assert 295 < due_in["tok-429"] <= 300.5
    assert 115 < due_in["tok-503"] <= 120.5
    assert 0 < due_in["tok-past"] <= 1.0
    assert fake_fcm.requests == 3


@pytest.fixture
def vietnam_local_time() -> Iterator[None]:
    """Local time UTC+7 (POSIX rule: no tz database needed), as on a server in Vietnam."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "ICT-7"
    time.tzset()
    try:
        assert time.localtime().tm_gmtoff == 7 * 3600
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.mark.parametrize(
    "form",
    [
        "%a, %d %b %Y %H:%M:%S GMT",  # IMF-fixdate, what servers send
        "%A, %d-%b-%y %H:%M:%S GMT",  # RFC 850, obsolete but to be accepted
        "%a %b %e %H:%M:%S %Y",  # asctime: no zone written, and it means GMT
    ],
)
def test_retry_after_dates_in_every_http_form_are_gmt(form: str, vietnam_local_time: None) -> None:
    value = time.strftime(form, time.gmtime(time.time() + 600))
    exc = exceptions.ResourceExhaustedError(
        "quota", http_response=httpx.Response(429, headers={"Retry-After": value})
    )
    outcome = classify(exc)
    assert outcome.kind == "retry"
    assert outcome.retry_after_s is not None and 597 < outcome.retry_after_s <= 600


@pytest.mark.parametrize(("value", "expected"), [("120", 120.0), ("0", 0.0), ("soon", None), ("", None)])
def test_retry_after_seconds_and_nonsense(value: str, expected: float | None) -> None:
    exc = exceptions.UnavailableError(
        "down", http_response=httpx.Response(503, headers={"Retry-After": value})
    )
    assert classify(exc).retry_after_s == expected


async def test_429_waits_at_least_retry_after_then_sends(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-busy", "vi"))
    fake_fcm.script("tok-busy", Error(429, "QUOTA_EXCEEDED", retry_after=120))
    await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS)
    await session.commit()

    stats = await push.deliver_due(database.session, sender)
    assert (stats.sent, stats.retried) == (0, 1)
    [row] = await outbox(session)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert float(row["due_in"]) > 118  # type: ignore[arg-type]  # Retry-After honoured (backoff alone: ≤ 1 s)
    assert "QuotaExceeded" in str(row["last_error"])
    # not due yet: another round leaves it alone
    assert (await push.deliver_due(database.session, sender)).claimed == 0
    assert fake_fcm.requests == 1

    fake_fcm.script("tok-busy")  # from now on: success
    await make_due(session)
    assert (await push.deliver_due(database.session, sender)).sent == 1
    [row] = await outbox(session)
    assert row["status"] == "sent" and row["attempts"] == 2 and row["last_error"] is None


async def test_5xx_backs_off_and_fails_after_max_attempts(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-500", "vi"), ("tok-503", "vi"))
    fake_fcm.script("tok-500", Error(500))
    fake_fcm.script("tok-503", Error(503), Error(503))  # then repeats 503
    await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS)
    await session.commit()

    for attempt in (1, 2):
        stats = await push.deliver_due(database.session, sender, max_attempts=3)
        assert stats.retried == 2
        rows = await outbox(session)
        assert {r["status"] for r in rows} == {"pending"} and {r["attempts"] for r in rows} == {attempt}
        # exponential backoff with jitter: between half and all of 2^(attempt-1) seconds
        assert all(0 < float(r["due_in"]) <= 2 ** (attempt - 1) + 0.5 for r in rows)  # type: ignore[arg-type]
        await make_due(session)
    stats = await push.deliver_due(database.session, sender, max_attempts=3)
    assert stats.retried == 2  # the third failure ends it
    rows = await outbox(session)
    assert {r["status"] for r in rows} == {"failed"}
    assert {r["attempts"] for r in rows} == {3}
    assert all("Internal" in str(r["last_error"]) or "Unavailable" in str(r["last_error"]) for r in rows)
    await make_due(session)
    assert (await push.deliver_due(database.session, sender)).claimed == 0
    # the SDK's own retries are off: exactly one request per attempt reached FCM
    assert fake_fcm.requests == 6 and fake_fcm.delivered == []


async def test_timeout_is_retried(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-slow", "vi"), ("tok-fast", "vi"))
    fake_fcm.script("tok-slow", Slow(4.0), Slow(0))  # sender timeout is 2 s
    await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS)
    await session.commit()

    stats = await push.deliver_due(database.session, sender)
    assert (stats.sent, stats.retried) == (1, 1)
    rows = {r["token"]: r for r in await outbox(session)}
    assert rows["tok-slow"]["status"] == "pending"
    assert "DeadlineExceeded" in str(rows["tok-slow"]["last_error"])
    await make_due(session)
    assert (await push.deliver_due(database.session, sender)).sent == 1
    assert {r["status"] for r in await outbox(session)} == {"sent"}


async def test_without_credentials_the_inbox_still_gets_it(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm
) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, ("tok-1", "vi"))
    await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS, report_code="PA-TEST-0001")
    await session.commit()

    assert push.sender_for("") is None
    stats = await push.deliver_due(database.session, None)
    assert stats.skipped == 1 and stats.claimed == 0
    [row] = await outbox(session)
    assert row["status"] == "skipped" and "not configured" in str(row["last_error"])
    page = await push.inbox(session, uid, locale="vi")
    assert [i.title for i in page.items] == ["Đã tiếp nhận"] and page.unread == 1
    assert fake_fcm.requests == 0


async def test_a_token_that_moved_to_another_user_is_not_sent_the_old_users_push(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    alice, bob = (await resident(session)).id, (await resident(session)).id
    await devices_of(session, alice, ("shared-phone", "vi"))
    await push.notify(session, user_ids=[alice], kind="started", texts=TEXTS)
    await devices_of(session, bob, ("shared-phone", "en"))  # the phone now signs in as Bob
    await session.commit()
    assert await push.list_devices(session, alice) == []

    stats = await push.deliver_due(database.session, sender)
    assert stats.skipped == 1 and stats.sent == 0
    assert fake_fcm.requests == 0


async def test_concurrent_workers_never_send_a_row_twice(
    fresh_db: str, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    db = Database(make_engine(fresh_db, pool_size=6, max_overflow=0))
    try:
        async with db.session() as s:
            users = [(await resident(s)).id for _ in range(60)]
            for i, uid in enumerate(users):
                await devices_of(s, uid, (f"tok-{i}-a", "vi"), (f"tok-{i}-b", "en"))
            await push.notify(s, user_ids=users, kind="started", texts=TEXTS)
            await s.commit()

        async def worker() -> int:
            sent = 0
            while True:
                stats = await push.deliver_due(db.session, sender, batch_size=7)
                if stats.claimed == 0:
                    return sent
                sent += stats.sent

        counts = await asyncio.gather(*(worker() for _ in range(4)))
        assert sum(counts) == 120
        tokens = fake_fcm.delivered_tokens()
        assert len(tokens) == 120 and len(set(tokens)) == 120
        assert sum(1 for c in counts if c) >= 2  # the work really was shared
    finally:
        await db.dispose()
