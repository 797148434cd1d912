"""One way to write SQL, checked on the source (no database).

SQLAlchemy expressions everywhere; hand-written SQL only as named constants of a package's `sql.py`,
with `:name` parameters, run on a raw connection through `api.core.db.Sql` (or geo's twin). So, in
api/ and the capabilities:
- no statement is built from strings at run time: no f-string, `%`, `.format`, `.join` or `+` makes an
  argument of `execute`/`text()`/`fetch*`…, nor a local variable that becomes one;
- outside a `sql.py`, `text()`, `literal_column()` and `Sql()` take no SQL of their own module;
- no private SQLAlchemy API: no `_start_transaction`, no `_`-attributes of sessions or connections,
  no `_`-names imported from sqlalchemy;
- in a `sql.py`, no `:name::type` (SQLAlchemy reads `:nam` followed by `e::type`): use CAST.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "geo", "media", "moderation", "push")

# calls whose arguments are SQL (or the parameters of SQL)
SQL_CALLS = {
    "execute",
    "exec_driver_sql",
    "executemany",
    "scalar",
    "scalars",
    "stream",
    "stream_scalars",
    "fetch",
    "fetchrow",
    "fetchval",
    "text",
    "literal_column",
    "Sql",
}
# calls that take SQL text and belong in a sql.py
SQL_TEXT_CALLS = {"text", "literal_column", "Sql"}
# names that hold a session, a connection, a driver connection or an engine
CONNECTIONS = {
    "session",
    "s",
    "sess",
    "conn",
    "connection",
    "bind",
    "bound",
    "raw",
    "driver",
    "driver_connection",
    "dbapi_connection",
    "fairy",
    "adapter",
    "engine",
    "sync_session",
    "sync_conn",
    "cursor",
}
_CAST_AFTER_PARAMETER = re.compile(r"(?<![:\w]):\w+::")


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _built(node: ast.AST, built_names: set[str]) -> bool:
    """Whether `node` makes a string out of pieces (or is a name that was made so)."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return _is_str(node.left) or _is_str(node.right) or _built(node.left, built_names)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        on_text = _is_str(node.func.value) or isinstance(node.func.value, ast.Name)
        return node.func.attr in ("format", "join", "replace") and on_text
    return isinstance(node, ast.Name) and node.id in built_names


def _built_names(nodes: list[ast.stmt]) -> set[str]:
    """Names that an assignment among `nodes` binds to a string made of pieces."""
    built: set[str] = set()
    found = (n for stmt in nodes for n in ast.walk(stmt))
    assigns = [n for n in found if isinstance(n, ast.Assign | ast.AugAssign | ast.AnnAssign)]
    for _ in range(2):  # a name built from a name built from pieces
        for a in assigns:
            targets = a.targets if isinstance(a, ast.Assign) else [a.target]
            appended = isinstance(a, ast.AugAssign) and a.value is not None and _is_str(a.value)
            if a.value is not None and (appended or _built(a.value, built)):
                built.update(t.id for t in targets if isinstance(t, ast.Name))
    return built


_DEFS = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


class _Checker(ast.NodeVisitor):
    def __init__(self, tree: ast.Module, path: str) -> None:
        self.path = path
        self.in_sql_module = Path(path).name == "sql.py"
        top = [stmt for stmt in tree.body if not isinstance(stmt, _DEFS)]
        self.module_strings = {
            t.id
            for stmt in top
            if isinstance(stmt, ast.Assign) and _is_str(stmt.value)
            for t in stmt.targets
            if isinstance(t, ast.Name)
        }
        self.module_built = _built_names(top)
        self.built = self.module_built
        self.found: list[str] = []

    def _report(self, node: ast.AST, what: str) -> None:
        self.found.append(f"{self.path}:{getattr(node, 'lineno', '?')}: {what}")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self.built = self.built, self.module_built | _built_names(node.body)
        self.generic_visit(node)
        self.built = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        # a sql.py composes its constants from one another once, at import
        if name in SQL_CALLS and not self.in_sql_module:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                if _built(arg, self.built):
                    self._report(node, f"SQL built from strings passed to {name}()")
        if name in SQL_TEXT_CALLS and not self.in_sql_module and node.args:
            first = node.args[0]
            if _is_str(first) or (isinstance(first, ast.Name) and first.id in self.module_strings):
                self._report(node, f"SQL of its own module in {name}(): it belongs in a sql.py")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        private = node.attr.startswith("_") and not node.attr.startswith("__")
        if private and (node.attr == "_start_transaction" or _name(node.value) in CONNECTIONS):
            self._report(node, f"private attribute {node.attr}")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        parts = (node.module or "").split(".")
        private = [a.name for a in node.names if a.name.startswith("_")]
        if parts[0] == "sqlalchemy" and (private or any(p.startswith("_") for p in parts)):
            self._report(node, f"private SQLAlchemy import from {node.module}: {private}")

    def visit_Constant(self, node: ast.Constant) -> None:
        if self.in_sql_module and isinstance(node.value, str) and _CAST_AFTER_PARAMETER.search(node.value):
            self._report(node, "':name::type' in SQL: write CAST(:name AS type)")


def problems(source: str, path: str) -> list[str]:
    tree = ast.parse(source)
    checker = _Checker(tree, path)
    checker.visit(tree)
    return sorted(set(checker.found))


def test_one_way_to_write_sql() -> None:
    found: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += problems(path.read_text(), str(path.relative_to(ROOT)))
    assert found == []


def test_the_check_sees_each_way_out() -> None:
    bad = """
from sqlalchemy.engine.base import _private
_SQL = "SELECT 1"
_WHERE = "SELECT * FROM t WHERE " + _SQL

async def f(session, conn, fairy, where, table):
    await session.execute(text(f"SELECT * FROM t WHERE {where}"))
    await session.execute(text("SELECT 1 FROM t WHERE a = %s" % where))
    await conn.fetchrow("SELECT {}".format(table))
    sql = "SELECT " + ", ".join(where)
    await conn.fetch(sql)
    await session.scalar(text(_SQL))
    await fairy.dbapi_connection._start_transaction()
    session._connection_for_bind(None)
    await conn.execute(_WHERE)
"""
    lines = {int(p.split(":")[1]) for p in problems(bad, "api/x/service.py")}
    assert lines == {2, 7, 8, 9, 11, 12, 13, 14, 15}
    assert problems(bad.replace("from sqlalchemy.engine.base import _private", ""), "api/x/sql.py") != []
    assert problems("X = Sql('SELECT :a::int')", "api/x/sql.py") != []
    assert problems("X = Sql('SELECT CAST(:a AS int)')", "api/x/sql.py") == []
    assert problems("X = Sql('SELECT 1')", "api/x/service.py") != []
