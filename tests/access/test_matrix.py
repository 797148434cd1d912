"""The authorization matrix: every /v1 route of the app, every role, in-scope and out-of-scope cases.

The routes are read from the app itself, so a new endpoint that is not classified in `TABLE` fails
`test_every_route_is_classified`: whoever adds a route must say who may call it.

For each staff/admin/moderation endpoint and each role:
- anonymous → 401; a role the endpoint is not for → 403;
- a case (report) outside the caller's scope → 404, exactly as if it did not exist;
- lists, counts, exports and tiles never mention an out-of-scope case (its code or id), and lists
  do show the in-scope ones.
Each call runs inside a savepoint that is rolled back, so every cell starts from the same world.
"""

from __future__ import annotations

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

from tests.support.areas import centre, make_city
from tests.support.staff import make_resident, make_staff
from tests.support.world import Report, seed_reports

ROLES = (
    "anonymous",
    "resident",
    "officer_w1",
    "officer_w2",
    "leader_t1",
    "leader_x",
    "moderator",
    "moderator_w2",
    "admin",
)
STAFF = frozenset({"officer_w1", "officer_w2", "leader_t1", "leader_x", "moderator", "moderator_w2", "admin"})
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
ADMIN = frozenset({"admin"})
MODERATION = frozenset({"moderator", "moderator_w2", "admin"})
CASEWORK = frozenset({"officer_w1", "officer_w2", "leader_t1", "leader_x"})
LEADERS = frozenset({"leader_t1", "leader_x", "admin"})

# Which seeded reports each role's scope covers (R1 in W1, R2 in W2; leader_x leads province X).
CASE_SCOPE: dict[str, set[str]] = {
    "officer_w1": {"R1"},
    "officer_w2": {"R2"},
    "leader_t1": {"R1", "R2"},
    "leader_x": set(),
    "moderator": {"R1", "R2"},
    "moderator_w2": {"R2"},
    "admin": {"R1", "R2"},
}


@dataclass(frozen=True)
class Rule:
    """How a route is protected.

    kind: "public" (no token needed), "signed_in" (any user, own data), "staff" (guarded by role).
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
    scope: dict[str, set[str]] | None = None  # which seeded reports each role may see (CASE_SCOPE)


@dataclass
class World:
    headers: dict[str, dict[str, str]]
    reports: dict[str, Report]
    users: dict[str, uuid.UUID]
    extra: dict[str, str] = field(default_factory=dict)


# The seeded reports are pending review (not public): who may read one (its page, QR, follow).
VIEW_SCOPE: dict[str, set[str]] = {
    "officer_w1": {"R1"},
    "officer_w2": {"R2"},
    "leader_t1": {"R1", "R2"},
    "moderator_w2": {"R2"},  # staff scope follows areas, whatever the role
    "admin": {"R1", "R2"},
}


def _const(body: dict[str, Any]) -> Callable[[World, str], Any]:
    return lambda w, r: body


def _new_report(w: World) -> dict[str, Any]:
    lat, lng = centre("W3")
    return {"category": w.extra["category"], "description": "Đèn đường hỏng", "lat": lat, "lng": lng}


def _report(w: World, key: str) -> dict[str, str]:
    return {"code": w.reports[key].code}


# Staff accounts each leader may read (their areas' staff); admins read all.
USER_SCOPE: dict[str, set[str]] = {
    "leader_t1": {"officer_w1", "officer_w2", "leader_t1", "moderator_w2"},
    "leader_x": {"leader_x"},
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


CASEWORK_ONLY = frozenset({"officer_w1", "officer_w2", "leader_t1", "leader_x"})
TILE = "/v1/tiles/{z:int}/{x:int}/{tile_y:str}"

# (METHOD, path as the app declares it) → Rule (or several probes). Routes not listed here fail the test.
TABLE: dict[tuple[str, str], Rule | tuple[Rule, ...]] = {
    # resident reporting (issue 4): public pages; a report not public is a 404 outside staff scope
    ("GET", "/v1/categories"): PUBLIC,
    ("POST", "/v1/reports"): Rule("signed_in", body=lambda w, r: _new_report(w)),
    ("GET", "/v1/reports"): Rule("public", lists=True, scope={}, expect_listed=False),
    ("GET", "/v1/reports/{code:str}"): Rule("public", case=True, scope=VIEW_SCOPE),
    ("GET", "/v1/reports/{code:str}/qr.png"): Rule("public", case=True, scope=VIEW_SCOPE),
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
    # areas (public reference data)
    ("GET", "/v1/areas"): PUBLIC,
    ("GET", "/v1/areas/lookup"): PUBLIC,
    ("GET", "/v1/areas/{code:str}"): PUBLIC,
    # casework (issue 5 part B): officers and leaders; admins and moderators do not work cases
    ("POST", "/v1/reports/{code:str}/actions"): tuple(
        Rule("staff", CASEWORK_ONLY, case=True, body=_const(body))
        for body in (
            {"action": "acknowledge", "message": "Đã tiếp nhận"},
            {"action": "start"},
            {"action": "comment", "note": "ghi chú nội bộ"},
            {"action": "reject", "reason": "not_actionable", "message": "Không thuộc thẩm quyền"},
        )
    ),
    ("GET", "/v1/officer/queue"): Rule("staff", CASEWORK_ONLY, lists=True, query="?limit=200"),
    # figures, exports and map for leaders (and admins)
    ("GET", "/v1/stats"): (
        Rule("staff", LEADERS, query="?group_by=ward", check=_stats),
        Rule(
            "staff",
            LEADERS,
            query="?area=T1&group_by=ward",
            in_scope=lambda role: role != "leader_x",
            check=_stats,
        ),
    ),
    ("GET", "/v1/export.csv"): (
        Rule("staff", LEADERS, lists=True),
        Rule("staff", LEADERS, lists=True, query="?area=T1", in_scope=lambda role: role != "leader_x"),
    ),
    ("GET", "/v1/export.geojson"): Rule("staff", LEADERS, lists=True),
    ("GET", TILE): Rule(
        "staff", LEADERS, lists=True, params=lambda w, r: {"z": "12", "x": "3262", "tile_y": "1924.mvt"}
    ),
    # auth
    ("POST", "/v1/auth/device"): PUBLIC,
    ("POST", "/v1/auth/refresh"): PUBLIC,
    ("POST", "/v1/auth/logout"): PUBLIC,
    ("POST", "/v1/auth/login"): PUBLIC,
    # the caller's own things
    ("GET", "/v1/me"): SELF,
    ("PATCH", "/v1/me"): SELF,
    # erasing one's account is for residents; staff accounts are an admin's to remove
    ("DELETE", "/v1/me"): Rule("staff", frozenset({"resident"})),
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
    # media (issue 4): uploads are the caller's own; a media id is readable when its report is public
    ("POST", "/v1/uploads"): Rule(
        "signed_in", body=lambda w, r: {"kind": "photo", "content_type": "image/jpeg", "size": 100}
    ),
    ("PUT", "/v1/uploads/{media_id:uuid}/content"): Rule("signed_in", params=lambda w, r: _any_media()),
    ("POST", "/v1/uploads/{media_id:uuid}/complete"): Rule("signed_in", params=lambda w, r: _any_media()),
    ("GET", "/v1/media/{media_id:uuid}"): Rule("public", params=lambda w, r: _any_media()),
    # moderation review
    ("GET", "/v1/moderation/queue"): Rule("staff", MODERATION, lists=True, query="?limit=200"),
    ("POST", "/v1/moderation/{code:str}"): Rule(
        "staff", MODERATION, case=True, params=_report, body=lambda w, r: {"action": "publish"}
    ),
}

CODE_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def app_routes(app: Litestar) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path, methods in app.route_handler_method_map.items():
        if not path.startswith("/v1/") and path != "/v1":
            continue
        for method in methods:
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, path))
    return found


def test_every_route_is_classified(app: Litestar) -> None:
    missing = sorted(app_routes(app) - set(TABLE))
    assert not missing, f"routes without an authorization rule in tests/test_authz_matrix.py TABLE: {missing}"


@pytest.fixture
async def world(db_conn: AsyncConnection, client: httpx.AsyncClient) -> World:
    await make_city(db_conn)
    from geo import AreaIn, upsert_area

    await upsert_area(db_conn, AreaIn(code="X", name="Tỉnh Khác", level="province"))
    await upsert_area(db_conn, AreaIn(code="X1", name="Xã Khác", level="commune", parent_code="X"))
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    users: dict[str, uuid.UUID] = {}
    users["resident"], headers["resident"] = await make_resident(db_conn)
    for role, (kind, areas) in {
        "officer_w1": ("officer", ["W1"]),
        "officer_w2": ("officer", ["W2"]),
        "leader_t1": ("leader", ["T1"]),
        "leader_x": ("leader", ["X"]),
        "moderator": ("moderator", []),
        "moderator_w2": ("moderator", ["W2"]),
        "admin": ("admin", []),
    }.items():
        users[role], headers[role] = await make_staff(db_conn, kind, areas, username=role.replace("_", "-"))
    reports = await seed_reports(db_conn, client, {"R1": "W1", "R2": "W2"}, visibility="pending_review")
    await db_conn.execute(text("INSERT INTO holidays (day, name) VALUES ('2031-09-02', 'Quốc khánh')"))
    category = reports["R1"].category_code
    return World(headers, reports, users, {"category": category})


def fill(path: str, params: dict[str, str]) -> str:
    """The path with its parameters; ones the rule does not name get a harmless placeholder."""
    return CODE_PARAM.sub(lambda m: params.get(m.group(1), "placeholder-0001"), path)


async def call(
    client: httpx.AsyncClient,
    db_conn: AsyncConnection,
    method: str,
    url: str,
    headers: dict[str, str],
    body: Any,
) -> httpx.Response:
    """One request inside a savepoint that is rolled back afterwards."""
    sp = await db_conn.begin_nested()
    try:
        return await client.request(method, url, headers=headers, json=body)
    finally:
        await sp.rollback()


def leaks(text: str, w: World, scope: set[str]) -> list[str]:
    return [k for k, r in w.reports.items() if k not in scope and (r.code in text or str(r.id) in text)]


async def test_matrix(
    app: Litestar, client: httpx.AsyncClient, db_conn: AsyncConnection, world: World
) -> None:
    failures: list[str] = []
    present = app_routes(app)
    probes = [
        (method, path, rule)
        for (method, path), rules in sorted(TABLE.items())
        for rule in (rules if isinstance(rules, tuple) else (rules,))
        if (method, path) in present  # classified ahead of time: not in this build yet
    ]
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
                r = await call(client, db_conn, method, url, world.headers[role], body)
                where = f"{method} {url} as {role}"
                failures.extend(judge(rule, role, target, world, r, where))
    assert not failures, "authorization matrix failures:\n" + "\n".join(failures)


def judge(
    rule: Rule, role: str, target: str | None, world: World, r: httpx.Response, where: str
) -> list[str]:
    """What is wrong with one answer (empty when it is right)."""
    status = r.status_code
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
