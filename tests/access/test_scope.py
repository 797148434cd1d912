"""The staff scope rule (api/access/scope.py): its SQL fragments and its Python predicates agree, on a
small world in the real database, and both say what the rule says.

World: province T1 with wards W1..W3 (tests/factories/city.py); province P with district D (wards X1,
X2) and ward Y1 directly under P. Reports in each, some routed to an agency.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import Uuid, literal, select, text, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.access.models import User
from api.access.scope import (
    AGENCIES,
    AREAS,
    RELATIONS,
    SEES_ALL,
    Grants,
    Relation,
    area_clause,
    area_code_clause,
    area_scope,
    covered,
    granted_staff,
    granted_staff_ids,
    in_scope,
    load_grants,
    may_review,
    review_clause,
    review_scope,
    scope,
    scope_clause,
    staff_clause,
    staff_scope,
)
from api.access.tokens import Principal
from api.reports.models import ReportAsR
from geo import Area, AreaIn, upsert_area
from tests.factories import insert_report, make_city, resident, staff

# name: (role, areas, agencies)
STAFF: dict[str, tuple[str, list[str], list[str]]] = {
    "admin": ("admin", [], []),
    "officer_w1": ("officer", ["W1"], []),
    "disabled_w1": ("officer", ["W1"], []),
    "leader_t1": ("leader", ["T1"], []),
    "leader_d": ("leader", ["D"], []),
    "leader_p": ("leader", ["P"], []),
    "agency_evn": ("officer", [], ["evn"]),
    "mixed": ("officer", ["X1"], ["cap-nuoc"]),
    "moderator": ("moderator", [], []),
    "moderator_w2": ("moderator", ["W2"], []),
}
DISABLED = {"disabled_w1"}

# name: (ward, agency)
REPORTS: dict[str, tuple[str, str | None]] = {
    "w1": ("W1", None),
    "w2": ("W2", None),
    "w3_evn": ("W3", "evn"),
    "x1": ("X1", None),
    "x2_evn": ("X2", "evn"),
    "y1": ("Y1", None),
    "y1_nuoc": ("Y1", "cap-nuoc"),
}
ALL_REPORTS = set(REPORTS)

# What the rule says, written out by hand.
CASES: dict[str, set[str]] = {
    "admin": ALL_REPORTS,
    "officer_w1": {"w1"},
    "disabled_w1": {"w1"},  # the bearer middleware turns a disabled account away, not the rule
    "leader_t1": {"w1", "w2", "w3_evn"},
    "leader_d": {"x1", "x2_evn"},
    "leader_p": {"x1", "x2_evn", "y1", "y1_nuoc"},
    "agency_evn": {"w3_evn", "x2_evn"},
    "mixed": {"x1", "y1_nuoc"},
    "moderator": set(),
    "moderator_w2": {"w2"},
    "resident": set(),
}
REVIEWS = {**CASES, "moderator": ALL_REPORTS}
AREA_CODES = ("T1", "W1", "W2", "W3", "P", "D", "X1", "X2", "Y1")
AREAS_WITHIN: dict[str, set[str]] = {
    "admin": set(AREA_CODES),
    "officer_w1": {"W1"},
    "disabled_w1": {"W1"},
    "leader_t1": {"T1", "W1", "W2", "W3"},
    "leader_d": {"D", "X1", "X2"},
    "leader_p": {"P", "D", "X1", "X2", "Y1"},
    "agency_evn": set(),
    "mixed": {"X1"},
    "moderator": set(),
    "moderator_w2": {"W2"},
    "resident": set(),
}
# Staff accounts each viewer may read: those holding an area within the viewer's scope.
STAFF_WITHIN: dict[str, set[str]] = {
    "admin": set(STAFF),
    "leader_t1": {"officer_w1", "disabled_w1", "leader_t1", "moderator_w2"},
    "leader_d": {"leader_d", "mixed"},
    "leader_p": {"leader_d", "leader_p", "mixed"},
    "officer_w1": {"officer_w1", "disabled_w1"},
    "agency_evn": set(),  # holds no area
}


@dataclass
class World:
    users: dict[str, Principal]
    reports: dict[str, uuid.UUID]
    lineage: dict[str, list[str]]  # area code → its lineage

    def report_name(self, report_id: uuid.UUID) -> str:
        return next(k for k, v in self.reports.items() if v == report_id)

    def user_name(self, user_id: uuid.UUID) -> str:
        return next(k for k, v in self.users.items() if v.id == user_id)

    def report_facts(self, name: str) -> tuple[list[str], str | None]:
        ward, agency = REPORTS[name]
        return self.lineage[ward], agency


@pytest.fixture
async def world(db_conn: AsyncConnection) -> World:
    await make_city(db_conn)
    await upsert_area(db_conn, AreaIn(code="P", name="Tỉnh Thử", level="province"))
    await upsert_area(db_conn, AreaIn(code="D", name="Huyện Thử", level="district", parent_code="P"))
    for code, parent in (("X1", "D"), ("X2", "D"), ("Y1", "P")):
        await upsert_area(db_conn, AreaIn(code=code, name=f"Xã {code}", level="ward", parent_code=parent))
    users: dict[str, Principal] = {}
    for name, (role, areas, agencies) in STAFF.items():
        uid, _ = await staff(db_conn, role, areas, agencies=agencies)
        users[name] = Principal(uid, role)
    await db_conn.execute(
        text("UPDATE users SET disabled = true WHERE id = ANY(:ids)"),
        {"ids": [users[n].id for n in DISABLED]},
    )
    users["resident"] = Principal((await resident(db_conn)).id, "resident")
    reports: dict[str, uuid.UUID] = {}
    for name, (ward, agency) in REPORTS.items():
        report = await insert_report(db_conn, "W1")  # then moved: its point does not matter here
        await db_conn.execute(
            text("UPDATE reports SET ward_code = :w, agency_code = :a WHERE id = :id"),
            {"w": ward, "a": agency, "id": report.id},
        )
        reports[name] = report.id
    rows = await db_conn.execute(
        text("SELECT code, lineage FROM areas WHERE code = ANY(:c)"), {"c": list(AREA_CODES)}
    )
    return World(users, reports, {code: list(lineage) for code, lineage in rows})


async def _grants(session: AsyncSession, world: World) -> dict[str, Grants]:
    return {name: await load_grants(session, p) for name, p in world.users.items()}


async def _reports_where(
    session: AsyncSession, world: World, cond: str, params: dict[str, object]
) -> set[str]:
    rows = await session.execute(
        text(f"SELECT r.id FROM reports r WHERE r.id = ANY(:ids) AND {cond}"),
        {"ids": list(world.reports.values()), **params},
    )
    return {world.report_name(rid) for (rid,) in rows}


async def test_grants_are_loaded(session: AsyncSession, world: World) -> None:
    grants = await _grants(session, world)
    assert grants["mixed"].codes(AREAS) == {"X1"}
    assert grants["mixed"].codes(AGENCIES) == {"cap-nuoc"}
    assert grants["admin"].role == "admin" and not any(grants["admin"].held.values())


async def test_report_scope_sql_and_predicate_agree(session: AsyncSession, world: World) -> None:
    grants = await _grants(session, world)
    for name, principal in world.users.items():
        by_sql = await _reports_where(session, world, *scope(principal))
        by_python = {r for r in REPORTS if in_scope(grants[name], *world.report_facts(r))}
        assert by_sql == by_python == CASES[name], name


async def test_review_scope_sql_and_predicate_agree(session: AsyncSession, world: World) -> None:
    grants = await _grants(session, world)
    for name, principal in world.users.items():
        by_sql = await _reports_where(session, world, *review_scope(principal))
        by_python = {r for r in REPORTS if may_review(grants[name], *world.report_facts(r))}
        assert by_sql == by_python == REVIEWS[name], name


async def test_area_scope_sql_and_predicate_agree(session: AsyncSession, world: World) -> None:
    grants = await _grants(session, world)
    for name, principal in world.users.items():
        cond, params = area_scope(principal, "a.code")
        rows = await session.execute(
            text(f"SELECT a.code FROM areas a WHERE a.code = ANY(:codes) AND {cond}"),
            {"codes": list(AREA_CODES), **params},
        )
        by_sql = set(rows.scalars())
        by_python = {a for a in AREA_CODES if in_scope(grants[name], world.lineage[a], None)}
        assert by_sql == by_python == AREAS_WITHIN[name], name


@pytest.mark.parametrize("via", [RELATIONS, (AREAS,), (AGENCIES,)], ids=["both", "areas", "agencies"])
async def test_granted_staff_is_the_rule_read_backwards(
    session: AsyncSession, world: World, via: Sequence[Relation]
) -> None:
    grants = await _grants(session, world)
    roles = ("officer", "leader", "moderator", "admin")
    granted = granted_staff(roles, ward="r.ward_code", agency="r.agency_code", via=via)
    for report, rid in world.reports.items():
        rows = await session.execute(
            text(f"SELECT g.id FROM reports r, LATERAL ({granted}) g WHERE r.id = :rid"), {"rid": rid}
        )
        by_sql = {world.user_name(uid) for (uid,) in rows}
        lineage, agency = world.report_facts(report)
        by_python = {
            name
            for name, g in grants.items()
            if g.role in roles
            and name not in DISABLED
            and any(rel.covers(g.codes(rel), lineage, agency) for rel in via)
        }
        assert by_sql == by_python, report
        if via == RELATIONS:
            # everyone given the case sees it; everyone who sees it without seeing all is given it
            enabled_staff = {n for n in STAFF if n not in DISABLED}
            sees = {n for n in enabled_staff if report in CASES[n]}
            assert by_sql == {n for n in sees if covered(grants[n], lineage, agency)}, report
            assert by_sql == sees - {"admin"}, report


async def test_granted_staff_roles_filter(session: AsyncSession, world: World) -> None:
    granted = granted_staff(("officer",), ward="r.ward_code", agency="r.agency_code")
    rows = await session.execute(
        text(f"SELECT g.id FROM reports r, LATERAL ({granted}) g WHERE r.id = :rid"),
        {"rid": world.reports["x2_evn"]},
    )
    assert {world.user_name(uid) for (uid,) in rows} == {"agency_evn"}


async def test_staff_scope_follows_area_scope(session: AsyncSession, world: World) -> None:
    grants = await _grants(session, world)
    staff_ids = [p.id for n, p in world.users.items() if n != "resident"]
    for viewer, expected in STAFF_WITHIN.items():
        cond, params = staff_scope(world.users[viewer])
        rows = await session.execute(
            text(f"SELECT users.id FROM users WHERE users.id = ANY(:ids) AND {cond}"),
            {"ids": staff_ids, **params},
        )
        by_sql = {world.user_name(uid) for (uid,) in rows}
        # a staff account is readable when one of its areas lies within the viewer's scope
        by_python = {
            n
            for n in STAFF
            if grants[viewer].role in SEES_ALL
            or any(in_scope(grants[viewer], world.lineage[a], None) for a in grants[n].codes(AREAS))
        }
        assert by_sql == by_python == expected, viewer


async def test_clauses_say_what_the_fragments_say(session: AsyncSession, world: World) -> None:
    """The SQLAlchemy clauses (statements built with expressions) select what the rule says."""
    r = ReportAsR
    ids = list(world.reports.values())
    for name, principal in world.users.items():
        for clause, expected in ((scope_clause, CASES), (review_clause, REVIEWS)):
            rows = await session.scalars(select(r.id).where(r.id.in_(ids), clause(principal)))
            assert {world.report_name(rid) for rid in rows} == expected[name], (name, clause.__name__)
        areas = await session.scalars(
            select(Area.code).where(Area.code.in_(AREA_CODES), area_clause(principal, "areas.code"))
        )
        assert set(areas) == AREAS_WITHIN[name], name
        for code in AREA_CODES:
            inside = await session.scalar(select(true()).where(area_code_clause(principal, code)))
            assert bool(inside) == (code in AREAS_WITHIN[name]), (name, code)
    staff_ids = [p.id for n, p in world.users.items() if n != "resident"]
    for viewer, readable in STAFF_WITHIN.items():
        rows = await session.scalars(
            select(User.id).where(User.id.in_(staff_ids), staff_clause(world.users[viewer]))
        )
        assert {world.user_name(uid) for uid in rows} == readable, viewer


async def test_granted_staff_ids_bind_the_report(session: AsyncSession, world: World) -> None:
    roles = ("officer", "leader")
    for report, rid in world.reports.items():
        ward, agency = REPORTS[report]
        granted = granted_staff(roles, ward="r.ward_code", agency="r.agency_code")
        rows = await session.execute(
            text(f"SELECT g.id FROM reports r, LATERAL ({granted}) g WHERE r.id = :rid"), {"rid": rid}
        )
        expected = {uid for (uid,) in rows}
        ids = granted_staff_ids(roles, ward_code=ward, agency_code=agency)
        for name, principal in world.users.items():
            given = await session.scalar(select(literal(principal.id, Uuid()).in_(ids)))
            assert given == (principal.id in expected), (report, name)
