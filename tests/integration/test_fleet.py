"""A fleet of three real HAProxy nodes kept in step (issue 8).

Three HAProxy master-worker instances on this machine (own configuration, sockets, state store and frontend
port) in front of the same local upstreams, driven by one inventory that reuses the local inventory's
group_vars: a step reaches every node; a node killed or refusing in the middle of a step leaves the fleet
consistent and is named; complete retries it; status spots a node changed by hand and reconcile puts it back;
two runs on one app: one proceeds, the other stops naming the holder; a killed run's lock is taken over, one
whose lease ran out is broken only when asked. Faults land at named tasks (callback_plugins/cloudshift_test_hooks.py).
"""

import json
import os
import signal
import subprocess
import time

import pytest
import yaml

import traffic
from fleet_helpers import (APP, APPLY_TASK, BACKEND_SERVER, CLOUD, HOST, NODES, ONPREM, audit, backend_lines,
                           locks_left, running_fleet, split, weights_everywhere)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with running_fleet(tmp_path_factory.mktemp("fleet"), 8000) as env:  # ports 12566-16544, below 32768
        yield env


def restart_node(fleet, node):
    fleet.playbook("site.yml", "--limit", node)
    fleet.on(node).wait_status(APP, CLOUD, "UP")


def signal_group(process, signum):
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:  # the run has already ended
        pass


def test_a_step_reaches_every_node(fleet):
    run = fleet.migrate(APP, 25)
    assert weights_everywhere(fleet) == {node: split(25) for node in NODES}
    for node in NODES:
        assert fleet.node_step(node) == 25
        result = traffic.send_concurrently(fleet.frontends[node], HOST, 600, workers=4)
        assert result.failed == 0
        assert abs(result.share(lambda name: name == CLOUD) - 25) <= 2.5, (node, result.as_dict())
    assert all(node in run.output for node in NODES)  # the table names every node
    assert locks_left(fleet) == []  # the lock was given back


def test_rollback_on_every_node(fleet):
    fleet.migrate(APP, 10)
    fleet.migrate(APP, 40)
    fleet.migrate(APP, "rollback")
    assert weights_everywhere(fleet) == {node: split(10) for node in NODES}


def test_a_node_killed_mid_step_leaves_the_fleet_consistent_and_is_named(fleet):
    fleet.migrate(APP, 10)
    fleet.migrate(APP, 20)
    audit_length = len(audit(fleet))
    # As the apply starts, before it reaches any node: node-a and node-b take the step, node-c is gone.
    run = fleet.migrate(APP, 60, hooks=[{"event": "task_start", "task": APPLY_TASK,
                                         "run": fleet.fault_command("kill", "node-c")}], check=False)
    rc, output = run.returncode, run.output
    try:
        assert rc != 0
        assert "step 60 of application-01 did not reach every node: node-c failed." in output, output[-5000:]
        assert "every node is at step 20, nothing is split" in output
        assert "node-a  20    took the step, put back" in output
        assert "node-c  20    failed, not changed: connection refused by HAProxy stats socket" in output
        for node in ("node-a", "node-b"):
            assert fleet.node_weights(node) == split(20), node
            assert fleet.node_step(node) == 20
            # rollback still points where it did before step 60 was tried
            with open(os.path.join(fleet.node_dir(node), "state", "apps", APP + ".json")) as handle:
                assert json.load(handle)["previous_step"] == 10
        assert fleet.node_step("node-c") == 20
        records = audit(fleet)[audit_length:]
        assert [record["action"] for record in records] == ["step-undone"]
        assert records[0]["from"] == 60 and records[0]["to"] == 20 and "node-c" in records[0]["note"]
        assert locks_left(fleet) == []
    finally:
        restart_node(fleet, "node-c")
    # node-c comes back at the recorded step: the fleet is one again.
    assert weights_everywhere(fleet) == {node: split(20) for node in NODES}
    fleet.migrate(APP, "rollback")
    assert weights_everywhere(fleet) == {node: split(10) for node in NODES}


def test_on_node_failure_complete_retries_the_node_until_it_takes_the_step(fleet):
    """Issue 18 #14, deterministic: as the apply task starts (before it reaches any node), node-c's admin socket
    drops to level operator, so HAProxy refuses node-c's weights with "Permission denied" on every attempt; the
    first retry of node-c puts level admin back. node-a and node-b take the step meanwhile; node-c must too."""
    fleet.migrate(APP, 30)
    hooks = [{"event": "task_start", "task": APPLY_TASK,
              "run": fleet.fault_command("level", "node-c", "operator", BACKEND_SERVER)},
             {"event": "retry", "task": APPLY_TASK, "host": "node-c",
              "run": fleet.fault_command("level", "node-c", "admin", BACKEND_SERVER)}]
    try:
        run = fleet.migrate(APP, 45, "-e", "on_node_failure=complete", "-e", "migration_fleet_retries=20",
                            "-e", "migration_fleet_retry_delay=1", hooks=hooks, check=False)
    finally:
        with open(os.path.join(fleet.node_dir("node-c"), "etc", "haproxy.cfg")) as handle:
            if " level operator " in handle.read():
                subprocess.run(fleet.fault_command("level", "node-c", "admin", BACKEND_SERVER), check=True)
    assert run.returncode == 0, run
    assert "FAILED - RETRYING: [node-c]" in run.output
    assert "FAILED - RETRYING: [node-a]" not in run.output and "FAILED - RETRYING: [node-b]" not in run.output
    assert weights_everywhere(fleet) == {node: split(45) for node in NODES}
    assert [fleet.node_step(node) for node in NODES] == [45, 45, 45]


def test_a_node_refusing_its_reload_mid_step_leaves_the_fleet_consistent(fleet):
    """Reaching 100 reloads every node; node-c's new configuration also binds an address this machine does not
    have (TEST-NET-1), which haproxy -c accepts and the reload refuses (the old worker keeps serving)."""
    fleet.migrate(APP, 50)
    host_vars = os.path.join(fleet.inventory_dir, "host_vars")
    os.makedirs(host_vars, exist_ok=True)
    own_port = fleet.frontends["node-c"].rsplit(":", 1)[1].strip("/")
    with open(os.path.join(host_vars, "node-c.yml"), "w") as handle:
        yaml.safe_dump({"haproxy_frontend_bind": ["127.0.0.1:%s" % own_port, "192.0.2.1:%s" % own_port]}, handle)
    try:
        run = fleet.migrate(APP, 100, "-e", "force=true", check=False)
        assert run.returncode != 0
        assert "step 100 of application-01 did not reach every node: node-c failed." in run.output, run
        assert "every node is at step 50, nothing is split" in run.output
        assert "reports the reload failed" in run.output
        for node in NODES:
            assert fleet.node_step(node) == 50, node
            assert fleet.node_weights(node) == split(50), node
            # the configuration of step 50 on disk too: no backup server in the app's backend
            assert [line for line in backend_lines(fleet, node, APP) if line.endswith(" backup")] == [], node
        result = traffic.send_concurrently(fleet.frontends["node-c"], HOST, 200, workers=2)
        assert result.failed == 0  # node-c's previous worker kept serving
    finally:
        os.remove(os.path.join(host_vars, "node-c.yml"))
    fleet.playbook("site.yml", "--limit", "node-c")


def test_status_spots_a_node_changed_by_hand_and_reconcile_puts_it_back(fleet):
    fleet.migrate(APP, 30)
    fleet.on("node-b").runtime("set weight %s/%s 80" % (APP, CLOUD))
    fleet.on("node-b").runtime("disable server application-02--customers/aws-prod-Kubernetes-application-02")
    hosts_map = os.path.join(fleet.node_dir("node-a"), "etc", "hosts.map")
    fleet.on("node-a").runtime("set map %s application-01.6play.fr application-02" % hosts_map)

    status = fleet.playbook("status.yml")
    assert "node-b: application-01: weight %s 80, recorded step 30 wants 30" % CLOUD in status.output, status
    assert "server aws-prod-Kubernetes-application-02 is in forced maintenance" in status.output
    assert ("map %s differs from the app model: changed: application-01.6play.fr is application-02 live, "
            "application-01 in the app model" % hosts_map) in status.output
    assert "2 node(s) drifted from their recorded state (-e reconcile=true puts it back)" in status.output
    assert fleet.playbook("status.yml", "-e", "fail_on_drift=true", check=False).returncode != 0

    # One app through migrate.yml: only its backends.
    one = fleet.migrate(APP, "status")
    assert "DRIFT" in one.output and "application-02--customers" not in one.output

    # Check mode reports and changes nothing.
    fleet.playbook("status.yml", "-e", "reconcile=true", "--check", "--diff")
    assert fleet.node_weights("node-b")[CLOUD] == 80

    fleet.playbook("status.yml", "-e", "reconcile=true")
    assert fleet.node_weights("node-b") == split(30)
    assert fleet.on("node-b").server_status("application-02--customers", "aws-prod-Kubernetes-application-02") != "MAINT"
    assert "application-01.6play.fr application-01" in fleet.on("node-a").runtime("show map %s" % hosts_map)
    assert "reconcile" in [record["action"] for record in audit(fleet)]
    after = fleet.playbook("status.yml", "-e", "fail_on_drift=true")
    assert "every node is at its recorded state and they agree" in after.output


def test_reconcile_sets_the_app_models_map_live_never_a_wrong_file(fleet):
    """Issue 18 #9: a valid but wrong hosts.map line on disk was pushed live by reconcile (application-01's Host then
    answered from application-02). The app model's rendered map is the truth: it goes live, the file is reported."""
    fleet.migrate(APP, 30)
    hosts_map = os.path.join(fleet.node_dir("node-a"), "etc", "hosts.map")
    with open(hosts_map) as handle:
        original = handle.read()
    assert "application-01.6play.fr application-01" in original
    try:
        with open(hosts_map, "w") as handle:
            handle.write(original.replace("application-01.6play.fr application-01", "application-01.6play.fr application-02"))
        fleet.on("node-a").runtime("set map %s application-01.6play.fr application-02" % hosts_map)
        reconciled = fleet.playbook("status.yml", "-e", "reconcile=true", check=False)
        text = " ".join(reconciled.output.split())
        assert "application-01.6play.fr application-01" in fleet.on("node-a").runtime("show map %s" % hosts_map)
        assert ("map %s differs from the app model: changed: application-01.6play.fr is application-02 live, "
                "application-01 in the app model" % hosts_map) in text, reconciled
        assert "Drift put back by reconcile (read back):" in reconciled.output
        assert ("map file %s differs from the app model: application-01.6play.fr is application-02 in the file, "
                "application-01 in the app model" % hosts_map) in text
        assert "still there after reconcile (read back)" in reconciled.output and "was put back" not in reconciled.output
        served = traffic.send_concurrently(fleet.frontends["node-a"], HOST, 20, workers=2)
        assert served.failed == 0 and set(served.by_server) <= {CLOUD, ONPREM}, served.as_dict()
    finally:
        with open(hosts_map, "w") as handle:
            handle.write(original)
    assert fleet.playbook("status.yml", "-e", "fail_on_drift=true").returncode == 0


def test_reconcile_does_not_claim_a_backup_flag_it_cannot_set(fleet):
    """Issue 18 #1: a run killed as the reload to 100 started left the state at 100, live weights 100/0 and the
    on-prem servers not backup; reconcile said "the drift above was put back" while the flag stayed."""
    fleet.migrate(APP, 30)
    path = os.path.join(fleet.node_dir("node-b"), "state", "apps", APP + ".json")
    with open(path) as handle:
        original = handle.read()
    record = json.loads(original)
    record["step"] = 100
    try:
        with open(path, "w") as handle:
            json.dump(record, handle)
        fleet.on("node-b").runtime("set weight %s/%s 100" % (APP, CLOUD))
        fleet.on("node-b").runtime("set weight %s/%s 0" % (APP, ONPREM))
        reconciled = fleet.playbook("status.yml", "-e", "reconcile=true", "-e", "fail_on_drift=true", check=False)
        assert reconciled.returncode != 0, reconciled
        assert "the drift above was put back" not in reconciled.output
        assert "still there after reconcile (read back)" in reconciled.output
        assert "on-prem servers are not backup" in reconciled.output, reconciled
        assert "1 node(s) still differ from their recorded state after reconcile" in reconciled.output
    finally:
        with open(path, "w") as handle:
            handle.write(original)
        fleet.on("node-b").runtime("set weight %s/%s 30" % (APP, CLOUD))
        fleet.on("node-b").runtime("set weight %s/%s 70" % (APP, ONPREM))
    assert fleet.playbook("status.yml", "-e", "fail_on_drift=true").returncode == 0


def test_status_reports_a_damaged_state_file_as_that_apps_problem_only(fleet):
    """Issue 18 #12: one app's unreadable state file used to make status.yml show no backend of any app and call
    the node unanswering; now it is that app's line of drift, and the other apps are read (and reconciled)."""
    fleet.migrate(APP, 30)
    path = os.path.join(fleet.node_dir("node-b"), "state", "apps", "application-02.json")
    original = None
    if os.path.exists(path):
        with open(path, "rb") as handle:
            original = handle.read()
    with open(path, "w") as handle:
        handle.write('{"app": "application-02", "step": "abc"}')
    fleet.on("node-b").runtime("set weight %s/%s 80" % (APP, CLOUD))
    try:
        status = fleet.playbook("status.yml", "-e", "reconcile=true", check=False)
    finally:
        if original is None:
            os.remove(path)
        else:
            with open(path, "wb") as handle:
                handle.write(original)
    text = " ".join(status.output.split())
    assert ("node-b: app application-02: state file %s is damaged: step is \"abc\"" % path) in text, status
    assert "did not answer" not in status.output, status
    assert "node-b: application-01: weight %s 80, recorded step 30 wants 30" % CLOUD in status.output, status
    assert fleet.node_weights("node-b") == split(30)  # the readable app was put back
    assert fleet.playbook("status.yml", "-e", "fail_on_drift=true").returncode == 0


def test_status_flags_nodes_at_different_steps(fleet):
    fleet.migrate(APP, 30)
    fleet.playbook("migrate.yml", "-e", "app=%s" % APP, "-e", "step=35", "--limit", "node-a")
    try:
        status = fleet.playbook("status.yml", "-e", "app=%s" % APP)
        assert ("application-01: the nodes disagree on the recorded step (node-a 35, node-b 30, node-c 30)"
                in status.output), status
        assert "STEP DIFFERS" in status.output
    finally:
        fleet.migrate(APP, 30)
    # A ramp refuses to start on a fleet out of step, and migrate.yml puts it back in step.
    assert [fleet.node_step(node) for node in NODES] == [30, 30, 30]


def test_two_runs_on_one_app_one_proceeds_the_other_names_the_holder(fleet):
    fleet.migrate(APP, 30)
    runs = [fleet.playbook_process("migrate.yml", "-e", "app=%s" % APP, "-e", "step=%d" % step, "-e", "gate_window=3")
            for step in (32, 34)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    codes = [run.returncode for run in runs]
    assert sorted(codes)[0] == 0 and sorted(codes)[1] != 0, outputs
    winner, loser = (0, 1) if codes[0] == 0 else (1, 0)
    assert "application-01 is locked on node-a: held by" in outputs[loser]
    assert "migrate.yml app=application-01 step=%d" % (32, 34)[winner] in outputs[loser]
    assert "since 20" in outputs[loser] and "another run holds it" in outputs[loser]
    assert "Measure the cloud and on-prem figures" not in outputs[loser]  # it stopped before the gate
    assert [fleet.node_step(node) for node in NODES] == [(32, 34)[winner]] * 3
    assert locks_left(fleet) == []


def test_a_run_limited_to_other_nodes_meets_the_lock_on_the_lock_node(fleet):
    fleet.migrate(APP, 30)
    holder = fleet.playbook_process("migrate.yml", "-e", "app=%s" % APP, "-e", "step=31", "-e", "gate_window=4")
    try:
        lock_file = os.path.join(fleet.node_dir("node-a"), "state", "locks", APP + ".lock")
        deadline = time.time() + 60
        while not os.path.exists(lock_file) and time.time() < deadline:
            time.sleep(0.05)
        limited = fleet.migrate(APP, 50, "--limit", "node-b:node-c", check=False)
        assert limited.returncode != 0
        assert "application-01 is locked on node-a: held by" in " ".join(limited.output.split()), limited.output
    finally:
        output = holder.communicate(timeout=300)[0]
    assert holder.returncode == 0, output[-4000:]
    assert [fleet.node_step(node) for node in NODES] == [31] * 3


def test_runs_on_two_different_apps_proceed_together(fleet):
    fleet.migrate(APP, 30)
    runs = [fleet.playbook_process("migrate.yml", "-e", "app=%s" % APP, "-e", "step=33", "-e", "gate_window=3"),
            fleet.playbook_process("migrate.yml", "-e", "app=application-02", "-e", "route=customers", "-e",
                                   "step=30", "-e", "gate_window=3")]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert [fleet.node_step(node) for node in NODES] == [33] * 3
    assert [fleet.node_step(node, "application-02", "customers") for node in NODES] == [30] * 3


def wait_for_lock(fleet, app=APP, timeout=60):
    lock_file = os.path.join(fleet.node_dir("node-a"), "state", "locks", app + ".lock")  # the lock node
    deadline = time.time() + timeout
    while not os.path.exists(lock_file) and time.time() < deadline:
        time.sleep(0.02)
    assert os.path.exists(lock_file), "no run took the lock of %s within %d s" % (app, timeout)


def test_site_yml_stops_at_once_while_a_step_holds_the_lock(fleet):
    # Issue 18 #4: site.yml took no lock; beside a step both returned rc 0 and the node kept neither's result.
    fleet.migrate(APP, 30)
    config = os.path.join(fleet.node_dir("node-b"), "etc", "haproxy.cfg")
    config_before = os.stat(config).st_mtime_ns
    holder = fleet.playbook_process("migrate.yml", "-e", "app=%s" % APP, "-e", "step=32", "-e", "gate_window=5")
    try:
        wait_for_lock(fleet)
        refused = fleet.playbook("site.yml", check=False)
        assert refused.returncode != 0
        text = " ".join(refused.output.split())
        assert "application-01 is locked on node-a: held by" in text and "migrate.yml app=application-01 step=32" in text, text
        assert "Read every app's recorded steps from the state store" not in refused.output  # stopped before the role
    finally:
        output = holder.communicate(timeout=300)[0]
    assert holder.returncode == 0, output[-4000:]
    assert os.stat(config).st_mtime_ns == config_before
    assert [fleet.node_step(node) for node in NODES] == [32] * 3
    assert weights_everywhere(fleet) == dict((node, split(32)) for node in NODES)
    assert locks_left(fleet) == []


def test_a_step_stops_at_once_while_site_yml_holds_the_locks(fleet):
    fleet.migrate(APP, 30)
    site = fleet.playbook_process("site.yml")
    try:
        wait_for_lock(fleet)
        signal_group(site, signal.SIGSTOP)  # site.yml frozen while it holds every app's lock: no race with the step
        try:
            refused = fleet.migrate(APP, 10, check=False)
        finally:
            signal_group(site, signal.SIGCONT)
        assert refused.returncode != 0
        text = " ".join(refused.output.split())
        assert "application-01 is locked on node-a: held by" in text and "site.yml (every app's configuration)" in text, text
    finally:
        output = site.communicate(timeout=300)[0]
    assert site.returncode == 0, output[-4000:]
    assert [fleet.node_step(node) for node in NODES] == [30] * 3
    assert weights_everywhere(fleet) == dict((node, split(30)) for node in NODES)
    assert locks_left(fleet) == []


def test_a_killed_runs_lock_is_taken_over_and_an_expired_one_broken_only_with_break_lock(fleet):
    """Issue 18 #3: a run killed on this controller leaves its lock, and its process is gone: the next run takes it
    over by itself and says so. A lock from another controller whose lease ran out may belong to a live run that
    cannot reach the node: it is broken only with -e break_lock=true."""
    fleet.migrate(APP, 30)
    process = fleet.playbook_process("migrate.yml", "-e", "app=%s" % APP, "-e", "step=36", "-e", "gate_window=60")
    lock_file = os.path.join(fleet.node_dir("node-a"), "state", "locks", APP + ".lock")  # the lock node
    deadline = time.time() + 60
    while not os.path.exists(lock_file) and time.time() < deadline:
        time.sleep(0.05)
    assert os.path.exists(lock_file)
    process.send_signal(signal.SIGKILL)  # the holder is gone, its lock stays
    process.wait()
    assert os.path.exists(lock_file)
    taken = fleet.migrate(APP, 38)
    assert "took over the lock of %s on node-a: held by" % APP in taken.output, taken
    assert "its process %d on" % process.pid in taken.output and " is gone" in taken.output
    assert [fleet.node_step(node) for node in NODES] == [38] * 3
    broken = [record for record in audit(fleet) if record["action"] == "lock-broken"]
    assert broken and "pid %d" % process.pid in broken[-1]["note"] and "taken over" in broken[-1]["note"]
    assert locks_left(fleet) == []

    with open(lock_file, "w") as handle:
        json.dump({"name": APP, "run_id": "ctl-elsewhere:0badc0de:4242:1", "by": "bob", "controller": "ctl-elsewhere",
                   "boot_id": "0badc0de", "pid": 4242, "pid_start": "1", "purpose": "ramp.yml app=%s" % APP,
                   "since": "2026-01-01T00:00:00+00:00", "expires": "2026-01-01T00:15:00+00:00"}, handle)
    refused = fleet.migrate(APP, 40, check=False)
    assert refused.returncode != 0
    assert "held by bob on ctl-elsewhere" in refused.output, refused
    assert "the lock is STALE (its lease ran out at 2026-01-01T00:15:00+00:00" in refused.output
    assert "rerun with -e break_lock=true to break it" in refused.output
    assert [fleet.node_step(node) for node in NODES] == [38] * 3
    fleet.migrate(APP, 40, "-e", "break_lock=true")
    assert [fleet.node_step(node) for node in NODES] == [40] * 3
    broken = [record for record in audit(fleet) if record["action"] == "lock-broken"]
    assert "ctl-elsewhere" in broken[-1]["note"] and "break_lock=true" in broken[-1]["note"]
    assert locks_left(fleet) == []


def test_the_lock_holds_while_a_ramp_runs(fleet):
    fleet.migrate(APP, 0)
    with traffic.BackgroundTraffic(fleet.frontends["node-a"], HOST, workers=2, max_seconds=120):
        ramp = fleet.playbook_process("ramp.yml", "-e", "app=%s" % APP, "-e", '{"steps": [5]}', "-e", "interval=4",
                                      "-e", "max_checks=3")
        try:
            lock_file = os.path.join(fleet.node_dir("node-a"), "state", "locks", APP + ".lock")
            deadline = time.time() + 60
            while not os.path.exists(lock_file) and time.time() < deadline:
                time.sleep(0.05)
            refused = fleet.migrate(APP, 50, check=False)
            assert refused.returncode != 0 and "ramp.yml app=application-01 steps=5" in refused.output, refused
            output = ramp.communicate(timeout=300)[0]
        finally:
            if ramp.poll() is None:
                ramp.kill()
    assert "check 1 | step 0" in output, output[-4000:]
    assert locks_left(fleet) == []
