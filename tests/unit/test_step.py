import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import state
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.step import (
    StepError, parse_step_request, parse_undo_step, plan_step, plan_undo)


@pytest.mark.parametrize("value, expected", [("0", 0), ("25", 25), ("100", 100), ("007", 7), (50, 50),
                                             ("rollback", "rollback")])
def test_valid_step_requests(value, expected):
    assert parse_step_request(value) == expected


@pytest.mark.parametrize("value", ["150", "101", "-5", "abc", "25.5", " 25", "25\n", "", "rollbak", True, None,
                                   25.0, "1e2", "25;show info"])
def test_invalid_step_requests_name_the_value(value):
    with pytest.raises(StepError) as error:
        parse_step_request(value)
    assert repr(value) in str(error.value)


def test_plan_uses_initial_step_until_a_step_is_recorded():
    assert plan_step(None, "a", 25, 0) == {"recorded": False, "current": 0, "target": 25,
                                           "reaching_100": False, "leaving_100": False}
    recorded = state.with_step(None, "a", 50)
    assert plan_step(recorded, "a", 25, 0)["current"] == 50


def test_plan_flags_reaching_and_leaving_100():
    at_75 = state.with_step(None, "a", 75)
    assert plan_step(at_75, "a", 100, 0)["reaching_100"]
    at_100 = state.with_step(at_75, "a", 100)
    plan = plan_step(at_100, "a", 50, 0)
    assert plan["leaving_100"] and not plan["reaching_100"]
    assert not any(plan_step(at_100, "a", 100, 0)[key] for key in ("reaching_100", "leaving_100"))


def test_rollback_goes_to_the_previous_step_or_says_there_is_none():
    data = state.with_step(state.with_step(None, "a", 5), "a", 20)
    assert plan_step(data, "a", "rollback", 0)["target"] == 5
    with pytest.raises(StepError, match="cannot roll back a: no previous step is recorded"):
        plan_step(state.with_step(None, "a", 5), "a", "rollback", 0)


def test_undo_plan_goes_back_to_the_step_before_and_flags_crossing_100():
    data = state.with_step(state.with_step(None, "app", 50), "app", 100)
    plan = plan_undo(data, "app", 100, 0)
    assert plan["current"] == 100 and plan["target"] == 50 and plan["leaving_100"] and not plan["reaching_100"]
    data = state.with_step(state.with_step(None, "app", 100), "app", 50)
    assert plan_undo(data, "app", 50, 0)["reaching_100"]


def test_undo_plan_of_a_step_the_node_never_took_is_none():
    data = state.with_step(None, "app", 20)
    assert plan_undo(data, "app", 60, 0) is None
    assert plan_undo(None, "app", 60, 0) is None


def test_undo_plan_of_a_first_step_goes_back_to_the_initial_step():
    data = state.with_step(None, "app", 60)
    assert plan_undo(data, "app", 60, 25)["target"] == 25


@pytest.mark.parametrize("value", [-1, 101, True, "50", None])
def test_undo_step_must_be_a_step(value):
    with pytest.raises(StepError) as error:
        parse_undo_step(value)
    assert repr(value) in str(error.value)
