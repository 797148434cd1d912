"""Workflow fixtures: a city with officers of W1 (two) and W2 and a leader of T1; cases come from
`tests.factories.insert_report` (any status, any timestamps)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.factories import Person, any_category, make_city, staff


@dataclass
class City:
    officer_w1: Person
    officer_w1b: Person
    officer_w2: Person
    leader: Person
    category: str


@pytest.fixture
async def city(db_conn: AsyncConnection) -> City:
    await make_city(db_conn)
    return City(
        officer_w1=await staff(db_conn, "officer", ["W1"]),
        officer_w1b=await staff(db_conn, "officer", ["W1"]),
        officer_w2=await staff(db_conn, "officer", ["W2"]),
        leader=await staff(db_conn, "leader", ["T1"]),
        category=await any_category(db_conn),
    )


@pytest.fixture
def wf_client(client: Any) -> Any:
    """The app client (the workflow controllers are in api/app.py)."""
    return client
