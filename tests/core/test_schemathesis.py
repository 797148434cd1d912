"""Schemathesis against the app: every operation of its OpenAPI document, as four identities, with
generated requests; each answer must be no server error, with a documented status, content type,
body schema and headers.

Each generated request is sent once per identity. `make test` runs a few examples per operation
(fixed seed, no coverage phase); `make fuzz` sets FUZZ_EXAMPLES for a longer run with schemathesis's
coverage phase (boundary values of every parameter) on. Operations that stream (text/event-stream)
are left out: a generated request would hold its answer open.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.core.settings import Settings
from tests.factories import TEST_JWT_SECRET
from tests.support.live import LiveApp

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0")) or 3
LONG = "FUZZ_EXAMPLES" in os.environ
IDENTITIES = ("anonymous", "resident", "officer", "admin")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
STREAMING = "text/event-stream"
# calls that end the caller's own account: sent as a resident of their own, so the shared one lives on
SELF_ENDING = {("DELETE", "/v1/me")}


def _document() -> dict[str, Any]:
    app = create_app(Settings(jwt_secret=TEST_JWT_SECRET), database_url="postgresql://unused/unused")
    return app.openapi_schema.to_schema()


def _streams(ctx: Any) -> bool:
    responses = ctx.operation.definition.raw.get("responses", {})
    return any(STREAMING in (r.get("content") or {}) for r in responses.values() if isinstance(r, dict))


CONFIG = SchemathesisConfig.from_dict(
    {"seed": 20261201, "phases": {"coverage": {"enabled": LONG}}, "generation": {"max-examples": EXAMPLES}}
)
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG).exclude(func=_streams)

COUNTS = {"cases": 0, "requests": 0}


@pytest.fixture(scope="module")
def live(pg_admin_url: str, template_db: str) -> Iterator[LiveApp]:
    with LiveApp(pg_admin_url, template_db) as app:
        yield app
    print(f"\nschemathesis: {COUNTS['cases']} cases, {COUNTS['requests']} requests")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms(case: Any, live: LiveApp) -> None:
    COUNTS["cases"] += 1
    for who in IDENTITIES:
        COUNTS["requests"] += 1
        headers = live.identities[who]
        if who == "resident" and (case.method, case.path) in SELF_ENDING:
            headers = live.new_resident()
        case.call_and_validate(base_url=live.url, headers=headers, checks=CHECKS, timeout=30)
