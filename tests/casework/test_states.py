"""The state machine table, pure, against the transitions written out by hand in
tests/workflow/transitions.py: every (status, action) pair is either allowed with the one target
written there or refused listing what is allowed."""

from __future__ import annotations

import pytest

from api.casework import states
from api.core.status import OPEN, PAUSED, ReportStatus, values
from tests.casework.transitions import ACTIONS, PAIRS, STATUSES, TRANSITIONS, allowed, pair_id


def test_the_same_statuses_and_actions() -> None:
    """A status or an action added to the code must be added to the hand-written table too."""
    assert tuple(values(ReportStatus)) == STATUSES
    assert tuple(states.ACTIONS) == ACTIONS
    assert set(states.EVENT_KIND) == set(ACTIONS)


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[pair_id(p) for p in PAIRS])
def test_every_pair(status: str, action: str) -> None:
    expected = TRANSITIONS[(status, action)]
    if expected is not None:
        assert states.is_allowed(action, status)
        assert states.target(action, status) == expected
        assert action in states.allowed_actions(status)
    else:
        assert not states.is_allowed(action, status)
        with pytest.raises(states.InvalidTransition) as exc:
            states.target(action, status)
        assert exc.value.allowed == allowed(status)
        assert action not in exc.value.allowed


@pytest.mark.parametrize("status", STATUSES)
def test_allowed_actions(status: str) -> None:
    assert states.allowed_actions(status) == allowed(status)


def test_lifecycle_shape() -> None:
    assert states.target("acknowledge", "new") == "acknowledged"
    assert states.target("start", "acknowledged") == "in_progress"
    assert states.target("resolve", "in_progress") == "resolved"
    assert states.target("transfer", "in_progress") == "new"
    assert states.target("merge", "new") == "duplicate"
    # a simple case is resolved straight from new, its acknowledgement recorded first in the same step
    assert states.target("resolve", "new") == "resolved"
    assert states.implied_steps("resolve", "new") == [("acknowledge", "new", "acknowledged")]
    assert states.implied_steps("resolve", "acknowledged") == []
    assert states.implied_steps("acknowledge", "new") == []
    # ends: only comments
    for end in ("closed", "rejected", "duplicate", "resolved"):
        assert states.allowed_actions(end) == ["comment"]
    assert set(OPEN) == {"new", "acknowledged", "in_progress", "on_hold"}


def test_on_hold_is_open_and_paused() -> None:
    """A case waits on another agency or on the resident: still open, its clock paused, and it goes
    back to work only through resume."""
    assert states.target("hold", "in_progress") == "on_hold"
    assert states.target("resume", "on_hold") == "in_progress"
    assert "on_hold" in values(OPEN) and set(PAUSED) == {"on_hold"}
    assert not states.is_allowed("resolve", "on_hold") and not states.is_allowed("hold", "new")
