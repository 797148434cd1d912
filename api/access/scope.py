"""The staff scope rule — which cases a staff member may see — stated once, here.

Admins see every report. Everyone else sees the reports their grants cover: an area grant
(`user_areas`) covers the reports whose ward has that area in its `areas.lineage` (the ward itself,
its district, its province: a leader of a province sees every ward under it); an agency grant
(`user_agencies`) covers the reports routed to that agency. Officers and leaders must hold a grant;
a moderator holding none reviews every report. Anything out of scope answers 404 as if it did not exist.

The role sets and `RELATIONS` below are the definition. Everything else renders it, for every staff
query, list, count, export, tile, queue and notification:

- SQL: `scope` (a report alias), `review_scope` (the moderation queue), `area_scope` (an area code),
  `staff_scope` (staff accounts a viewer may read) with `holding_area_under` (the staff list's area
  filter), and `granted_staff`, the rule read backwards (who is given a report: notification
  recipients, assignees), `reviewers` the review rule read backwards (who is told what waits). Each
  is rendered once per shape (cached), so a `sql.py` may embed it;
- the same, as SQLAlchemy clauses with their parameters bound, for statements built with expressions:
  `scope_clause`, `review_clause`, `area_clause`, `staff_clause`, `holding_area_under_clause`,
  `granted_staff_ids` (a report aliased `r` is `api.reports.models.ReportAsR`);
- Python, over grants already loaded (`load_grants`): `in_scope`, `may_review`.

No other module reads the grant tables to decide who sees what.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect, Text, TextClause, Uuid, column, literal, select, table, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TextualSelect

from api.access.tokens import Principal

SEES_ALL = frozenset({"admin"})
NEEDS_GRANT = frozenset({"officer", "leader"})  # an account of these roles is refused without a grant
REVIEWS_ALL_UNGRANTED = frozenset({"moderator"})  # holding no grant: reviews every report


@dataclass(frozen=True, slots=True)
class Relation:
    """One kind of grant: rows (user_id, `column`) of `table`. A grant covers a report when it is one
    of the areas in the lineage of the report's ward (`via_lineage`), otherwise when it is the
    report's agency. In the SQL methods, `user`, `ward` and `agency` are SQL expressions."""

    table: str
    column: str
    via_lineage: bool

    def covers(self, held: frozenset[str], lineage: Sequence[str], agency: str | None) -> bool:
        if self.via_lineage:
            return not held.isdisjoint(lineage)
        return agency is not None and agency in held

    def covers_sql(self, user: str, ward: str, agency: str) -> str:
        # shapes the planner runs well over long lists: a correlated probe of the ward's lineage,
        # a hashed subplan of the user's agencies
        if self.via_lineage:
            return (
                f"EXISTS (SELECT 1 FROM areas sw JOIN {self.table} sg ON sg.{self.column} = ANY(sw.lineage) "
                f"WHERE sw.code = {ward} AND sg.user_id = {user})"
            )
        return f"{agency} IN (SELECT sg.{self.column} FROM {self.table} sg WHERE sg.user_id = {user})"

    def grantees_sql(self, ward: str, agency: str) -> str:
        """SQL: SELECT of the ids of the users holding a grant of this kind that covers the report."""
        if self.via_lineage:
            return (
                f"SELECT sg.user_id FROM areas sw JOIN {self.table} sg ON sg.{self.column} = ANY(sw.lineage) "
                f"WHERE sw.code = {ward}"
            )
        return f"SELECT sg.user_id FROM {self.table} sg WHERE sg.{self.column} = {agency}"

    def held_sql(self, user: str) -> str:
        return f"EXISTS (SELECT 1 FROM {self.table} sg WHERE sg.user_id = {user})"


AREAS = Relation("user_areas", "area_code", via_lineage=True)
AGENCIES = Relation("user_agencies", "agency_code", via_lineage=False)
RELATIONS = (AREAS, AGENCIES)


# --- Python -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grants:
    """A staff member's role and grants (codes per relation), as `load_grants` reads them."""

    role: str
    held: dict[Relation, frozenset[str]]

    def codes(self, relation: Relation) -> frozenset[str]:
        return self.held.get(relation, frozenset())


async def load_grants(session: AsyncSession, principal: Principal) -> Grants:
    held: CompoundSelect = union_all(
        *(
            select(literal(i).label("rel"), column(rel.column, Text).label("code"))
            .select_from(table(rel.table))
            .where(column("user_id", Uuid) == principal.id)
            for i, rel in enumerate(RELATIONS)
        )
    )
    found: dict[Relation, set[str]] = {rel: set() for rel in RELATIONS}
    for i, code in await session.execute(held):
        found[RELATIONS[i]].add(code)
    return Grants(principal.role, {rel: frozenset(codes) for rel, codes in found.items()})


def covered(grants: Grants, lineage: Sequence[str], agency_code: str | None) -> bool:
    """Some grant covers a report whose ward has `lineage`, routed to `agency_code` (role aside)."""
    return any(rel.covers(grants.codes(rel), lineage, agency_code) for rel in RELATIONS)


def in_scope(grants: Grants, lineage: Sequence[str], agency_code: str | None) -> bool:
    """The rule: may this staff member see a report whose ward has `lineage` (its `areas.lineage`),
    routed to `agency_code`? For an area rather than a report: its lineage and no agency."""
    return grants.role in SEES_ALL or covered(grants, lineage, agency_code)


def may_review(grants: Grants, lineage: Sequence[str], agency_code: str | None) -> bool:
    """The moderation queue's reading: as `in_scope`, and a moderator holding no grant reviews all."""
    ungranted = grants.role in REVIEWS_ALL_UNGRANTED and not any(grants.held.values())
    return ungranted or in_scope(grants, lineage, agency_code)


# --- SQL ----------------------------------------------------------------------------------------
# Every fragment binds the same two parameters (`_params`), so fragments combine in one statement.


def _params(principal: Principal) -> dict[str, Any]:
    return {"scope_role": principal.role, "scope_uid": principal.id}


def _literals(values: Iterable[str]) -> str:
    # role names are constants of this code base, never input
    listed = sorted(values)
    assert listed and all(v.isidentifier() for v in listed), listed
    return ", ".join(f"'{v}'" for v in listed)


def _role_in(roles: Iterable[str]) -> str:
    return f":scope_role IN ({_literals(roles)})"


def _covered_sql(user: str, ward: str, agency: str, relations: Sequence[Relation] = RELATIONS) -> str:
    return " OR ".join(rel.covers_sql(user, ward, agency) for rel in relations)


@cache
def _scope_sql(report: str) -> str:
    return f"({_role_in(SEES_ALL)} OR {_covered_sql(':scope_uid', f'{report}.ward_code', f'{report}.agency_code')})"


@cache
def _review_sql(report: str) -> str:
    ungranted = " AND ".join(f"NOT {rel.held_sql(':scope_uid')}" for rel in RELATIONS)
    return f"(({_role_in(REVIEWS_ALL_UNGRANTED)} AND {ungranted}) OR {_scope_sql(report)})"


def scope(principal: Principal, report: str = "r") -> tuple[str, dict[str, Any]]:
    """(SQL condition: the report aliased `report` is in the caller's scope, its parameters)."""
    return _scope_sql(report), _params(principal)


def review_scope(principal: Principal, report: str = "r") -> tuple[str, dict[str, Any]]:
    """(SQL condition: the caller may review the report aliased `report`, its parameters)."""
    return _review_sql(report), _params(principal)


@cache
def _area_sql(area: str) -> str:
    within = _covered_sql(":scope_uid", area, "NULL", (AREAS,))
    return f"({_role_in(SEES_ALL)} OR {within})"


@cache
def _staff_sql(user: str) -> str:
    within = _covered_sql(":scope_uid", f"su.{AREAS.column}", "NULL", (AREAS,))
    held = f"EXISTS (SELECT 1 FROM {AREAS.table} su WHERE su.user_id = {user} AND {within})"
    return f"({_role_in(SEES_ALL)} OR {held})"


def area_scope(principal: Principal, area: str) -> tuple[str, dict[str, Any]]:
    """(SQL condition: the area whose code is `area` (SQL) lies within the caller's scope — one of
    their area grants is in its lineage; admins: any area —, its parameters)."""
    return _area_sql(area), _params(principal)


def staff_scope(viewer: Principal, user: str = "users.id") -> tuple[str, dict[str, Any]]:
    """(SQL condition: the viewer may read the staff account `user` (SQL) — admins every one, others
    those holding an area within the viewer's scope —, its parameters)."""
    return _staff_sql(user), _params(viewer)


@cache
def holding_area_under(area: str, user: str = "users.id") -> str:
    """SQL: the account `user` holds an area grant at or under the area whose code is `area` (SQL)."""
    return (
        f"EXISTS (SELECT 1 FROM {AREAS.table} su JOIN areas sa ON sa.code = su.{AREAS.column} "
        f"WHERE su.user_id = {user} AND {area} = ANY(sa.lineage))"
    )


def granted_staff(
    roles: Iterable[str], *, ward: str = "NULL", agency: str = "NULL", via: Sequence[Relation] = RELATIONS
) -> str:
    """SQL: SELECT of the ids of the enabled accounts with one of `roles` whose grants (of the kinds
    `via`) cover a report of the ward `ward` routed to `agency` (SQL expressions): the rule read
    backwards. Grants alone count: seeing every report gives an admin none of them."""
    return _granted_sql(tuple(sorted(roles)), ward, agency, tuple(via))


@cache
def _granted_sql(roles: tuple[str, ...], ward: str, agency: str, via: tuple[Relation, ...]) -> str:
    grantees = " UNION ALL ".join(rel.grantees_sql(ward, agency) for rel in via)
    return (
        f"SELECT u.id FROM users u WHERE u.role IN ({_literals(roles)}) AND NOT u.disabled "
        f"AND u.id IN ({grantees})"
    )


@cache
def reviewers(*, ward: str, agency: str) -> str:
    """SQL: SELECT of the ids of the enabled moderators who review a report of the ward `ward` routed
    to `agency` (SQL expressions): those whose grants cover it, and those holding no grant at all."""
    ungranted = " AND ".join(f"NOT {rel.held_sql('u.id')}" for rel in RELATIONS)
    return (
        f"{granted_staff(REVIEWS_ALL_UNGRANTED, ward=ward, agency=agency)} UNION "
        f"SELECT u.id FROM users u WHERE u.role IN ({_literals(REVIEWS_ALL_UNGRANTED)}) AND NOT u.disabled "
        f"AND {ungranted}"
    )


def scope_params(principal: Principal) -> dict[str, Any]:
    """The parameters every fragment here binds (`:scope_role`, `:scope_uid`), for a statement of a
    sql.py that embeds one."""
    return _params(principal)


@cache
def scope_scan(report: str = "r") -> str:
    """SQL: `scope`, shaped for statements that scan many reports (map tiles): first the wards that
    the caller's area grants cover, as one set the planner hashes once, then the per-report probe
    only for the reports outside it (agency grants). The same rule; `scope_params` binds it."""
    wards = f"SELECT sa.code FROM areas sa WHERE sa.is_leaf AND {_area_sql('sa.code')}"
    return f"({report}.ward_code IN ({wards}) OR {_scope_sql(report)})"


@cache
def area_scope_sql(area: str) -> str:
    """SQL: `area_scope` without its parameters (`scope_params` binds them), for a sql.py."""
    return _area_sql(area)


# --- SQLAlchemy clauses -------------------------------------------------------------------------
# The fragments above, word for word, as clauses with their parameters bound: for statements built
# with SQLAlchemy expressions. A report aliased `r` is `api.reports.models.ReportAsR`; an area or a
# user is named by an SQL expression over the statement's FROM entries, as above.


@cache
def _text(sql: str) -> TextClause:
    return text(sql)


def scope_clause(principal: Principal, report: str = "r") -> TextClause:
    """`scope`: the report aliased `report` is in the caller's scope."""
    return _text(_scope_sql(report)).bindparams(**_params(principal))


def review_clause(principal: Principal, report: str = "r") -> TextClause:
    """`review_scope`: the caller may review the report aliased `report`."""
    return _text(_review_sql(report)).bindparams(**_params(principal))


def area_clause(principal: Principal, area: str) -> TextClause:
    """`area_scope`: the area whose code is `area` (SQL) lies within the caller's scope."""
    return _text(_area_sql(area)).bindparams(**_params(principal))


def area_code_clause(principal: Principal, area_code: str) -> TextClause:
    """`area_scope` of the area `area_code` (a value): it lies within the caller's scope."""
    return _text(_area_sql(":scope_area")).bindparams(scope_area=area_code, **_params(principal))


def staff_clause(viewer: Principal, user: str = "users.id") -> TextClause:
    """`staff_scope`: the viewer may read the staff account `user` (SQL)."""
    return _text(_staff_sql(user)).bindparams(**_params(viewer))


def holding_area_under_clause(area_code: str, user: str = "users.id") -> TextClause:
    """`holding_area_under`: the account `user` (SQL) holds an area grant at or under `area_code`."""
    return _text(holding_area_under(":scope_area", user)).bindparams(scope_area=area_code)


def granted_staff_ids(
    roles: Iterable[str],
    *,
    ward_code: str | None,
    agency_code: str | None,
    via: Sequence[Relation] = RELATIONS,
) -> TextualSelect:
    """`granted_staff` for a report of the ward `ward_code` routed to `agency_code` (values, either
    may be None): a SELECT of one column, `id`."""
    granted = granted_staff(roles, ward=":scope_ward", agency=":scope_agency", via=via)
    return (
        _text(granted)
        .bindparams(scope_ward=ward_code, scope_agency=agency_code)
        .columns(column("id", Uuid()))
    )
