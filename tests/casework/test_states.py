"""The state machine table, pure: every (action, status) pair is either allowed with one target or
refused listing what is allowed."""

from __future__ import annotations

import pytest

from api.casework import states
from api.reports.status import ReportStatus, values

PAIRS = [(a, s) for a in states.ACTIONS for s in values(ReportStatus)]


@pytest.mark.parametrize(("action", "status"), PAIRS)
def test_every_pair(action: str, status: str) -> None:
    sources, to = states.table()[action]
    if status in sources:
        assert states.is_allowed(action, status)
        assert states.target(action, status) == (status if to is None else to)
        assert action in states.allowed_actions(status)
    else:
        with pytest.raises(states.InvalidTransition) as exc:
            states.target(action, status)
        assert exc.value.allowed == states.allowed_actions(status)
        assert action not in exc.value.allowed


def test_lifecycle_shape() -> None:
    assert states.target("acknowledge", "new") == "acknowledged"
    assert states.target("start", "acknowledged") == "in_progress"
    assert states.target("resolve", "in_progress") == "resolved"
    assert states.target("transfer", "in_progress") == "new"
    assert states.target("merge", "new") == "duplicate"
    # ends: only comments
    for end in ("closed", "rejected", "duplicate", "resolved"):
        assert states.allowed_actions(end) == ["comment"]
    assert set(states.EVENT_KIND) == set(states.ACTIONS)
