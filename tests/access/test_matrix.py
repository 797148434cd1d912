"""The authorization matrix: every route of the app, every role, in-scope and out-of-scope cases.

The routes are read from the app itself (all of them: /v1, /open311, /media/local, the probes; only
the OpenAPI documentation under /schema is left out, see `NON_API`), so a new endpoint that is not
classified in `TABLE` fails `test_every_route_is_classified`: whoever adds a route must say who may
call it. A row of `TABLE` the app does not serve fails too (nothing is dropped silently).

Scope comes from areas (officers and leaders of wards/provinces) and from agencies (staff of the
power company `evn` see the cases routed to it, whatever their ward, and nothing else).

For each staff/admin/moderation endpoint and each role:
- anonymous → 401; a role the endpoint is not for → 403;
- a case (report) outside the caller's scope → 404, exactly as if it did not exist;
- lists, counts, exports and tiles never mention an out-of-scope case (its code or id), and lists
  do show the in-scope ones.
Each call runs inside a savepoint that is rolled back, so every cell starts from the same world.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from api.access.tokens import NOT_BEFORE
from tests.factories import Report, any_category, centre, make_city, resident, seed_reports, staff

ROLES = (
    "anonymous",
    "resident",
    "officer_w1",
    "officer_w2",
    "officer_evn",
    "leader_t1",
    "leader_x",
    "leader_evn",
    "moderator",
    "moderator_w2",
    "moderator_evn",
    "admin",
)
ADMIN = frozenset({"admin"})
MODERATION = frozenset({"moderator", "moderator_w2", "moderator_evn", "admin"})
LEADERS = frozenset({"leader_t1", "leader_x", "leader_evn", "admin"})

# The seeded reports: R1 in W1; R2 in W2; R3 in W3, routed to the power company (agency `evn`);
# R4 in W1, routed to the water company (agency `cap-nuoc`). All under province T1.
# Which of them each role's scope covers (leader_x leads province X; the *_evn roles are scoped to the
# agency `evn` only; `moderator` has no scope, so reviews everything).
CASE_SCOPE: dict[str, set[str]] = {
    "officer_w1": {"R1", "R4"},
    "officer_w2": {"R2"},
    "officer_evn": {"R3"},
    "leader_t1": {"R1", "R2", "R3", "R4"},
    "leader_x": set(),
    "leader_evn": {"R3"},
    "moderator": {"R1", "R2", "R3", "R4"},
    "moderator_w2": {"R2"},
    "moderator_evn": {"R3"},
    "admin": {"R1", "R2", "R3", "R4"},
}
SEEDED = {"R1": "W1", "R2": "W2", "R3": "W3", "R4": "W1"}
AGENCY_OF = {"R3": "evn", "R4": "cap-nuoc"}


@dataclass(frozen=True)
class Rule:
    """How a route is protected.

    kind: "public" (no token needed), "signed_in" (any user, own data), "staff" (guarded by role),
        "signed_link" (no token helps: only a signed URL opens it; probed with a forged signature),
        "cookie" (no token helps: only the console's session cookie opens it; probed without one).
    allowed: roles that pass the guard ("staff" only).
    case: the path names a report ({code}); out-of-scope callers get 404.
    lists: the response lists/counts reports: only in-scope ones may appear.
    """

    kind: str
    allowed: frozenset[str] = frozenset()
    case: bool = False
    lists: bool = False
    query: str = ""
    body: Callable[[World, str], Any] | None = None
    params: Callable[[World, str], dict[str, str]] | None = None
    expect_listed: bool = True  # lists: in-scope reports must appear (False for e.g. tiles)
    in_scope: Callable[[str], bool] | None = None  # the path's object is in this role's scope (else 404)
    check: Callable[[World, str, httpx.Response], list[str]] | None = None  # more checks of a 2xx body
    stream: bool = False  # an endless response (server-sent events): opened within STREAM_S is a pass
    scope: dict[str, set[str]] | None = None  # which seeded reports each role may see (CASE_SCOPE)


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    reports: dict[str, Report]
    users: dict[str, uuid.UUID]
    extra: dict[str, str] = field(default_factory=dict)


# The seeded reports are pending review (not public): who may read one (its page, QR, follow).
VIEW_SCOPE: dict[str, set[str]] = {
    "officer_w1": {"R1", "R4"},
    "officer_w2": {"R2"},
    "officer_evn": {"R3"},
    "leader_t1": {"R1", "R2", "R3", "R4"},
    "leader_evn": {"R3"},
    "moderator_w2": {"R2"},  # staff scope follows areas and agencies, whatever the role
    "moderator_evn": {"R3"},
    "admin": {"R1", "R2", "R3", "R4"},
}


def _const(body: dict[str, Any]) -> Callable[[World, str], Any]:
    return lambda w, r: body


def _new_report(w: World) -> dict[str, Any]:
    lat, lng = centre("W3")
    return {"category": w.extra["category"], "description": "Đèn đường hỏng", "lat": lat, "lng": lng}


def _report(w: World, key: str) -> dict[str, str]:
    return {"code": w.reports[key].code}


# Staff accounts each leader may read (their areas' staff); admins read all. The account list follows
# areas only: a leader scoped to an agency alone reads no account (not even the agency's officers).
USER_SCOPE: dict[str, set[str]] = {
    "leader_t1": {"officer_w1", "officer_w2", "leader_t1", "moderator_w2"},
    "leader_x": {"leader_x"},
    "leader_evn": set(),
}


def _user_list(w: World, role: str, r: httpx.Response) -> list[str]:
    seen = {u["username"].replace("-", "_") for u in r.json()["items"]}
    staff = {k for k in w.users if k != "resident"}
    want = staff if role == "admin" else USER_SCOPE[role]
    if seen == want:
        return []
    return [f"user list as {role}: shows {sorted(seen - want)}, lacks {sorted(want - seen)}"]


PUBLIC, SELF = Rule("public"), Rule("signed_in")


def _any_media() -> dict[str, str]:
    return {"media_id": str(uuid.uuid4())}


def _stats(w: World, role: str, r: httpx.Response) -> list[str]:
    """Counts: the total received is the number of in-scope reports; no out-of-scope ward shows."""
    groups = r.json()["groups"]
    scope = CASE_SCOPE[role]
    wards_out = {w.reports[k].ward for k in w.reports if k not in scope} - {w.reports[k].ward for k in scope}
    errs = []
    total = sum(g["received"] for g in groups)
    if total != len(scope):
        errs.append(f"stats as {role}: received {total}, in scope {len(scope)}")
    shown = {g["key"] for g in groups if g["received"]} & wards_out
    if shown:
        errs.append(f"stats as {role}: out-of-scope wards {sorted(shown)}")
    return errs


CASEWORK_ONLY = frozenset({"officer_w1", "officer_w2", "officer_evn", "leader_t1", "leader_x", "leader_evn"})
# figures, exports and the live queue: every staff role that works or watches cases, over its scope
FIGURES = LEADERS | {"officer_w1", "officer_w2", "officer_evn"}
# `area=T1` is within the scope of the leaders of T1 (and admins); agency scope is not an area.
T1_LEADERS = frozenset({"leader_t1", "admin"})
OFFICERS = frozenset({"officer_w1", "officer_w2", "officer_evn"})
TILE = "/v1/tiles/{z:int}/{x:int}/{tile_y:str}"

# (METHOD, path as the app declares it) → Rule (or several probes). Routes not listed here fail the test.
TABLE: dict[tuple[str, str], Rule | tuple[Rule, ...]] = {
    # resident reporting: public pages; a report not public is a 404 outside staff scope
    ("GET", "/v1/categories"): PUBLIC,
    ("POST", "/v1/reports"): Rule("signed_in", body=lambda w, r: _new_report(w)),
    ("GET", "/v1/reports"): Rule("public", lists=True, scope={}, expect_listed=False),
    ("GET", "/v1/reports/{code:str}"): Rule("public", case=True, scope=VIEW_SCOPE),
    ("GET", "/v1/reports/{code:str}/qr.png"): Rule("public", case=True, scope=VIEW_SCOPE),
    # the public pages show the public view only: a report held for review is a 404 to everyone there
    ("GET", "/r/{code:str}"): Rule("public", case=True, scope={}),
    ("GET", "/r/{code:str}/photo/{media_id:uuid}/{size:str}"): Rule("public", case=True, scope={}),
    ("GET", "/transparency"): Rule("public", lists=True, scope={}, expect_listed=False),
    ("GET", "/v1/public/wards"): Rule("public", lists=True, scope={}, expect_listed=False),
    ("POST", "/v1/reports/{code:str}/follow"): Rule("signed_in", case=True, scope=VIEW_SCOPE),
    ("DELETE", "/v1/reports/{code:str}/follow"): Rule("signed_in", case=True, scope=VIEW_SCOPE),
    ("POST", "/v1/reports/{code:str}/confirm"): SELF,
    ("POST", "/v1/reports/{code:str}/reopen"): SELF,
    ("POST", "/v1/reports/{code:str}/rating"): SELF,
    ("PATCH", "/v1/reports/{code:str}"): SELF,
    ("GET", "/v1/me/reports"): SELF,
    # Open311 (read-only, public): the seeded reports are held for review, so no one sees them there
    ("GET", "/open311/v2/{document:str}"): (
        Rule(
            "public",
            lists=True,
            scope={},
            expect_listed=False,
            params=lambda w, r: {"document": "requests.json"},
        ),
        Rule(
            "public",
            lists=True,
            scope={},
            expect_listed=False,
            params=lambda w, r: {"document": "requests.xml"},
        ),
        Rule("public", params=lambda w, r: {"document": "services.json"}),
    ),
    ("GET", "/open311/v2/services/{name:str}"): Rule(
        "public", params=lambda w, r: {"name": w.extra["category"] + ".xml"}
    ),
    ("GET", "/open311/v2/requests/{name:str}"): Rule(
        "public",
        lists=True,
        in_scope=lambda role: False,
        params=lambda w, r: {"name": w.reports["R1"].code + ".json"},
    ),
    ("GET", "/open311/v2/request/{name:str}"): Rule(
        "public",
        lists=True,
        in_scope=lambda role: False,
        params=lambda w, r: {"name": w.reports["R1"].code + ".xml"},
    ),
    # a held report's photo link is no more public than the report
    ("GET", "/open311/v2/media/{code:str}"): Rule("public", case=True, scope={}),
    ("GET", "/open311/v2/tokens/{name:str}"): Rule("public", params=lambda w, r: {"name": "tk_unknown.json"}),
    # partners file with their API key, not a token: a token alone opens nothing (Open311's 403)
    ("POST", "/open311/v2/{document:str}"): Rule("public", params=lambda w, r: {"document": "nothing.json"}),
    # areas (public reference data)
    ("GET", "/v1/areas"): PUBLIC,
    ("GET", "/v1/areas/lookup"): PUBLIC,
    ("GET", "/v1/areas/{code:str}"): PUBLIC,
    # casework: officers and leaders; admins and moderators do not work cases
    ("POST", "/v1/reports/{code:str}/actions"): tuple(
        Rule("staff", CASEWORK_ONLY, case=True, body=_const(body))
        for body in (
            {"action": "acknowledge", "message": "Đã tiếp nhận"},
            {"action": "start"},
            {"action": "comment", "note": "ghi chú nội bộ"},
            {"action": "reject", "reason": "not_actionable", "message": "Không thuộc thẩm quyền"},
        )
    ),
    ("GET", "/v1/reports/{code:str}/actions"): Rule("staff", CASEWORK_ONLY, case=True),
    ("GET", "/v1/officer/queue"): Rule("staff", CASEWORK_ONLY, lists=True, query="?limit=200"),
    # the live queue: a ticket for EventSource, then the stream (its events are tested in
    # tests/casework/test_live.py over a real server)
    ("POST", "/v1/queue/events/ticket"): Rule("staff", FIGURES),
    ("GET", "/v1/queue/events"): Rule("staff", FIGURES, stream=True),
    # figures and exports for every staff role that works or watches cases; the map for leaders
    ("GET", "/v1/stats"): (
        Rule("staff", FIGURES, query="?group_by=ward", check=_stats),
        Rule(
            "staff",
            FIGURES,
            query="?area=T1&group_by=ward",
            in_scope=lambda role: role in T1_LEADERS,
            check=_stats,
        ),
    ),
    ("GET", "/v1/export.csv"): (
        Rule("staff", FIGURES, lists=True),
        Rule("staff", FIGURES, lists=True, query="?area=T1", in_scope=lambda role: role in T1_LEADERS),
    ),
    ("GET", "/v1/export.geojson"): (
        Rule("staff", FIGURES, lists=True),
        Rule(
            "staff",
            FIGURES,
            lists=True,
            query="?area=W3",
            in_scope=lambda role: role in T1_LEADERS,
            scope={"leader_t1": {"R3"}, "admin": {"R3"}},
        ),
    ),
    # the map: officers too (their wards); W1's tile of zoom 16 holds R1 and R4 with their codes
    ("GET", TILE): Rule(
        "staff",
        LEADERS | OFFICERS,
        lists=True,
        expect_listed=False,
        params=lambda w, r: {"z": "16", "x": "52193", "tile_y": "30794.mvt"},
    ),
    # probes
    ("GET", "/health"): PUBLIC,
    ("GET", "/ready"): PUBLIC,
    # auth
    ("POST", "/v1/auth/device"): PUBLIC,
    ("POST", "/v1/auth/refresh"): PUBLIC,
    ("POST", "/v1/auth/logout"): PUBLIC,
    ("POST", "/v1/auth/login"): PUBLIC,
    # the staff console: its pages are public files, its session rests on its cookie alone
    ("POST", "/v1/console/session"): PUBLIC,
    ("POST", "/v1/console/session/refresh"): Rule("cookie"),
    ("DELETE", "/v1/console/session"): PUBLIC,
    ("GET", "/v1/console/config"): PUBLIC,
    ("GET", "/console"): PUBLIC,
    ("GET", "/console/{name:path}"): Rule("public", params=lambda w, r: {"name": "index.html"}),
    # the caller's own things
    ("GET", "/v1/me"): SELF,
    ("PATCH", "/v1/me"): SELF,
    # erasing one's account is for residents; staff accounts are an admin's to remove
    ("DELETE", "/v1/me"): Rule("staff", frozenset({"resident"})),
    # so is the copy of one's data: staff accounts are the city's records, an admin's to hand out
    ("GET", "/v1/me/export"): Rule("staff", frozenset({"resident"})),
    ("GET", "/v1/me/devices"): SELF,
    ("POST", "/v1/me/devices"): SELF,
    ("DELETE", "/v1/me/devices/{token:str}"): SELF,
    ("GET", "/v1/me/notifications"): SELF,
    ("POST", "/v1/me/notifications/read"): SELF,
    # administration
    ("GET", "/v1/admin/users"): Rule("staff", LEADERS, query="?limit=200", check=_user_list),
    ("POST", "/v1/admin/users"): Rule(
        "staff", ADMIN, body=lambda w, r: {"username": f"new-{r}", "password": "x" * 12, "role": "moderator"}
    ),
    ("GET", "/v1/admin/users/{user_id:uuid}"): Rule(
        "staff",
        LEADERS,
        params=lambda w, r: {"user_id": str(w.users["officer_w1"])},
        in_scope=lambda role: role == "admin" or "officer_w1" in USER_SCOPE[role],
    ),
    ("PATCH", "/v1/admin/users/{user_id:uuid}"): Rule(
        "staff",
        ADMIN,
        params=lambda w, r: {"user_id": str(w.users["officer_w1"])},
        body=lambda w, r: {"display_name": "X"},
    ),
    ("POST", "/v1/admin/users/{user_id:uuid}/password"): Rule(
        "staff",
        ADMIN,
        params=lambda w, r: {"user_id": str(w.users["officer_w1"])},
        body=lambda w, r: {"password": "y" * 12},
    ),
    # partners' keys and webhook endpoints: admins only
    ("GET", "/v1/admin/apikeys"): Rule("staff", ADMIN),
    ("POST", "/v1/admin/apikeys"): Rule("staff", ADMIN, body=lambda w, r: {"name": f"partner-{r}"}),
    ("DELETE", "/v1/admin/apikeys/{key_id:uuid}"): Rule(
        "staff", ADMIN, params=lambda w, r: {"key_id": str(uuid.uuid4())}, in_scope=lambda role: False
    ),
    ("GET", "/v1/admin/webhooks"): Rule("staff", ADMIN),
    ("POST", "/v1/admin/webhooks"): Rule(
        "staff", ADMIN, body=lambda w, r: {"url": "ftp://example.invalid/x"}
    ),
    ("PATCH", "/v1/admin/webhooks/{endpoint_id:uuid}"): Rule(
        "staff",
        ADMIN,
        params=lambda w, r: {"endpoint_id": str(uuid.uuid4())},
        body=lambda w, r: {"active": False},
        in_scope=lambda role: False,
    ),
    ("DELETE", "/v1/admin/webhooks/{endpoint_id:uuid}"): Rule(
        "staff", ADMIN, params=lambda w, r: {"endpoint_id": str(uuid.uuid4())}, in_scope=lambda role: False
    ),
    ("GET", "/v1/admin/webhooks/{endpoint_id:uuid}/deliveries"): Rule(
        "staff", ADMIN, params=lambda w, r: {"endpoint_id": str(uuid.uuid4())}, in_scope=lambda role: False
    ),
    ("POST", "/v1/admin/webhooks/deliveries/{delivery_id:uuid}/replay"): Rule(
        "staff", ADMIN, params=lambda w, r: {"delivery_id": str(uuid.uuid4())}, in_scope=lambda role: False
    ),
    ("GET", "/v1/admin/categories"): Rule("staff", ADMIN),
    ("POST", "/v1/admin/categories"): Rule(
        "staff",
        ADMIN,
        body=lambda w, r: {
            "code": f"c-{r}",
            "name_vi": "Thử",
            "name_en": "Test",
            "ack_hours": 4,
            "resolve_value": 3,
        },
    ),
    ("PATCH", "/v1/admin/categories/{code:str}"): Rule(
        "staff", ADMIN, params=lambda w, r: {"code": w.extra["category"]}, body=lambda w, r: {"ack_hours": 8}
    ),
    ("PUT", "/v1/admin/categories/{code:str}/routes"): Rule(
        "staff", ADMIN, params=lambda w, r: {"code": w.extra["category"]}, body=lambda w, r: {"routes": []}
    ),
    ("GET", "/v1/admin/agencies"): Rule("staff", ADMIN),
    ("PUT", "/v1/admin/agencies/{code:str}"): Rule(
        "staff",
        ADMIN,
        params=lambda w, r: {"code": "EVN"},
        body=lambda w, r: {"name_vi": "Điện lực", "name_en": "Power"},
    ),
    ("GET", "/v1/admin/holidays"): Rule("staff", ADMIN),
    ("POST", "/v1/admin/holidays"): Rule(
        "staff", ADMIN, body=lambda w, r: {"day": "2031-09-02", "name": "Quốc khánh"}
    ),
    ("DELETE", "/v1/admin/holidays/{day:date}"): Rule(
        "staff", ADMIN, params=lambda w, r: {"day": "2031-09-02"}
    ),
    # media: uploads are the caller's own; a media id is readable when its report is public
    ("POST", "/v1/uploads"): Rule(
        "signed_in", body=lambda w, r: {"kind": "photo", "content_type": "image/jpeg", "size": 100}
    ),
    ("PUT", "/v1/uploads/{media_id:uuid}/content"): Rule("signed_in", params=lambda w, r: _any_media()),
    ("POST", "/v1/uploads/{media_id:uuid}/complete"): Rule("signed_in", params=lambda w, r: _any_media()),
    ("GET", "/v1/media/{media_id:uuid}"): Rule("public", params=lambda w, r: _any_media()),
    # the local store's renditions: only a signed, unexpired link opens them, whoever asks
    ("GET", "/media/local/{key:path}"): Rule(
        "signed_link",
        params=lambda w, r: {"key": "r/" + "A" * 32 + "/thumb.jpg"},
        query="?exp=9999999999&sig=x",
    ),
    # moderation review
    ("GET", "/v1/moderation/queue"): Rule("staff", MODERATION, lists=True, query="?limit=200"),
    ("POST", "/v1/moderation/{code:str}"): Rule(
        "staff", MODERATION, case=True, params=_report, body=lambda w, r: {"action": "publish"}
    ),
    # officers and leaders flag text in their scope for review (moderators: in the one they review)
    ("POST", "/v1/reports/{code:str}/flag"): Rule(
        "staff",
        CASEWORK_ONLY | MODERATION,
        case=True,
        params=_report,
        body=lambda w, r: {"reason": "xem lại"},
    ),
    # blur boxes of a photo on a report the moderator reviews (probed with a media id that is no one's)
    ("PUT", "/v1/media/{media_id:uuid}/blur"): Rule(
        "staff",
        MODERATION,
        params=lambda w, r: _any_media(),
        body=_const({"boxes": [[0.1, 0.1, 0.2, 0.2]]}),
        in_scope=lambda role: False,
    ),
}

CODE_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")

# Routes that are not the API: the OpenAPI description and its viewers (`openapi_config.path` in
# api/app.py), public by design and served by Litestar itself. Nothing else is left out.
NON_API = re.compile(r"^/schema(/|$)")
# Methods Litestar answers on every route by itself (CORS preflight / HEAD of a GET).
AUTOMATIC_METHODS = frozenset({"HEAD", "OPTIONS"})


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, but the documentation."""
    found: set[tuple[str, str]] = set()
    for path, methods in app.route_handler_method_map.items():
        if NON_API.match(path):
            continue
        for method in methods:
            if method not in AUTOMATIC_METHODS:
                found.add((method, path))
    return found


def test_every_route_is_classified(app: Litestar) -> None:
    served = app_routes(app)
    missing = sorted(served - set(TABLE))
    assert not missing, f"routes without an authorization rule in tests/test_authz_matrix.py TABLE: {missing}"
    stale = sorted(set(TABLE) - served)
    assert not stale, f"TABLE rows for routes the app does not serve (renamed? removed?): {stale}"


def test_the_documentation_is_all_that_is_left_out(app: Litestar) -> None:
    assert app.openapi_config is not None and app.openapi_config.path == "/schema"
    left_out = {path for path in app.route_handler_method_map if NON_API.match(path)}
    assert left_out and all(p == "/schema" or p.startswith("/schema/") for p in left_out)
    assert len(app_routes(app)) >= 50, "the matrix lost most of the app's routes"


@pytest.fixture
async def world(db_conn: AsyncConnection, client: httpx.AsyncClient) -> World:
    """Users of every role and the reports of `SEEDED`, submitted through the API (routed to their
    agency by the category's routes), held for review."""
    await make_city(db_conn)
    from geo import AreaIn, upsert_area

    await upsert_area(db_conn, AreaIn(code="X", name="Tỉnh Khác", level="province"))
    await upsert_area(db_conn, AreaIn(code="X1", name="Xã Khác", level="commune", parent_code="X"))
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    users: dict[str, uuid.UUID] = {}
    users["resident"], headers["resident"] = await resident(db_conn)
    for role, (kind, areas, agencies) in {
        "officer_w1": ("officer", ["W1"], []),
        "officer_w2": ("officer", ["W2"], []),
        "officer_evn": ("officer", [], ["evn"]),
        "leader_t1": ("leader", ["T1"], []),
        "leader_x": ("leader", ["X"], []),
        "leader_evn": ("leader", [], ["evn"]),
        "moderator": ("moderator", [], []),
        "moderator_w2": ("moderator", ["W2"], []),
        "moderator_evn": ("moderator", [], ["evn"]),
        "admin": ("admin", [], []),
    }.items():
        users[role], headers[role] = await staff(
            db_conn, kind, areas, agencies=agencies, username=role.replace("_", "-")
        )
    reports: dict[str, Report] = {}
    for key, ward in SEEDED.items():
        agency = AGENCY_OF.get(key)
        category = await any_category(db_conn)
        if agency is not None:  # route the category to the agency in this ward for this one report
            await db_conn.execute(
                text(
                    "INSERT INTO category_routes (category_code, area_code, agency_code) VALUES (:c, :w, :a)"
                ),
                {"c": category, "w": ward, "a": agency},
            )
        reports.update(await seed_reports(db_conn, client, {key: ward}, visibility="pending_review"))
        if agency is not None:
            await db_conn.execute(
                text("DELETE FROM category_routes WHERE category_code = :c AND area_code = :w"),
                {"c": category, "w": ward},
            )
    rows = await db_conn.execute(
        text("SELECT id, agency_code FROM reports WHERE id = ANY(:ids)"),
        {"ids": [r.id for r in reports.values()]},
    )
    routed: dict[uuid.UUID, str | None] = {row.id: row.agency_code for row in rows}
    assert {k: routed[r.id] for k, r in reports.items()} == {k: AGENCY_OF.get(k) for k in SEEDED}
    await db_conn.execute(text("INSERT INTO holidays (day, name) VALUES ('2031-09-02', 'Quốc khánh')"))
    category = reports["R1"].category_code
    return World(headers, reports, users, {"category": category})


def fill(path: str, params: dict[str, str]) -> str:
    """The path with its parameters; ones the rule does not name get a harmless placeholder."""
    return CODE_PARAM.sub(lambda m: params.get(m.group(1), "placeholder-0001"), path)


STREAM_S = 0.5


async def call(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    method: str,
    url: str,
    headers: dict[str, str],
    body: Any,
    *,
    stream: bool = False,
) -> httpx.Response:
    """One request inside a savepoint that is rolled back afterwards, with the revocations it made
    (erasing one's account, a password reset) in this process's table. An endless response
    (`stream`; the in-process transport hands a body over only once it ends) still going after
    `STREAM_S` passed the guards: it is cut and counts as a 200."""
    sp = await db_conn.begin_nested()
    revoked = NOT_BEFORE.snapshot()
    try:
        if stream:
            try:
                return await asyncio.wait_for(
                    client.request(method, url, headers=headers, json=body), STREAM_S
                )
            except TimeoutError:
                return httpx.Response(200, text="(streaming)")
        return await client.request(method, url, headers=headers, json=body)
    finally:
        await sp.rollback()
        NOT_BEFORE.restore(revoked)


def leaks(text: str, w: World, scope: set[str]) -> list[str]:
    return [k for k, r in w.reports.items() if k not in scope and (r.code in text or str(r.id) in text)]


async def test_matrix(
    app: Litestar, client: httpx.AsyncClient, db_conn: AsyncConnection, world: World
) -> None:
    failures: list[str] = []
    served = app_routes(app)
    assert set(TABLE) <= served, f"TABLE rows the app does not serve: {sorted(set(TABLE) - served)}"
    probes = [
        (method, path, rule)
        for (method, path), rules in sorted(TABLE.items())
        for rule in (rules if isinstance(rules, tuple) else (rules,))
    ]
    probed: set[tuple[str, str]] = set()
    for method, path, rule in probes:
        for role in ROLES:
            targets: list[str | None] = list(world.reports) if rule.case else [None]
            for target in targets:
                if target is not None:
                    params = _report(world, target)
                else:
                    params = rule.params(world, role) if rule.params else {}
                url = fill(path, params) + rule.query
                body = rule.body(world, role) if rule.body else None
                r = await call(client, db_conn, method, url, world.headers[role], body, stream=rule.stream)
                where = f"{method} {url} as {role}"
                failures.extend(judge(rule, role, target, world, r, where))
                probed.add((method, path))
    assert probed == served, f"routes never called: {sorted(served - probed)}"
    assert not failures, "authorization matrix failures:\n" + "\n".join(failures)


def judge(
    rule: Rule, role: str, target: str | None, world: World, r: httpx.Response, where: str
) -> list[str]:
    """What is wrong with one answer (empty when it is right)."""
    status = r.status_code
    if rule.kind == "signed_link":  # a bearer token is no signature
        if status == 403 and r.json()["error"]["code"] == "invalid_signature":
            return []
        return [f"{where}: a link without a valid signature answered {status}"]
    if rule.kind == "cookie":  # a bearer token is no session cookie
        if status == 401 and r.json()["error"]["code"] == "invalid_refresh_token":
            return []
        return [f"{where}: a call without the session cookie answered {status}"]
    if rule.kind == "signed_in" and role == "anonymous":
        return [] if status == 401 else [f"{where}: expected 401, got {status}"]
    if rule.kind == "staff":
        if role == "anonymous":
            return [] if status == 401 else [f"{where}: expected 401, got {status}"]
        if role not in rule.allowed:
            return [] if status == 403 else [f"{where}: expected 403, got {status} {r.text[:200]}"]
    scope = (rule.scope if rule.scope is not None else CASE_SCOPE).get(role, set())
    if (rule.case and target not in scope) or (rule.in_scope and not rule.in_scope(role)):
        if status != 404:
            return [f"{where} {target or ''}: out of scope, expected 404, got {status}"]
        return []
    if rule.kind != "staff" and not (rule.case or rule.lists or rule.check):
        # open routes probed without a meaningful body: only the door is checked
        return [f"{where}: answered {status} to a caller it is open to"] if status in (401, 403) else []
    if status in (401, 403, 404) or status >= 500:
        return [f"{where}: allowed and in scope, got {status} {r.text[:200]}"]
    errs = rule.check(world, role, r) if rule.check else []
    if rule.lists:
        leaked = leaks(r.text, world, scope)
        if leaked:
            errs.append(f"{where}: lists out-of-scope report(s) {leaked}")
        if rule.expect_listed:
            absent = [k for k in sorted(scope) if world.reports[k].code not in r.text]
            if absent:
                errs.append(f"{where}: in-scope report(s) {absent} missing")
    return errs
