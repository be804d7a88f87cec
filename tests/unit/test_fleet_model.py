"""A fleet kept in step (pure): the report of a step that did not reach every node, the fleet's status table,
and one backend's drift from its recorded step."""

from ansible_collections.cloudshift.migration.plugins.module_utils import fleet
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.drift import backend_drift, targets

APPS = [{"name": "application-01", "initial_step": 0,
         "servers": [{"name": "onprem-1", "side": "onprem"}, {"name": "cloud-1", "side": "cloud"}],
         "routes": [{"name": "v2", "initial_step": 100}]}]


def took(node, previous, step):
    return {"node": node, "failed": False, "result": {"previous_step": previous, "step": step},
            "undo": {"undone": True, "step": previous}}


def test_a_node_that_failed_is_named_and_the_others_put_back():
    rows = [took("node-a", 20, 60), took("node-b", 20, 60),
            {"node": "node-c", "failed": True, "previous_step": 20,
             "result": {"failed": True, "msg": "connection refused by HAProxy stats socket /run/haproxy/admin.sock"}}]
    lines = fleet.failure_report("application-01", 60, rows)
    assert lines[0] == "step 60 of application-01 did not reach every node: node-c failed."
    assert lines[1] == "The nodes that took it were put back: every node is at step 20, nothing is split."
    table = "\n".join(lines)
    assert "node-a  20    took the step, put back" in table
    assert "node-c  20    failed, not changed: connection refused by HAProxy stats socket" in table
    assert "--limit '!node-c'" in lines[-1]
    assert fleet.undone_nodes(rows) == ["node-a", "node-b"]


def test_a_node_that_could_not_be_put_back_makes_the_fleet_split():
    rows = [took("node-a", 20, 60),
            {"node": "node-b", "failed": False, "result": {"previous_step": 20, "step": 60},
             "undo": {"failed": True, "msg": "HAProxy master 12 reports the reload failed"}},
            {"node": "node-c", "failed": True, "result": {"unreachable": True, "msg": "ssh: connect to host"}}]
    lines = fleet.failure_report("application-01 route v2", 60, rows, mode="complete")
    assert "after retrying (on_node_failure=complete)" in lines[0]
    assert lines[1].startswith("THE FLEET IS SPLIT")
    table = "\n".join(lines)
    assert "node-b  60    took the step, could NOT be put back: HAProxy master 12 reports the reload failed" in table
    assert "unreachable: ssh: connect to host" in table


def test_a_node_that_rescued_itself_says_where_it_is():
    rows = [took("node-a", 100, 50),
            {"node": "node-b", "failed": True, "self_undone": True, "self_undone_step": 100,
             "result": {"previous_step": 100, "step": 50}, "error": "step 50 failed on node-b at 'Reload'"}]
    table = "\n".join(fleet.failure_report("application-01", 50, rows))
    assert "node-b  100   failed, put back: step 50 failed on node-b at 'Reload'" in table
    assert "every node is at step 100" in table


def backend(name, step, weights, drift=(), source="state store"):
    servers = [{"name": "cloud-1", "side": "cloud", "weight": weights[0], "status": "up", "backup": False},
               {"name": "onprem-1", "side": "onprem", "weight": weights[1], "status": "up", "backup": False}]
    return {"backend": name, "step": step, "step_source": source, "share": 100.0 * weights[0] / sum(weights),
            "servers": servers, "drift": list(drift)}


def test_status_flags_nodes_that_disagree_drift_or_do_not_answer():
    rows = [{"node": "node-a", "result": {"backends": [backend("application-01", 25, (25, 75))], "drift": []}},
            {"node": "node-b", "result": {"backends": [backend("application-01", 50, (80, 70), ["weight cloud-1 80"])],
                                          "drift": ["application-01: weight cloud-1 80"]}},
            {"node": "node-c", "result": {"failed": True, "msg": "connection refused"}}]
    report = fleet.status_report(rows)
    text = "\n".join(report["lines"])
    assert not report["consistent"]
    assert report["disagreements"] == ["application-01: the nodes disagree on the recorded step (node-a 25, node-b 50)"]
    assert report["drift"] == {"node-b": ["application-01: weight cloud-1 80"]}
    assert report["unanswered"] == {"node-c": "connection refused"}
    assert "STEP DIFFERS, DRIFT" in text and "node-b: application-01: weight cloud-1 80" in text
    assert "1 node(s) drifted" in report["lines"][-1] and "1 node(s) did not answer" in report["lines"][-1]


def test_status_of_a_consistent_fleet():
    rows = [{"node": node, "result": {"backends": [backend("application-01", 25, (25, 75))], "drift": []}}
            for node in ("node-a", "node-b")]
    report = fleet.status_report(rows)
    assert report["consistent"]
    assert report["lines"][-1] == "2 node(s), 1 backend(s): every node is at its recorded state and they agree."


def test_a_reconcile_says_put_back_only_for_what_it_read_back_gone():
    # Issue 18 #1: a backup flag cannot be set over the runtime API; "put back" was claimed while it stayed.
    flag = "application-01: recorded step 100 but the on-prem servers are not backup (site.yml reloads)"
    weight = "application-01: weight cloud-1 80, recorded step 100 wants 100"
    rows = [{"node": "node-a", "result": {"backends": [backend("application-01", 100, (100, 0), [flag, weight])],
                                          "drift": [flag, weight], "remaining": [flag]}},
            {"node": "node-b", "result": {"backends": [backend("application-01", 100, (100, 0))], "drift": []}}]
    report = fleet.status_report(rows, reconciled=True)
    text = "\n".join(report["lines"])
    assert not report["consistent"]
    assert report["put_back"] == {"node-a": [weight]} and report["remaining"] == {"node-a": [flag]}
    assert "Drift put back by reconcile (read back):\n  node-a: " + weight in text
    assert "still there after reconcile (read back):\n  node-a: " + flag in text
    assert "was put back" not in text and "DRIFT" in text
    assert "1 node(s) still differ from their recorded state after reconcile" in report["lines"][-1]
    rows[0]["result"]["remaining"] = []
    fixed = fleet.status_report(rows, reconciled=True)
    assert fixed["consistent"] and "the drift above was put back (read back)" in fixed["lines"][-1]


def live(weights, backup=(False, False), admin=((), ())):
    return {"cloud-1": {"weight": weights[0], "backup": backup[0], "admin_state": list(admin[0])},
            "onprem-1": {"weight": weights[1], "backup": backup[1], "admin_state": list(admin[1])}}


def test_backend_drift():
    app, route = targets(APPS)
    assert route["backend"] == "application-01--v2" and route["initial_step"] == 100
    expected, problems = backend_drift(app, 25, live((25, 75)))
    assert expected == {"cloud-1": 25, "onprem-1": 75} and problems == []
    _expected, problems = backend_drift(app, 25, live((80, 75)))
    assert problems == ["application-01: weight cloud-1 80, recorded step 25 wants 25"]
    _expected, problems = backend_drift(app, 25, live((25, 75), admin=(("forced maintenance",), ())))
    assert problems == ["application-01: server cloud-1 is in forced maintenance (set over the runtime API)"]
    expected, problems = backend_drift(route, 100, live((25, 75)))
    assert expected is None and "recorded step 100 but the on-prem servers are not backup" in problems[0]
    expected, problems = backend_drift(route, 100, live((100, 100), backup=(False, True)))
    assert problems == [] and expected["cloud-1"] == 100
    _expected, problems = backend_drift(app, 25, {"cloud-1": live((25, 75))["cloud-1"]})
    assert "HAProxy has no server onprem-1" in problems[0]
