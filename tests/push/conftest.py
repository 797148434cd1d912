"""Fixtures for the push tests: the fake FCM (real firebase-admin code pointed at it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from firebase_admin import messaging

from push import FcmSender
from tests.support.fake_fcm import FakeFcm, service_account


@pytest.fixture
def fake_fcm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFcm]:
    with FakeFcm() as fake:
        monkeypatch.setattr(messaging._MessagingService, "FCM_URL", fake.fcm_url)
        yield fake


@pytest.fixture
def fcm_credentials(fake_fcm: FakeFcm, tmp_path: Path) -> Path:
    return service_account(tmp_path / "service-account.json", fake_fcm.token_uri)


@pytest.fixture
async def sender(fcm_credentials: Path) -> AsyncIterator[FcmSender]:
    s = FcmSender(str(fcm_credentials), timeout_s=2.0)
    yield s
    await s.aclose()
