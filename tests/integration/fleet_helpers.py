# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the tests of a three-node fleet share (test_fleet.py, test_recovery_drills.py): the fleet brought up, the
app they move, and readers of each node's weights, configuration, audit log and locks."""

import contextlib
import json
import os

from haproxy_process import runtime
from localenv_fixture import FleetEnv

APP = "application-01"
HOST = "application-01.6play.fr"
CLOUD = "aws-prod-Kubernetes-application-01"
ONPREM = "onprem-prod-front-application-01"
NODES = ("node-a", "node-b", "node-c")
BACKEND_SERVER = "%s/%s" % (APP, CLOUD)  # what node_fault.py level probes
APPLY_TASK = "Move the backend to the decided step"  # apply.yml: where a node takes the step


@contextlib.contextmanager
def running_fleet(run_dir, port_offset):
    """Three nodes up, the app's cloud server UP on each (a module fixture's body), brought down at the end."""
    env = FleetEnv(run_dir, port_offset, nodes=len(NODES))
    try:
        env.up()
        for node in NODES:
            env.on(node).wait_status(APP, CLOUD, "UP")
        yield env
    finally:
        env.down()


def weights_everywhere(fleet, backend=APP):
    return {node: fleet.node_weights(node, backend) for node in NODES}


def split(cloud):
    return {ONPREM: 100 - cloud, CLOUD: cloud}


AT_100 = {ONPREM: 100, CLOUD: 100}  # step 100 once its reload ran: the on-prem servers are backups of weight 100


def backend_lines(fleet, node, backend):
    with open(os.path.join(fleet.node_dir(node), "etc", "haproxy.cfg")) as handle:
        lines = handle.read().split("\n")
    start = lines.index("backend %s" % backend)
    section = []
    for line in lines[start + 1:]:
        if line and not line.startswith(" "):
            break
        section.append(line.strip())
    return section


def audit(fleet, app=APP):
    with open(os.path.join(fleet.audit_dir, app + ".jsonl")) as handle:
        return [json.loads(line) for line in handle]


def locks_left(fleet):
    """Lock files still held on any node (only the lock node, node-a, ever holds one)."""
    held = []
    for node in NODES:
        directory = os.path.join(fleet.node_dir(node), "state", "locks")
        if os.path.isdir(directory):
            held += ["%s:%s" % (node, name) for name in os.listdir(directory) if name.endswith(".lock")]
    return held


def backup_servers(fleet, node, backend=APP):
    """The servers of backend that the running HAProxy has as backup (show stat's bck column)."""
    lines = fleet.on(node).runtime("show stat").splitlines()
    header = lines[0].lstrip("# ").split(",")
    rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
    return sorted(row["svname"] for row in rows if row["pxname"] == backend and row["bck"] == "1"
                  and row["svname"] not in ("FRONTEND", "BACKEND"))


def pending_of(fleet, node, app=APP):
    with open(os.path.join(fleet.node_dir(node), "state", "apps", app + ".json")) as handle:
        return json.load(handle).get("pending")


def cut_run(fleet, task, how, *extra):
    """migrate.yml cut off (kill -9 or Ctrl-C of its whole process group) as `task` starts, before any node runs
    it: the same point on every run, whatever the machine's load. Returns the run's output."""
    process = fleet.playbook_process("migrate.yml", "-e", "app=%s" % APP, *extra,
                                     hooks=[{"event": "task_start", "task": task, "signal": how}])
    output = process.communicate(timeout=300)[0]
    assert process.returncode != 0, output[-4000:]
    return process.pid, output


def reloads_of(fleet, node):
    master = os.path.join(fleet.node_dir(node), "run", "master.sock")
    answer = runtime(master, "show proc")
    return int([line for line in answer.splitlines() if " master " in line][0].split()[2])
