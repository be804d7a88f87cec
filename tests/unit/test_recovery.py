"""The pure part of finishing or undoing a step a stopped run left unfinished (haproxy/recovery.py, state pending)."""
import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import recovery, state

TARGET = {"app": "application-01", "backend": "application-01", "route": None, "initial_step": 0,
          "cloud_servers": ["cloud1"], "onprem_servers": ["onprem1"]}


def _cut_off(from_step, to_step):
    """The record a run leaves when it is killed after recording the step and its intent, before the read back."""
    record = state.with_step(state.with_step(None, "application-01", from_step), "application-01", to_step)
    return state.with_pending(record, "application-01", None, {
        "kind": "step", "from": from_step, "to": to_step, "since": "2026-12-07T10:00:00+00:00", "by": "alice"})


def test_a_step_to_100_whose_reload_never_ran_is_undone_back_to_where_it_started():
    record, action = recovery.recovery_view(_cut_off(25, 100), TARGET, backup_live=False)
    assert action == "undone"
    assert state.recorded_step(record) == 25
    assert state.pending_change(record)["kind"] == "recover"


def test_a_step_to_100_that_reloaded_but_was_not_read_back_is_finished_at_100():
    record, action = recovery.recovery_view(_cut_off(25, 100), TARGET, backup_live=True)
    assert action == "finished"
    assert state.recorded_step(record) == 100


def test_leaving_100_cut_off_during_the_reload_is_undone_back_to_100():
    """Issue 18 #2: state says 50, the running HAProxy still has on-prem as backup (the reload never happened)."""
    record, action = recovery.recovery_view(_cut_off(100, 50), TARGET, backup_live=True)
    assert action == "undone"
    assert state.recorded_step(record) == 100


def test_haproxy_not_running_undoes_a_cut_off_step():
    record, action = recovery.recovery_view(_cut_off(25, 100), TARGET, backup_live=None)
    assert (action, state.recorded_step(record)) == ("undone", 25)


def test_nothing_pending_is_left_alone():
    record = state.with_step(None, "application-01", 25)
    assert recovery.recovery_view(record, TARGET, backup_live=False) == (record, None)


def test_the_line_names_the_app_the_steps_who_and_what_was_done():
    row = {"label": "application-01", "kind": "step", "from": 25, "to": 100, "by": "alice",
           "since": "2026-12-07T10:00:00+00:00", "action": "undone", "step": 25}
    assert recovery.describe(row) == (
        "application-01: step 25 -> 100 (by alice since 2026-12-07T10:00:00+00:00) was cut off before this node "
        "was read back at it: undone, back at step 25")
    assert recovery.describe(dict(row, action="finished", step=100, reload_required=True)).endswith(
        "finished at step 100 (its backup flag needs the configuration rendered and a reload: done next)")


@pytest.mark.parametrize("pending, problem", [
    ({"kind": "jump", "to": 100}, 'pending.kind is "jump"'),
    ({"kind": "step"}, "pending.to is missing"),
    ({"kind": "step", "to": 100, "who": "x"}, "pending.who is not a field of a pending change"),
    ({"kind": "step", "to": 100, "by": 3}, "pending.by is 3, not a string"),
    ("step", 'pending is "step", not an object'),
])
def test_a_damaged_intent_is_refused_naming_the_field(pending, problem):
    record = state.with_step(None, "application-01", 100)
    record["pending"] = pending
    assert problem in state.record_problem(record)


def test_a_new_step_drops_an_old_intent():
    assert state.pending_change(state.with_step(_cut_off(25, 100), "application-01", 50)) is None
    assert state.pending_entries(_cut_off(25, 100))[0][1]["to"] == 100
