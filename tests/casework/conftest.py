"""Workflow test helpers: a city, staff, and cases with chosen timestamps."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.support.areas import make_city
from tests.support.staff import make_staff
from tests.support.world import Report, insert_report


@dataclass
class City:
    officer_w1: tuple[uuid.UUID, dict[str, str]]
    officer_w1b: tuple[uuid.UUID, dict[str, str]]
    officer_w2: tuple[uuid.UUID, dict[str, str]]
    leader: tuple[uuid.UUID, dict[str, str]]
    category: str


@pytest.fixture
async def city(db_conn: AsyncConnection) -> City:
    await make_city(db_conn)
    from tests.support.world import any_category

    return City(
        officer_w1=await make_staff(db_conn, "officer", ["W1"]),
        officer_w1b=await make_staff(db_conn, "officer", ["W1"]),
        officer_w2=await make_staff(db_conn, "officer", ["W2"]),
        leader=await make_staff(db_conn, "leader", ["T1"]),
        category=await any_category(db_conn),
    )


async def case(
    conn: AsyncConnection, ward: str, *, category: str | None = None, status: str = "new", **cols: Any
) -> Report:
    """A report in `ward` with any columns set (timestamps, deadlines, rating…)."""
    description = cols.pop("description", "Ổ gà trên đường")
    r = await insert_report(conn, ward, category=category, status=status, description=description)
    if cols:
        sets = ", ".join(f"{k} = :{k}" for k in cols)
        await conn.execute(text(f"UPDATE reports SET {sets} WHERE id = :id"), {**cols, "id": r.id})
    return r


def at(s: str) -> datetime:
    return datetime.fromisoformat(s)


@pytest.fixture
def wf_client(client: Any) -> Any:
    """The app client (the workflow controllers are in api/app.py)."""
    return client
