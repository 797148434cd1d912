"""The one error-shape assertion: every error the API answers is `{"error": {code, message, details}}`
(api/core/errors.py)."""

from __future__ import annotations

from typing import Any

import httpx


def assert_error_shape(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """`r` is an error answer of `status` with `code` and a message; its `error` object."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error
