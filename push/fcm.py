"""Sending through firebase-admin's async batch API, and sorting each answer into an outcome.

The SDK's own retries are switched off for the async client: its sync path sleeps for
`Retry-After` inside the call, and its async path backs off inside `send_each_async` for 500/503.
Retries belong to the outbox (exponential backoff with jitter, honouring `Retry-After`), so a
slow or failing FCM never holds a worker.
"""

from __future__ import annotations

import asyncio
import datetime
import email.utils
import logging
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import firebase_admin
from firebase_admin import _http_client as fb_http
from firebase_admin import _retry as fb_retry
from firebase_admin import credentials, exceptions, messaging

log = logging.getLogger("phananh.push")

BATCH_LIMIT = 500  # firebase-admin's limit for send_each_async

OutcomeKind = Literal["sent", "invalid_token", "retry", "failed"]


@dataclass(frozen=True, slots=True)
class OutMessage:
    token: str
    title: str
    body: str
    data: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: OutcomeKind
    message_id: str | None = None
    error: str | None = None
    retry_after_s: float | None = None


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait: `Retry-After` as delay-seconds or as an HTTP date."""
    resp = getattr(exc, "http_response", None)
    if resp is None:
        return None
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # the asctime form carries no zone; HTTP dates are always GMT
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())


_INVALID_TOKEN_HINTS = ("registration token", "not a valid fcm", "invalid token", "token is not valid")


def classify(exc: BaseException | None, message_id: str | None = None) -> Outcome:
    """Map one send result to what the outbox should do with its row."""
    if exc is None:
        return Outcome("sent", message_id=message_id)
    error = f"{type(exc).__name__}: {exc}"[:500]
    if isinstance(exc, messaging.UnregisteredError | messaging.SenderIdMismatchError):
        return Outcome("invalid_token", error=error)
    if isinstance(exc, exceptions.InvalidArgumentError):
        if any(h in str(exc).lower() for h in _INVALID_TOKEN_HINTS):
            return Outcome("invalid_token", error=error)
        return Outcome("failed", error=error)  # a malformed message will not get better
    # 429 (QuotaExceeded / ResourceExhausted), 5xx (Internal, Unavailable), timeouts
    # (DeadlineExceeded), network errors (Unavailable / Unknown), auth hiccups: try again later.
    return Outcome("retry", error=error, retry_after_s=_retry_after(exc))


class FcmSender:
    """One firebase-admin App per credentials file, sending with the async batch API."""

    def __init__(self, credentials_path: str, *, timeout_s: float = 10.0) -> None:
        cred = credentials.Certificate(credentials_path)
        self.app = firebase_admin.initialize_app(
            cred, {"httpTimeout": timeout_s}, name=f"phananh-push-{uuid.uuid4().hex[:8]}"
        )
        self.project_id = self.app.project_id
        service = messaging._get_messaging_service(self.app)
        # Same client the SDK builds, minus its in-call retries (see the module docstring).
        service._async_client = fb_http.HttpxAsyncClient(
            credential=service._credential,
            timeout=timeout_s,
            retry_config=fb_retry.HttpxRetry(max_retries=0, status_forcelist=[]),
        )
        self._service = service

    @staticmethod
    def _message(m: OutMessage) -> messaging.Message:
        with warnings.catch_warnings():
            # firebase-admin 7.5+ prefers Firebase Installation IDs (`fid=`); the apps hold tokens.
            warnings.simplefilter("ignore", DeprecationWarning)
            return messaging.Message(
                token=m.token,
                notification=messaging.Notification(title=m.title, body=m.body),
                data=dict(m.data),
                android=messaging.AndroidConfig(priority="high"),
                apns=messaging.APNSConfig(payload=messaging.APNSPayload(aps=messaging.Aps(sound="default"))),
            )

    async def send(self, batch: Sequence[OutMessage]) -> list[Outcome]:
        """Send up to BATCH_LIMIT messages at once; one outcome per message, in order."""
        out: list[Outcome] = []
        for start in range(0, len(batch), BATCH_LIMIT):
            chunk = list(batch[start : start + BATCH_LIMIT])
            try:
                resp = await messaging.send_each_async([self._message(m) for m in chunk], app=self.app)
            except (TimeoutError, exceptions.FirebaseError, OSError, ValueError) as exc:
                log.warning("FCM batch of %d failed as a whole: %s", len(chunk), exc)
                out.extend(classify(exc) for _ in chunk)
                continue
            out.extend(classify(r.exception, r.message_id) for r in resp.responses)
        return out

    async def aclose(self) -> None:
        """Close the HTTP client on this loop, then drop the App (its own close runs asyncio.run,
        which cannot be called from a running loop: it runs in a thread and finds the client closed)."""
        await self._service._async_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self.app)

    def close(self) -> None:
        """From synchronous code with no running loop."""
        firebase_admin.delete_app(self.app)
