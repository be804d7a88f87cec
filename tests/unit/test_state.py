import json
import os

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import state
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError


def test_nothing_recorded_reads_as_none(tmp_path):
    assert state.load_app_state(str(tmp_path), "application-01") is None
    assert state.recorded_step(None) is None
    assert state.previous_step(None) is None


def test_record_then_load_round_trips_with_history(tmp_path):
    first = state.with_step(None, "application-01", 1, by="alice", at="2026-01-01T00:00:00+00:00")
    state.write_app_state(str(tmp_path), "application-01", first)
    second = state.with_step(state.load_app_state(str(tmp_path), "application-01"), "application-01", 25, by="bob")
    state.write_app_state(str(tmp_path), "application-01", second)
    loaded = state.load_app_state(str(tmp_path), "application-01")
    assert state.recorded_step(loaded) == 25
    assert state.previous_step(loaded) == 1
    assert [entry["step"] for entry in loaded["history"]] == [1, 25]
    assert loaded["history"][0]["by"] == "alice"
    assert oct(os.stat(tmp_path / "apps" / "application-01.json").st_mode & 0o777) == "0o640"


def test_with_step_does_not_modify_its_input():
    first = state.with_step(None, "app", 1)
    snapshot = json.dumps(first, sort_keys=True)
    state.with_step(first, "app", 50)
    assert json.dumps(first, sort_keys=True) == snapshot


def test_recording_the_same_step_keeps_the_previous_one():
    data = state.with_step(state.with_step(None, "app", 1), "app", 25)
    data = state.with_step(data, "app", 25)
    assert state.previous_step(data) == 1


def test_routes_have_their_own_steps():
    data = state.with_step(None, "application-02", 0)
    data = state.with_step(data, "application-02", 50, route="customers")
    assert state.recorded_step(data) == 0
    assert state.recorded_step(data, route="customers") == 50
    assert state.recorded_step(data, route="critical") is None


def test_history_is_bounded():
    data = None
    for step in range(state.HISTORY_LENGTH + 20):
        data = state.with_step(data, "app", step % 101)
    assert len(data["history"]) == state.HISTORY_LENGTH


@pytest.mark.parametrize("name", ["a;b", "a b", "a\nb", "../etc/passwd", "", "a\\b", "a/b"])
def test_app_names_that_could_escape_are_refused(tmp_path, name):
    with pytest.raises(ValidationError) as error:
        state.app_state_path(str(tmp_path), name)
    assert repr(name) in str(error.value)


def test_corrupt_or_foreign_state_file_is_reported(tmp_path):
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "app.json").write_text("{not json")
    with pytest.raises(state.StateError, match="not valid JSON"):
        state.load_app_state(str(tmp_path), "app")
    (tmp_path / "apps" / "app.json").write_text(json.dumps({"app": "other", "step": 5}))
    with pytest.raises(state.StateError, match="does not hold the state of app app"):
        state.load_app_state(str(tmp_path), "app")


def test_failed_write_leaves_previous_state_and_no_temp_file(tmp_path):
    state.write_app_state(str(tmp_path), "app", state.with_step(None, "app", 5))
    with pytest.raises(TypeError):
        state.write_app_state(str(tmp_path), "app", {"app": "app", "step": object()})
    assert state.recorded_step(state.load_app_state(str(tmp_path), "app")) == 5
    assert os.listdir(tmp_path / "apps") == ["app.json"]


def test_undo_puts_back_the_step_and_the_rollback_pointer():
    data = state.with_step(None, "app", 10)
    data = state.with_step(data, "app", 25)
    assert state.previous_step(data) == 10
    data = state.with_step(data, "app", 60)
    undone = state.without_step(data, "app", 60, by="fleet", note="node-c did not take it")
    assert state.recorded_step(undone) == 25
    assert state.previous_step(undone) == 10  # rollback still goes where it went before step 60
    assert state.undo_record(undone) is None
    assert undone["history"][-1]["step"] == 25
    assert undone["history"][-1]["note"] == "step 60 undone: node-c did not take it"
    # Once taken back there is nothing more to undo, and the input is left alone.
    assert state.without_step(undone, "app", 60) is None
    assert state.recorded_step(data) == 60


def test_undo_of_a_step_the_node_is_not_at_does_nothing():
    data = state.with_step(state.with_step(None, "app", 10), "app", 25)
    assert state.without_step(data, "app", 60) is None
    assert state.without_step(None, "app", 60) is None


def test_undo_of_the_first_recorded_step_leaves_the_app_unrecorded():
    data = state.with_step(None, "app", 40)
    undone = state.without_step(data, "app", 40)
    assert state.recorded_step(undone) is None and state.previous_step(undone) is None


def test_undo_of_a_route_leaves_the_app_and_other_routes_alone():
    data = state.with_step(None, "application-02", 0)
    data = state.with_step(data, "application-02", 25, route="customers")
    data = state.with_step(data, "application-02", 5, route="v1")
    data = state.with_step(data, "application-02", 50, route="customers")
    undone = state.without_step(data, "application-02", 50, route="customers")
    assert state.recorded_step(undone, route="customers") == 25
    assert state.recorded_step(undone, route="v1") == 5
    assert state.recorded_step(undone) == 0


def test_undo_of_the_first_recorded_step_keeps_a_record_the_schema_accepts():
    undone = state.without_step(state.with_step(None, "app", 40), "app", 40)
    assert "step" in undone and undone["step"] is None
    assert state.record_problem(undone) is None


@pytest.mark.parametrize("change, problem", [
    (lambda data: data.pop("step"), "step is missing"),
    (lambda data: data.update(step=50.7), "step is 50.7, not an integer from 0 to 100"),
    (lambda data: data.update(step=True), "step is true, not an integer from 0 to 100"),
    (lambda data: data.update(step="abc"), 'step is "abc", not an integer from 0 to 100'),
    (lambda data: data.update(step=101), "step is 101, not an integer from 0 to 100"),
    (lambda data: data.update(previous_step=-1), "previous_step is -1"),
    (lambda data: data.update(format=2), "format is 2, not 1"),
    (lambda data: data.update(updated_at=5), "updated_at is 5, not a time"),
    (lambda data: data.update(stepp=50), "stepp is not a field of a state record"),
    (lambda data: data.update(history={"step": 1}), "history is {\"step\": 1}, not a list"),
    (lambda data: data["history"].append("x"), "history[2] is \"x\", not an object"),
    (lambda data: data["history"][0].update(step="50"), "history[0].step is \"50\""),
    (lambda data: data.update(undo=[1]), "undo is [1], not an object"),
    (lambda data: data.update(routes=[]), "routes is [], not an object"),
    (lambda data: data["routes"]["customers"].pop("step"), "routes.customers.step is missing"),
    (lambda data: data["routes"]["customers"].update(step=2.5), "routes.customers.step is 2.5"),
])
def test_a_damaged_record_is_named_by_its_field(change, problem):
    data = state.with_step(state.with_step(None, "app", 25), "app", 50)
    data = state.with_step(data, "app", 10, route="customers")
    assert state.record_problem(data) is None
    change(data)
    assert problem in state.record_problem(data)


def test_a_damaged_state_file_is_refused_on_read_naming_file_and_field(tmp_path):
    path = tmp_path / "apps" / "app.json"
    path.parent.mkdir()
    path.write_text('{"app": "app", "format": 1, "history": [{"step": 50, "at": "x"}], "updated_at": "x"}')
    with pytest.raises(state.StateError) as raised:
        state.load_app_state(str(tmp_path), "app")
    assert str(path) in str(raised.value) and "step is missing" in str(raised.value)
