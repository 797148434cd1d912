"""Every Open311 answer checked field by field against the GeoReport v2 specification's field lists
(written here from the spec, http://wiki.open311.org/GeoReport_v2): the required fields, their types,
W3C datetimes in whole seconds, the allowed status values — in JSON, and the same fields in XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.factories import centre, insert_report, make_city, staff

BASE = "/open311/v2"
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")

Check = Callable[[Any], bool]


def text(v: Any) -> bool:
    return isinstance(v, str)


def datetime_(v: Any) -> bool:
    return isinstance(v, str) and bool(W3C.match(v)) and datetime.fromisoformat(v).tzinfo is not None


def optional(check: Check) -> Check:
    return lambda v: v is None or check(v)


def one_of(*allowed: str) -> Check:
    return lambda v: v in allowed


def number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def url(v: Any) -> bool:
    return isinstance(v, str) and v.startswith(("http://", "https://"))


# field → check; every field listed is required in the answer (the spec's optional ones may be null)
DISCOVERY: dict[str, Check] = {
    "changeset": datetime_,
    "contact": text,
    "key_service": text,
    "endpoints": lambda v: isinstance(v, list) and bool(v),
}
ENDPOINT: dict[str, Check] = {
    "specification": url,
    "url": url,
    "changeset": datetime_,
    "type": one_of("production", "test"),
    "formats": lambda v: isinstance(v, list) and bool(v) and set(v) <= {"application/json", "text/xml"},
}
SERVICE: dict[str, Check] = {
    "service_code": text,
    "service_name": text,
    "description": text,
    "metadata": lambda v: isinstance(v, bool),
    "type": one_of("realtime", "batch", "blackbox"),
    "keywords": text,
    "group": text,
}
ATTRIBUTE: dict[str, Check] = {
    "variable": lambda v: isinstance(v, bool),
    "code": text,
    "datatype": one_of("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"),
    "required": lambda v: isinstance(v, bool),
    "datatype_description": text,
    "order": lambda v: isinstance(v, int) and v > 0,
    "description": text,
}
VALUE: dict[str, Check] = {"key": text, "name": text}
REQUEST: dict[str, Check] = {
    "service_request_id": text,
    "status": one_of("open", "closed"),
    "status_notes": optional(text),
    "service_name": text,
    "service_code": text,
    "description": optional(text),
    "agency_responsible": optional(text),
    "service_notice": optional(text),
    "requested_datetime": datetime_,
    "updated_datetime": optional(datetime_),
    "expected_datetime": optional(datetime_),
    "address": optional(text),
    "address_id": optional(text),
    "zipcode": optional(text),
    "lat": number,
    "long": number,
    "media_url": optional(url),
}
CREATED: dict[str, Check] = {
    "service_request_id": text,
    "service_notice": optional(text),
    "account_id": optional(text),
}
TOKEN: dict[str, Check] = {"token": text, "service_request_id": optional(text)}
ERROR: dict[str, Check] = {"code": lambda v: isinstance(v, int) and 400 <= v < 600, "description": text}


def conforms(record: dict[str, Any], fields: Mapping[str, Check], what: str) -> None:
    missing = set(fields) - set(record)
    assert not missing, f"{what}: missing {sorted(missing)} in {record}"
    bad = {k: record[k] for k, check in fields.items() if not check(record[k])}
    assert not bad, f"{what}: fields not as the spec says: {bad}"


def xml_has(content: bytes, root: str, item: str | None, fields: Mapping[str, Check]) -> None:
    """The XML form: the root element, its items, each with every field of the JSON form."""
    tree = ET.fromstring(content)
    assert tree.tag == root, tree.tag
    for element in tree.findall(item) if item else [tree]:
        names = {child.tag for child in element}
        assert set(fields) <= names, f"{root}/{item}: missing {sorted(set(fields) - names)}"


async def test_every_answer_has_the_specs_fields(client: httpx.AsyncClient, db_conn: AsyncConnection) -> None:
    await make_city(db_conn)
    await insert_report(db_conn, "W1", category="ngap-nuoc")
    await insert_report(db_conn, "W2", category="den-duong", status="resolved")
    _, admin = await staff(db_conn, "admin")
    key = (await client.post("/v1/admin/apikeys", json={"name": "spec"}, headers=admin)).json()["key"]

    discovery = (await client.get(f"{BASE}/discovery.json")).json()
    conforms(discovery, DISCOVERY, "discovery")
    for e in discovery["endpoints"]:
        conforms(e, ENDPOINT, "discovery endpoint")
    xml_has((await client.get(f"{BASE}/discovery.xml")).content, "discovery", None, DISCOVERY)

    services = (await client.get(f"{BASE}/services.json")).json()
    assert services
    for s in services:
        conforms(s, SERVICE, "service")
    xml_has((await client.get(f"{BASE}/services.xml")).content, "services", "service", SERVICE)

    for s in services:
        if not s["metadata"]:
            continue
        definition = (await client.get(f"{BASE}/services/{s['service_code']}.json")).json()
        assert definition["service_code"] == s["service_code"] and definition["attributes"]
        for a in definition["attributes"]:
            conforms(a, ATTRIBUTE, f"attribute of {s['service_code']}")
            assert isinstance(a["values"], list)
            if a["datatype"] in ("singlevaluelist", "multivaluelist"):
                assert a["values"], a
            for v in a["values"]:
                conforms(v, VALUE, "attribute value")
        xml_has(
            (await client.get(f"{BASE}/services/{s['service_code']}.xml")).content,
            "service_definition",
            "attributes/attribute",
            ATTRIBUTE,
        )

    lat, lng = centre("W1")
    form = {
        "api_key": key,
        "service_code": "ngap-nuoc",
        "lat": str(lat),
        "long": str(lng),
        "description": "Ngập sâu",
    }
    (created,) = (await client.post(f"{BASE}/requests.json", data=form)).json()
    conforms(created, CREATED, "POST requests")
    xml_has(
        (await client.post(f"{BASE}/requests.xml", data=form | {"description": "Ngập lần hai"})).content,
        "service_requests",
        "request",
        CREATED,
    )

    requests = (await client.get(f"{BASE}/requests.json", params={"status": "open,closed"})).json()
    assert len(requests) >= 3
    assert {r["status"] for r in requests} == {"open", "closed"}
    for r in requests:
        conforms(r, REQUEST, "request")
    xml_has((await client.get(f"{BASE}/requests.xml")).content, "service_requests", "request", REQUEST)
    (one,) = (await client.get(f"{BASE}/requests/{created['service_request_id']}.json")).json()
    conforms(one, REQUEST, "one request")

    held = form | {"description": "Đ.m bọn đổ rác, dit me may"}
    (pending,) = (await client.post(f"{BASE}/requests.json", data=held)).json()
    (token,) = (await client.get(f"{BASE}/tokens/{pending['token']}.json")).json()
    conforms(token, TOKEN, "token")

    for method, path, data in (
        ("GET", "/requests.json?start_date=yesterday", None),
        ("GET", "/requests/PA-ZZZZ-ZZZZ.json", None),
        ("POST", "/requests.json", {"service_code": "ngap-nuoc"}),
        ("DELETE", "/services.json", None),
    ):
        r = await client.request(method, BASE + path, data=data)
        assert r.status_code in (400, 403, 404, 405), (path, r.status_code)
        for e in r.json():
            conforms(e, ERROR, f"error of {method} {path}")
        assert r.json()[0]["code"] == r.status_code
    xml_error = await client.get(f"{BASE}/requests/PA-ZZZZ-ZZZZ.xml")
    xml_has(xml_error.content, "errors", "error", ERROR)
