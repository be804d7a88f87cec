"""The step engine's pure parts: the fleet agrees on one step, only going up is gated and checked against the
cloud side, the refusal names the numbers, the ramp's phases; and the run's lock judged on the controller."""

import os

import pytest

from ansible_collections.cloudshift.migration.plugins.module_utils import ramp, step_engine
from ansible_collections.cloudshift.migration.plugins.plugin_utils import run_lock

TARGET = {"app": "application-02", "route": "customers", "backend": "application-02--customers",
          "label": "application-02 route customers"}
GATE_FAIL = {"verdict": "fail", "table": ["verdict: FAIL"], "figures": ["figures"]}
GATE_PASS = {"verdict": "pass", "table": ["verdict: PASS"], "figures": ["figures"]}


def plans(**currents_and_steps):
    return dict((node, {"current": current, "step": step}) for node, (current, step) in currents_and_steps.items())


def test_every_node_resolves_the_request_to_one_step_or_the_nodes_are_named():
    assert step_engine.agreed_step(TARGET, plans(a=(10, 25), b=(10, 25))) == 25
    with pytest.raises(step_engine.EngineError) as caught:
        step_engine.agreed_step(TARGET, plans(a=(10, 5), b=(20, 10)))  # a rollback resolved per node
    assert str(caught.value) == ("the nodes disagree on the step the request means for application-02--customers: "
                                 "a 10 -> 5; b 20 -> 10")


def test_only_going_up_on_some_node_is_raising():
    assert step_engine.is_raising(plans(a=(10, 25), b=(25, 25)), 25)
    assert not step_engine.is_raising(plans(a=(50, 25), b=(25, 25)), 25)


def test_the_elb_is_checked_before_the_first_traffic_and_capacity_before_every_step_up():
    assert step_engine.cloud_checks_needed(plans(a=(0, 5)), 5) == (True, True)
    assert step_engine.cloud_checks_needed(plans(a=(5, 25)), 25) == (False, True)
    assert step_engine.cloud_checks_needed(plans(a=(25, 0)), 0) == (False, False)


def test_a_failed_gate_refuses_a_step_up_unless_forced_and_never_a_step_down():
    lines = step_engine.refusal(TARGET, plans(a=(10, 25)), 25, GATE_FAIL, force=False)
    assert lines[0] == ("refused: application-02 route customers stays at step 10, the gate failed for step 25 (pass "
                        "-e force=true to go up anyway; it is recorded)")
    assert lines[1:] == ["verdict: FAIL", "", "figures"]
    assert step_engine.refusal(TARGET, plans(a=(10, 25)), 25, GATE_FAIL, force=True) is None
    assert step_engine.refusal(TARGET, plans(a=(50, 25)), 25, GATE_FAIL, force=False) is None
    assert step_engine.refusal(TARGET, plans(a=(10, 25)), 25, GATE_PASS, force=False) is None
    assert step_engine.step_note(True, GATE_FAIL, True) == "forced past a failed gate"
    assert step_engine.step_note(True, GATE_PASS, True) is None


def test_the_window_of_a_step_is_since_the_step_was_set_or_from_now():
    assert step_engine.window_request(0) == {"start": "step", "seconds": 0}
    assert step_engine.window_request(30) == {"start": "now", "seconds": 30}


def test_lock_purpose_and_lease_follow_the_request():
    step = {"verb": "step", "app": "application-02", "route": "customers", "step": 50, "gate_window": 1200}
    assert step_engine.lock_purpose(step) == "migrate.yml app=application-02 route=customers step=50"
    assert step_engine.lock_ttl(step, 900) == 1800
    ramped = {"verb": "ramp", "app": "application-01", "route": None, "steps": [1, 5], "interval": 400}
    assert step_engine.lock_purpose(ramped) == "ramp.yml app=application-01 steps=1,5"
    assert step_engine.lock_ttl(ramped, 900) == 1800


REQUEST = {"steps": [10, 20], "interval": 5.0, "threshold": 2, "checks_per_step": 1, "dry_run": False, "max_checks": 12}
GATE = {"verdict": "pass", "table": ["verdict: PASS"], "figures": [], "checks": [],
        "window": {"sides": dict((side, {"requests": 300, "error_rate_pct": 0.0, "timings": {"server_ms": {"p95": 2.0}}})
                                 for side in ("cloud", "onprem"))}}


def test_a_ramp_starts_where_every_node_is():
    state = ramp.start("application-01", REQUEST, plans(a=(10, 10), b=(10, 10)))
    assert (state["step"], state["remaining"], state["window"]) == (10, [20], {"start": "now", "seconds": 5.0})
    assert state["line"].startswith("ramp of application-01 from step 10 to 20, a check every 5 s on 2 node(s)")
    with pytest.raises(ValueError, match=r"the nodes are not at the same step of application-01 \(a 10, b 20\)"):
        ramp.start("application-01", REQUEST, plans(a=(10, 10), b=(20, 20)))


def test_after_a_check_the_next_window_follows_the_decision():
    raised = ramp.after_check(ramp.start_state(10, REQUEST["steps"]), GATE, REQUEST)
    assert (raised["action"], raised["target"], raised["window"]["start"]) == ("raise", 20, "step")
    held = ramp.after_check(ramp.start_state(10, REQUEST["steps"]), dict(GATE, verdict="inconclusive"), REQUEST)
    assert (held["action"], held["window"]["start"]) == ("hold", "previous")
    assert not ramp.ends(held, dry_run=False) and ramp.ends(raised, dry_run=True)
    done = ramp.after_check(ramp.start_state(20, REQUEST["steps"]), GATE, REQUEST)
    assert done["action"] == "done" and ramp.ends(done, dry_run=False)
    assert ramp.end_lines("application-01", done, REQUEST, GATE) == ["ramp of application-01 done at step 20 after 1 checks"]


def test_a_rollback_ends_with_the_numbers():
    state = dict(ramp.start_state(20, REQUEST["steps"]), fails=1)
    rolled = ramp.after_check(state, dict(GATE, verdict="fail"), REQUEST)
    assert (rolled["action"], rolled["target"]) == ("rollback", 0)
    lines = ramp.end_lines("application-01", rolled, REQUEST, dict(GATE, verdict="fail"))
    assert lines[0] == "rolled back application-01 from step 20 to 0 after 2 failed checks in a row"
    assert "verdict: PASS" in lines


def test_a_lock_conflict_is_judged_on_the_controller_and_names_the_holder():
    calls = []
    identity = {"controller": "ctl-9", "boot_id": "b", "pid": 1, "pid_start": "1", "run_id": "ctl-9:b:1:1"}
    lock = {"run_id": "other", "controller": "elsewhere", "by": "alice", "expires": None}

    def execute(request):
        calls.append(request)
        return {"failed": True, "msg": "the lock is held by another run",
                "conflicts": [{"name": "application-01", "lock": lock, "description": "held by alice", "expired": False}]}

    result = run_lock.execute_locked(execute, {"names": ["application-01"], "break_stale": True}, "node-a", identity)
    assert result["failed"] and len(calls) == 1  # a live lock from another controller is never broken
    assert result["msg"].startswith("application-01 is locked on node-a: held by alice; another run holds it")
    assert calls[0]["run_id"] == "ctl-9:b:1:1" and calls[0]["holder"]["controller"] == "ctl-9"


def test_an_expired_lock_is_broken_only_when_asked():
    identity = {"controller": "ctl-9", "boot_id": "b", "pid": 1, "pid_start": "1", "run_id": "ctl-9:b:1:1"}
    expired = {"name": "application-01", "lock": {"run_id": "gone"}, "description": "held by bob", "expired": True}
    calls = []

    def execute(request):
        calls.append(dict(request))
        if request.get("break_run_ids"):
            return {"changed": True, "acquired": ["application-01"], "conflicts": []}
        return {"failed": True, "conflicts": [dict(expired)]}

    refused = run_lock.execute_locked(execute, {"names": ["application-01"]}, "node-a", identity)
    assert refused["failed"] and "STALE" in refused["msg"] and "rerun with -e break_lock=true" in refused["msg"]
    taken = run_lock.execute_locked(execute, {"names": ["application-01"], "break_stale": True}, "node-a", identity)
    assert not taken.get("failed") and calls[-1]["break_run_ids"] == ["gone"]
    with pytest.raises(ValueError, match="run_id is set by the collection's action plugin"):
        run_lock.execute_locked(execute, {"names": ["a"], "run_id": "forged"}, "node-a", identity)


def test_the_lock_of_a_dead_run_on_this_controller_is_taken_over_without_being_asked(monkeypatch):
    """Issue 18 #3: a run killed (kill -9, Ctrl-C) on this controller leaves its lock; its process is gone, so the
    next run takes the lock over by itself, says so and records it. A lock of another controller whose lease ran
    out is still broken only when asked: its holder may be alive and cut off."""
    identity = {"controller": "ctl-9", "boot_id": "b", "pid": 1, "pid_start": "1", "run_id": "ctl-9:b:1:1"}
    dead = {"run_id": "ctl-9:b:4242:77", "controller": "ctl-9", "boot_id": "b", "pid": 4242, "pid_start": "77",
            "by": "alice", "name": "application-01", "purpose": "migrate.yml app=application-01 step=100"}
    monkeypatch.setattr(run_lock, "process_alive", lambda pid, start: pid != 4242)
    calls = []

    def execute(request):
        calls.append(dict(request))
        if request.get("break_run_ids"):
            return {"changed": True, "acquired": ["application-01"], "broken": [dead], "conflicts": []}
        return {"failed": True, "conflicts": [{"name": "application-01", "lock": dead, "expired": False,
                                               "description": "held by alice on ctl-9 (pid 4242)"}]}

    taken = run_lock.execute_locked(execute, {"names": ["application-01"]}, "node-a", identity)
    assert not taken.get("failed") and calls[-1]["break_run_ids"] == ["ctl-9:b:4242:77"]
    assert taken["warnings"] == ["took over the lock of application-01 on node-a: held by alice on ctl-9 (pid 4242), "
                                 "its process 4242 on ctl-9 is gone"]

    calls[:] = []
    alive = dict(dead, pid=5555)  # same controller, process still there: never touched, even when asked
    alive_conflict = {"name": "application-01", "lock": alive, "expired": False, "description": "held by alice"}
    refused = run_lock.execute_locked(lambda request: calls.append(request) or {"failed": True, "conflicts": [
        dict(alive_conflict)]}, {"names": ["application-01"], "break_stale": True}, "node-a", identity)
    assert refused["failed"] and len(calls) == 1 and "another run holds it" in refused["msg"]

    calls[:] = []
    elsewhere = dict(dead, controller="ctl-1", run_id="ctl-1:x:4242:77")  # pid 4242 means nothing here
    expired = {"name": "application-01", "lock": elsewhere, "expired": True, "description": "held by alice on ctl-1"}
    refused = run_lock.execute_locked(lambda request: calls.append(request) or {"failed": True, "conflicts": [
        dict(expired)]}, {"names": ["application-01"]}, "node-a", identity)
    assert refused["failed"] and len(calls) == 1 and "rerun with -e break_lock=true" in refused["msg"]


def test_in_check_mode_a_dead_runs_lock_would_be_taken_over_and_nothing_is_audited(monkeypatch, tmp_path):
    """--check breaks no lock (the module only says what it would break): the warning says "would take over" and no
    lock-broken line reaches the audit log, which a real take-over writes."""
    identity = {"controller": "ctl-9", "boot_id": "b", "pid": 1, "pid_start": "1", "run_id": "ctl-9:b:1:1"}
    dead = {"run_id": "ctl-9:b:4242:77", "controller": "ctl-9", "boot_id": "b", "pid": 4242, "pid_start": "77",
            "by": "alice", "name": "application-01", "purpose": "migrate.yml app=application-01 step=100"}
    monkeypatch.setattr(run_lock, "process_alive", lambda pid, start: False)

    def execute(request):
        if request.get("break_run_ids"):
            return {"changed": True, "acquired": ["application-01"], "broken": [dead], "conflicts": []}
        return {"failed": True, "conflicts": [{"name": "application-01", "lock": dead, "expired": False,
                                               "description": "held by alice on ctl-9 (pid 4242)"}]}

    request = {"names": ["application-01"], "audit_dir": str(tmp_path), "nodes": ["node-a"]}
    checked = run_lock.execute_locked(execute, dict(request), "node-a", identity, check_mode=True)
    assert checked["warnings"] == ["would take over the lock of application-01 on node-a: held by alice on ctl-9 "
                                   "(pid 4242), its process 4242 on ctl-9 is gone"]
    assert list(tmp_path.iterdir()) == []
    taken = run_lock.execute_locked(execute, dict(request), "node-a", identity)
    assert taken["warnings"][0].startswith("took over the lock of application-01")
    assert [path.name for path in tmp_path.iterdir()] != []  # the real take-over is audited


def test_the_release_command_removes_only_this_runs_locks(tmp_path):
    """The command the finish phase runs on the lock node, run here by /bin/sh on real lock files."""
    import json
    import subprocess
    from ansible_collections.cloudshift.migration.plugins.module_utils.lock import lock_path
    state_dir = str(tmp_path)
    os.makedirs(os.path.join(state_dir, "locks"))
    for name, run_id in (("application-01", "ctl:b:10:20"), ("application-02", "someone-else")):
        with open(lock_path(state_dir, name), "w") as handle:
            json.dump({"name": name, "run_id": run_id, "by": "x"}, handle, sort_keys=True)
    command = run_lock.release_command(state_dir, ["application-01", "application-02", "application-03"], "ctl:b:10:20")
    completed = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, check=True)
    assert run_lock.released_names(completed.stdout) == (["application-01"], ["application-02"])
    assert not os.path.exists(lock_path(state_dir, "application-01"))
    assert os.path.exists(lock_path(state_dir, "application-02"))
    with pytest.raises(Exception, match="invalid lock name"):
        run_lock.release_command(state_dir, ["a;rm -rf /"], "x")
