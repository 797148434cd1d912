"""Authentication against FCM: the fake's token endpoint and send endpoint are as strict as Google's,
and firebase-admin (as push/ configures it) fetches a new access token when FCM answers 401."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.auth import crypt, jwt
from sqlalchemy.ext.asyncio import AsyncSession

import push
from api.core.db import Database
from push import FcmSender
from tests.factories import resident
from tests.push.test_delivery import TEXTS, devices_of, make_due, outbox
from tests.support.fake_fcm import GOOGLE_TOKEN_AUDIENCE, JWT_BEARER, FakeFcm, service_account

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(info: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The claims google-auth puts in its assertion; a change to None drops that claim."""
    now = int(time.time())
    c = {"iss": info["client_email"], "aud": GOOGLE_TOKEN_AUDIENCE, "iat": now, "exp": now + 3600}
    c["scope"] = FCM_SCOPE
    c.update(changes)
    return {k: v for k, v in c.items() if v is not None}


def sign(info: dict[str, Any], payload: dict[str, Any]) -> str:
    return jwt.encode(crypt.RSASigner.from_service_account_info(info), payload).decode()


def grant(fake: FakeFcm, assertion: str, grant_type: str = JWT_BEARER) -> httpx.Response:
    return httpx.post(fake.token_uri, data={"grant_type": grant_type, "assertion": assertion})


def send(fake: FakeFcm, access_token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    url = fake.fcm_url.format("phananh-test")
    return httpx.post(url, json={"message": {"token": "tok-1"}}, headers=headers)


@pytest.fixture
def account(fake_fcm: FakeFcm, fcm_credentials: Path) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(fcm_credentials.read_text())
    return info


def test_a_well_signed_assertion_gets_an_access_token_that_sends(
    fake_fcm: FakeFcm, account: dict[str, Any]
) -> None:
    fake_fcm.token_lifetime_s = 900
    r = grant(fake_fcm, sign(account, claims(account)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert send(fake_fcm, body["access_token"]).status_code == 200
    assert fake_fcm.delivered_tokens() == ["tok-1"] and fake_fcm.refused == []


def _other_key(tmp_path: Path, fake: FakeFcm) -> dict[str, Any]:
    """Same service account, a key the fake was never told about (deleted, or never made)."""
    info: dict[str, Any] = json.loads(
        service_account(tmp_path / "other.json", fake.token_uri, trusted=False).read_text()
    )
    return info


def _tampered(account: dict[str, Any]) -> str:
    head, _, sig = sign(account, claims(account)).split(".")
    return ".".join([head, _b64(claims(account, exp=int(time.time()) + 3000)), sig])


def _unsigned(account: dict[str, Any]) -> str:
    return ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims(account)), ""])


BAD_ASSERTIONS = {
    "signed by an unknown key": (lambda a, t, f: sign(_other_key(t, f), claims(a)), "Invalid JWT Signature"),
    "claims changed after signing": (lambda a, t, f: _tampered(a), "Invalid JWT Signature"),
    "not signed (alg none)": (lambda a, t, f: _unsigned(a), "must be RS256"),
    "unknown issuer": (
        lambda a, t, f: sign(a, claims(a, iss="x@other.iam.gserviceaccount.com")),
        "not found",
    ),
    "audience is the token_uri": (lambda a, t, f: sign(a, claims(a, aud=f.token_uri)), "audience"),
    "expired": (
        lambda a, t, f: sign(a, claims(a, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
        "short-lived",
    ),
    "lives longer than an hour": (
        lambda a, t, f: sign(a, claims(a, exp=int(time.time()) + 7200)),
        "short-lived",
    ),
    "issued in the future": (
        lambda a, t, f: sign(a, claims(a, iat=int(time.time()) + 600, exp=int(time.time()) + 1200)),
        "short-lived",
    ),
    "no expiry": (lambda a, t, f: sign(a, claims(a, exp=None)), "short-lived"),
    "no scope": (lambda a, t, f: sign(a, claims(a, scope=None)), "scope"),
    "not a JWT": (lambda a, t, f: "not-a-jwt", "not a signed JWT"),
}


@pytest.mark.parametrize("case", list(BAD_ASSERTIONS))
def test_the_token_endpoint_refuses_a_bad_assertion(
    case: str, fake_fcm: FakeFcm, account: dict[str, Any], tmp_path: Path
) -> None:
    make, why = BAD_ASSERTIONS[case]
    r = grant(fake_fcm, make(account, tmp_path, fake_fcm))
    assert r.status_code == 400
    assert r.json()["error"] in {"invalid_grant", "invalid_scope", "invalid_request"}
    assert "access_token" not in r.json()
    [refused] = fake_fcm.refused
    assert why in refused and fake_fcm.tokens_issued == 0


def test_the_token_endpoint_refuses_another_grant_type(fake_fcm: FakeFcm, account: dict[str, Any]) -> None:
    r = grant(fake_fcm, sign(account, claims(account)), grant_type="client_credentials")
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_the_send_endpoint_wants_a_live_access_token(fake_fcm: FakeFcm, account: dict[str, Any]) -> None:
    fake_fcm.token_lifetime_s = 600
    token = grant(fake_fcm, sign(account, claims(account))).json()["access_token"]
    assert send(fake_fcm, None).status_code == 401
    assert send(fake_fcm, "made-up").status_code == 401
    assert send(fake_fcm, token).status_code == 200

    fake_fcm.unauthorise_next()  # once, even though the token is valid
    r = send(fake_fcm, token)
    assert r.status_code == 401 and r.json()["error"]["status"] == "UNAUTHENTICATED"
    assert send(fake_fcm, token).status_code == 200

    fake_fcm.advance(599)
    assert send(fake_fcm, token).status_code == 200
    fake_fcm.advance(1)  # the token's lifetime is over
    assert send(fake_fcm, token).status_code == 401
    fresh = grant(fake_fcm, sign(account, claims(account))).json()["access_token"]
    assert send(fake_fcm, fresh).status_code == 200
    assert fake_fcm.unauthorised == 4 and len(fake_fcm.delivered) == 4


def test_a_token_without_an_fcm_scope_may_not_send(fake_fcm: FakeFcm, account: dict[str, Any]) -> None:
    scope = "https://www.googleapis.com/auth/userinfo.email"
    token = grant(fake_fcm, sign(account, claims(account, scope=scope))).json()["access_token"]
    r = send(fake_fcm, token)
    assert r.status_code == 403 and fake_fcm.delivered == []


# ---- through firebase-admin and the outbox -----------------------------------------------------


async def one_notification(session: AsyncSession, token: str) -> None:
    uid = (await resident(session)).id
    await devices_of(session, uid, (token, "vi"))
    await push.notify(session, user_ids=[uid], kind="started", texts=TEXTS)
    await session.commit()


async def test_a_401_for_a_valid_token_fetches_a_new_token_and_delivers(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    await one_notification(session, "tok-1")
    fake_fcm.unauthorise_next()

    stats = await push.deliver_due(database.session, sender)
    assert (stats.sent, stats.retried) == (1, 0)
    assert fake_fcm.unauthorised == 1
    assert fake_fcm.tokens_issued == 2  # the first token, then the one fetched after the 401
    assert fake_fcm.delivered_tokens() == ["tok-1"]
    [row] = await outbox(session)
    assert row["status"] == "sent" and row["attempts"] == 1


async def test_an_expired_access_token_is_replaced_and_a_live_one_reused(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    # Longer than google-auth's refresh margin (3 min 45 s), so the client keeps using the token
    # until FCM says it is no good.
    fake_fcm.token_lifetime_s = 600
    await one_notification(session, "tok-1")
    assert (await push.deliver_due(database.session, sender)).sent == 1
    assert (fake_fcm.tokens_issued, fake_fcm.unauthorised) == (1, 0)

    fake_fcm.advance(601)
    await one_notification(session, "tok-2")
    assert (await push.deliver_due(database.session, sender)).sent == 1
    assert (fake_fcm.tokens_issued, fake_fcm.unauthorised) == (2, 1)

    await one_notification(session, "tok-3")
    assert (await push.deliver_due(database.session, sender)).sent == 1
    assert (fake_fcm.tokens_issued, fake_fcm.unauthorised) == (2, 1)  # the new token serves on
    assert fake_fcm.delivered_tokens() == ["tok-1", "tok-2", "tok-3"]


async def test_401_after_every_refresh_is_retried_by_the_outbox(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, sender: FcmSender
) -> None:
    await one_notification(session, "tok-1")
    fake_fcm.unauthorise_next(3)  # firebase-admin refreshes twice, then gives the 401 back

    stats = await push.deliver_due(database.session, sender)
    assert (stats.sent, stats.retried) == (0, 1)
    assert (fake_fcm.tokens_issued, fake_fcm.unauthorised) == (3, 3)
    [row] = await outbox(session)
    assert row["status"] == "pending" and "Unauthenticated" in str(row["last_error"])

    await make_due(session)
    assert (await push.deliver_due(database.session, sender)).sent == 1
    assert fake_fcm.delivered_tokens() == ["tok-1"]


async def test_a_key_google_does_not_know_is_retried_and_nothing_is_sent(
    session: AsyncSession, database: Database, fake_fcm: FakeFcm, fcm_credentials: Path, tmp_path: Path
) -> None:
    # the account exists (fcm_credentials holds a key of it), this file's key is not one of its keys
    creds = service_account(tmp_path / "revoked.json", fake_fcm.token_uri, trusted=False)
    sender = FcmSender(str(creds), timeout_s=2.0)
    try:
        await one_notification(session, "tok-1")
        stats = await push.deliver_due(database.session, sender)
    finally:
        await sender.aclose()
    assert (stats.sent, stats.retried) == (0, 1)
    [row] = await outbox(session)
    assert row["status"] == "pending" and "Invalid JWT Signature" in str(row["last_error"])
    assert fake_fcm.tokens_issued == 0 and fake_fcm.refused
    assert fake_fcm.requests == 0 and fake_fcm.unauthorised == 0  # no send got as far as FCM
