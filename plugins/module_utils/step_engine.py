# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The step engine: plan -> measure -> judge -> apply -> record, for one backend over a fleet of nodes.

A step is one transaction over the fleet. Its phases, and where each runs:

* begin (controller, action plugin migration_step): the one validation (app model and request) and the
  target - the backend the request moves, resolved by the app model, as one dict.
* measure (each node, module haproxy_step phase=measure): on the lock node, the run's lock first; then the
  plan on this node (its recorded step, the request resolved, the backend and servers live on an
  admin-level socket) and the cloud and on-prem figures of its window. Reads only.
* judge (controller): every node planned the same step; the cloud side (ELB health, capacity) before
  traffic goes up; the gate over every node's window; the decision, or a refusal with the numbers.
* apply (each node, haproxy_step phase=apply): the decided step, only if the node is still where its plan
  found it; weights over the runtime API, the state store, the server-state file, the window's snapshot.
* finish (controller): the fleet's outcome (a node that failed makes the others take the step back), the
  audit line, the report, the lock given back.

This file holds the pure parts of every phase and the node half; plugins/action/migration_step.py holds
the controller half's I/O (AWS, audit log, lock). Nothing here derives a backend: the target comes from
app_model.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import stats as stats_model
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.report import step_table
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import read_backend
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.state import load_app_state
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.step import (
    ROLLBACK, StepError, apply_step, plan_step)

WINDOW_STARTS = ("step", "now", "previous")


class EngineError(CloudshiftError):
    pass


# -- node half ------------------------------------------------------------------------------------

def plan_on_node(client, state_dir, target, request):
    """Where this node's backend is and where the request takes it; checks the backend and servers are live
    on an admin-level socket (read only)."""
    state = load_app_state(state_dir, target["app"])
    plan = plan_step(state, target["app"], request, target["initial_step"], route=target["route"])
    servers = read_backend(client, target["backend"], require_admin=True)
    missing = [name for name in target["cloud_servers"] + target["onprem_servers"] if name not in servers]
    if missing:
        raise StepError("backend %s has no server named %s on this node (the running configuration is not the "
                        "app model's: run site.yml)" % (target["backend"], ", ".join(missing)))
    return {
        "current": plan["current"],
        "step": plan["target"],
        "recorded": plan["recorded"],
        "reaching_100": plan["reaching_100"],
        "leaving_100": plan["leaving_100"],
    }


def measure_window(client, state_dir, target, start, seconds, since=None, ring=None, max_samples=5000):
    """The cloud and on-prem figures of the backend over its window.

    start: `step` (since the current step was set: the snapshot apply saved), `now` (seconds from now) or
    `previous` (since the snapshot `since`, the end of the previous window, so a ramp's windows are back to
    back). seconds 0 means until now.
    """
    if start not in WINDOW_STARTS:
        raise EngineError("window start must be one of %s, got %r" % (", ".join(WINDOW_STARTS), start))
    backend = target["backend"]
    params = {"backend": backend, "cloud_servers": target["cloud_servers"], "onprem_servers": target["onprem_servers"],
              "duration": float(seconds) if seconds else None, "since": None, "since_file": None,
              "ring": ring, "max_samples": max_samples}
    if start == "step":
        params["since_file"] = stats_model.snapshot_path(state_dir, backend)
    elif start == "previous":
        if since is None:
            raise EngineError("a window starting at the previous one needs its snapshot")
        stats_model.check_snapshot(since, backend)
        params["since"] = since
    elif not seconds:
        raise EngineError("a window starting now needs a number of seconds")
    return stats_model.measure(client, params)


def measure_on_node(client, state_dir, target, request, window, ring=None):
    """Phase measure: this node's plan and window (read only)."""
    plan = plan_on_node(client, state_dir, target, request)
    measured, snapshot = measure_window(client, state_dir, target, window["start"], window.get("seconds") or 0,
                                        since=window.get("since"), ring=ring)
    return {"plan": plan, "window": measured, "snapshot": snapshot}


def apply_on_node(client, state_dir, target, step, expected_current, by=None, note=None, server_state_file=None,
                  ring=None, check_mode=False):
    """Phase apply: the decided step, if the node is still at the step its plan found."""
    state = load_app_state(state_dir, target["app"])
    now = plan_step(state, target["app"], step, target["initial_step"], route=target["route"])
    if expected_current is not None and now["current"] != expected_current:
        raise StepError("%s moved on this node since the plan (from step %s to %s): another run changed it; nothing "
                        "was changed here" % (target["label"], expected_current, now["current"]))
    return apply_step(client, state_dir, target["app"], target["cloud_servers"], target["onprem_servers"], step,
                      initial_step=target["initial_step"], by=by, note=note, server_state_file=server_state_file,
                      check_mode=check_mode, route=target["route"], timings_ring=ring)


def undo_on_node(client, state_dir, target, undone_step, by=None, note=None, server_state_file=None, ring=None,
                 check_mode=False):
    """Take back a step that did not reach every node (idempotent: a node not at undone_step keeps its step)."""
    return apply_step(client, state_dir, target["app"], target["cloud_servers"], target["onprem_servers"], None,
                      initial_step=target["initial_step"], by=by, note=note, server_state_file=server_state_file,
                      check_mode=check_mode, route=target["route"], timings_ring=ring, undo_step=undone_step)


# -- controller half (pure) -----------------------------------------------------------------------

def agreed_step(target, plans):
    """The one step every node resolved the request to; EngineError naming the nodes when they disagree."""
    steps = sorted(set(plan["step"] for plan in plans.values()))
    if len(steps) != 1:
        detail = "; ".join("%s %s -> %s" % (node, plans[node]["current"], plans[node]["step"]) for node in sorted(plans))
        raise EngineError("the nodes disagree on the step the request means for %s: %s" % (target["backend"], detail))
    return steps[0]


def is_raising(plans, step):
    """Whether the step goes up on any node (only going up is gated and checked against the cloud side)."""
    return min(plan["current"] for plan in plans.values()) < step


def cloud_checks_needed(plans, step):
    """(elb, capacity): the ELB's health before the first traffic to the cloud, capacity before every step up."""
    raising = is_raising(plans, step)
    lowest = min(plan["current"] for plan in plans.values())
    return raising and lowest == 0, raising and step > 0


def refusal(target, plans, step, gate, force):
    """The lines refusing a step up whose gate failed, or None when the step may go."""
    if not is_raising(plans, step) or gate["verdict"] != "fail" or force:
        return None
    current = max(plan["current"] for plan in plans.values())
    return (["refused: %s stays at step %s, the gate failed for step %s (pass -e force=true to go up anyway; it is "
             "recorded)" % (target["label"], current, step)] + gate["table"] + [""] + gate["figures"])


def step_note(raising, gate, force, note=None):
    if raising and force and gate.get("verdict") == "fail":
        return "forced past a failed gate"
    return note


def window_request(gate_window):
    """migrate.yml's window: since the current step was set, or gate_window seconds from now."""
    return {"start": "now", "seconds": gate_window} if gate_window else {"start": "step", "seconds": 0}


def summary(target, gate, raising, gate_window, reports):
    """The table migrate.yml ends with: nodes, shares, servers, and cloud against on-prem."""
    since = "the gate window started" if gate_window else "the previous step was set"
    lines = step_table(reports)
    lines += ["", "cloud against on-prem since %s (%s s):" % (since, gate["window"]["seconds"])]
    lines += gate["figures"] + [""]
    lines += ["gate of the step up:"] if raising else ["gate (information only: going down is not gated):"]
    return lines + gate["table"]


def node_paths(node):
    """A node's settings the node half needs, with the state dir's derived files."""
    state_dir = node["state_dir"]
    return dict(node, server_state_file=node.get("server_state_file") or os.path.join(state_dir, "server-state"))


__all__ = ["ROLLBACK", "EngineError", "plan_on_node", "measure_on_node", "apply_on_node", "undo_on_node",
           "agreed_step", "is_raising", "cloud_checks_needed", "refusal", "window_request", "summary"]
