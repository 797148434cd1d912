"""Bodies of the admin's partner keys, and how the OpenAPI document describes Open311's own documents
(built in service.py and intake.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec


class ApiKeyIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=120, description="the partner system")]


class ApiKeyOut(msgspec.Struct, omit_defaults=True):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    key: str | None = None  # only in the answer that issues it


class ApiKeyList(msgspec.Struct):
    items: list[ApiKeyOut]
    next_cursor: str | None = None


# Open311's documents as the OpenAPI document describes them (JSON; the XML forms are text/xml).
_STRING = {"type": "string"}
_OBJECTS = {"type": "array", "items": {"type": "object"}}
OPEN311_ERRORS: dict[str, Any] = {
    "type": "array",
    "description": "Open311's errors: the status and why",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": _STRING},
    },
}
_SERVICE_REQUESTS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "service_request_id": _STRING,
            "token": _STRING,
            "status": {"type": "string", "enum": ["open", "closed"]},
            "service_code": _STRING,
            "lat": {"type": "number"},
            "long": {"type": "number"},
            "media_url": {"type": ["string", "null"]},
        },
    },
}
OPEN311_SUCCESS: dict[str, dict[str, Any]] = {
    # discovery (an object), services, requests, servicerequestupdates (lists)
    "open311Document": {"oneOf": [{"type": "object", "required": ["changeset", "endpoints"]}, _OBJECTS]},
    "open311Post": _OBJECTS,
    "open311ServiceDefinition": {
        "type": "object",
        "required": ["service_code", "attributes"],
        "properties": {"service_code": _STRING, "attributes": _OBJECTS},
    },
    "open311ServiceRequest": _SERVICE_REQUESTS,
    "open311ServiceRequestSingular": _SERVICE_REQUESTS,
    "open311Token": _SERVICE_REQUESTS,
}
