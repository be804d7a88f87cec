"""Runs cut off where it hurts, against three real HAProxy nodes (issue 18 #1, #2, #3), and restore.yml.

Each cut lands at a named task through the test-only callback (callback_plugins/cloudshift_test_hooks.py): kill -9
or Ctrl-C of the whole ansible-playbook process group as that task starts, before any node runs it, so every run is
cut at the same point whatever the machine's load. What the next run, status.yml -e reconcile=true or site.yml then
does is read from the running HAProxy (backup flags, weights), the state store, haproxy.cfg and the audit log.
A fleet of its own (offset 10000: ports 14566 and 18000-18544), so these long tests run beside test_fleet.py.
"""

import os

import pytest

import traffic
from fleet_helpers import (APP, AT_100, CLOUD, HOST, NODES, ONPREM, audit, backend_lines, backup_servers, cut_run,
                           locks_left, pending_of, reloads_of, running_fleet, split,
                           weights_everywhere)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    with running_fleet(tmp_path_factory.mktemp("drillfleet"), 10000) as env:
        yield env


def test_restore_puts_the_previous_configuration_back_at_the_recorded_steps_and_again_undoes_it(fleet):
    """restore.yml (issue 18: it had no integration test): site.yml with another observe error-limit keeps the
    configuration it replaced as haproxy.cfg.previous; restore.yml checks it, swaps it in on every node, reloads
    hitlessly under traffic and leaves every node at its recorded step; check mode changes nothing; a second
    restore.yml puts the newer configuration back."""
    fleet.migrate(APP, 30)
    fleet.playbook("site.yml", "-e", "haproxy_observe_error_limit=7")
    config = dict((node, os.path.join(fleet.node_dir(node), "etc", "haproxy.cfg")) for node in NODES)
    for node in NODES:
        assert "error-limit 7 " in open(config[node]).read() and "error-limit 7 " not in open(config[node] + ".previous").read()
    reloads = dict((node, reloads_of(fleet, node)) for node in NODES)

    checked = fleet.playbook("restore.yml", "--check", "--diff")
    assert "error-limit 7" in checked.output, checked  # the diff shows what would go
    assert all("error-limit 7 " in open(config[node]).read() for node in NODES)
    assert all(reloads_of(fleet, node) == reloads[node] for node in NODES)

    with traffic.BackgroundTraffic(fleet.frontends["node-b"], HOST, workers=2, max_seconds=120) as background:
        restored = fleet.playbook("restore.yml")
    assert background.result.failed == 0, background.result.as_dict()
    said = " ".join(restored.output.split())  # the yaml callback folds long lines
    assert "is the previous configuration again" in said and "every backend is at its recorded step" in said, said
    for node in NODES:
        assert "error-limit 7 " not in open(config[node]).read() and "error-limit 7 " in open(config[node] + ".previous").read()
        assert reloads_of(fleet, node) == reloads[node] + 1, node
        assert fleet.node_step(node) == 30 and fleet.node_weights(node) == split(30), node
    assert locks_left(fleet) == []

    fleet.playbook("restore.yml")  # again: the newer configuration is back
    assert all("error-limit 7 " in open(config[node]).read() for node in NODES)
    fleet.playbook("site.yml")
    assert all("error-limit 7 " not in open(config[node]).read() for node in NODES)
    assert weights_everywhere(fleet) == {node: split(30) for node in NODES}


def test_a_step_to_100_killed_as_its_reload_starts_is_undone_then_taken_by_the_next_run(fleet):
    """Issue 18 #1: kill -9 of `migrate.yml -e step=100 -e force=true` as the reload to 100 starts. Every node then
    has cloud 100 / on-prem 0 live, its on-prem servers NOT backup (the reload never ran) and its record at 100:
    before, a rerun of step=100 said nothing to change and a dead cloud meant 503 for every request. Now the record
    holds the step's intent; the rerun takes the killed run's lock over, undoes the cut-off step to 50 on every
    node (read back from the running HAProxy), plans again and takes step 100 for real."""
    fleet.migrate(APP, 50)
    audit_length = len(audit(fleet))
    killed_pid, output = cut_run(fleet, "Render the configuration from the recorded steps and reload hitlessly",
                                 "KILL", "-e", "step=100", "-e", "force=true")
    for node in NODES:
        assert fleet.node_step(node) == 100, (node, output[-3000:])
        assert pending_of(fleet, node)["kind"] == "step" and pending_of(fleet, node)["from"] == 50, node
        assert fleet.node_weights(node) == split(100), node
        assert backup_servers(fleet, node) == [], node  # the state issue 18 #1 found
    assert locks_left(fleet) == ["node-a:%s.lock" % APP]

    rerun = fleet.migrate(APP, 100, "-e", "force=true")
    assert "took over the lock of %s on node-a" % APP in rerun.output and "process %d" % killed_pid in rerun.output
    for node in NODES:
        assert ("%s: %s: step 50 -> 100" % (node, APP)) in rerun.output, rerun
    assert "was cut off before this node was read back at it: undone, back at step 50" in rerun.output
    for node in NODES:
        assert fleet.node_step(node) == 100 and pending_of(fleet, node) is None, node
        assert fleet.node_weights(node) == AT_100, node
        assert backup_servers(fleet, node) == [ONPREM], node
    records = audit(fleet)[audit_length:]
    recovered = [record for record in records if record["action"] == "recovered"]
    assert len(recovered) == 3 and {record["to"] for record in recovered} == {50}
    assert [record["action"] for record in records if record["action"] != "recovered"][-1] == "step"
    assert locks_left(fleet) == []

    # What the cut-off step put at risk: with the cloud dead, on-prem (backup) answers every request.
    fleet.democtl("fault", APP, "cloud", "down")
    try:
        fleet.on("node-b").wait_status(APP, CLOUD, "DOWN", timeout=30)
        result = traffic.send_concurrently(fleet.frontends["node-b"], HOST, 40, workers=2)
        assert result.failed == 0 and result.share(lambda name: name == ONPREM) == 100, result.as_dict()
    finally:
        fleet.democtl("fault", APP, "cloud", "ok")
        for node in NODES:
            fleet.on(node).wait_status(APP, CLOUD, "UP", timeout=30)


def test_a_step_from_100_interrupted_before_its_reload_is_undone_by_reconcile(fleet):
    """Issue 18 #2, first half: Ctrl-C of `migrate.yml -e step=50` (from 100) as the reload starts. haproxy.cfg
    and the record say 50; the running HAProxy is still at 100 (on-prem backup). Before, status advised site.yml,
    which could do neither. Now status names the cut-off step, and reconcile undoes it: back at 100, haproxy.cfg
    rendered at 100 again (no reload needed: the running HAProxy has it), read back and audited."""
    fleet.migrate(APP, 100, "-e", "force=true")
    audit_length = len(audit(fleet))
    cut_run(fleet, "Reload HAProxy through its master", "INT", "-e", "step=50")
    assert locks_left(fleet) == ["node-a:%s.lock" % APP]  # Ctrl-C runs no `always`: the lock stays
    for node in NODES:
        assert fleet.node_step(node) == 50 and pending_of(fleet, node)["from"] == 100, node
        assert backup_servers(fleet, node) == [ONPREM], node  # still the configuration of 100
        assert [line for line in backend_lines(fleet, node, APP) if line.endswith(" backup")] == [], node

    status = fleet.playbook("status.yml", check=False)
    assert "step 100 -> 50" in status.output and "was cut off" in status.output, status
    audited = len(audit(fleet))
    checked = fleet.playbook("status.yml", "-e", "reconcile=true", "--check")
    assert all(pending_of(fleet, node) is not None for node in NODES)  # check mode: said, not done
    assert "would take over the lock of %s on node-a" % APP in checked.output, checked
    assert locks_left(fleet) == ["node-a:%s.lock" % APP] and len(audit(fleet)) == audited

    reconciled = fleet.playbook("status.yml", "-e", "reconcile=true")
    assert "took over the lock" in reconciled.output, reconciled
    assert "was cut off before this node was read back at it: undone, back at step 100" in reconciled.output
    for node in NODES:
        assert fleet.node_step(node) == 100 and pending_of(fleet, node) is None, node
        assert fleet.node_weights(node) == AT_100, node
        assert backup_servers(fleet, node) == [ONPREM], node
        assert [line for line in backend_lines(fleet, node, APP) if line.endswith(" backup")] != [], node
    recovered = [record for record in audit(fleet)[audit_length:] if record["action"] == "recovered"]
    assert len(recovered) == 3 and {record["to"] for record in recovered} == {100}
    after = fleet.playbook("status.yml", "-e", "fail_on_drift=true")
    assert "every node is at its recorded state and they agree" in after.output


def test_a_step_from_100_interrupted_after_its_reload_is_finished_by_site(fleet):
    """Issue 18 #2, second half: Ctrl-C of `migrate.yml -e step=50` (from 100) once the reload ran, before the
    weights were read back. The running HAProxy already has the configuration of 50 (no backup flag), and the
    weights it loaded are those of 50: the server-state file was saved when the weights changed, before the
    reload. site.yml takes the lock over and finishes the step: read back at 50, recorded, audited."""
    fleet.migrate(APP, 100, "-e", "force=true")
    audit_length = len(audit(fleet))
    cut_run(fleet, "Make the live weights match the step after the reload", "INT", "-e", "step=50")
    for node in NODES:
        assert fleet.node_step(node) == 50 and pending_of(fleet, node) is not None, node
        assert backup_servers(fleet, node) == [], node  # the reload ran
        assert fleet.node_weights(node) == split(50), node  # not the stale weights of 100

    site = fleet.playbook("site.yml")
    assert "was cut off before this node was read back at it: finished at step 50" in site.output, site
    for node in NODES:
        assert fleet.node_step(node) == 50 and pending_of(fleet, node) is None, node
        assert fleet.node_weights(node) == split(50), node
    recovered = [record for record in audit(fleet)[audit_length:] if record["action"] == "recovered"]
    assert len(recovered) == 3 and {record["to"] for record in recovered} == {50}
    assert locks_left(fleet) == []
