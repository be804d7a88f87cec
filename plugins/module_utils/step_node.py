# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The step engine's node half (module haproxy_step): the plan and the window on a node (phase measure, reading
only), then the decided step (phase apply) or its undo. The controller half is step_engine.py; this file imports
nothing of it, so that the module shipped to every node carries only what a node runs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy import stats as stats_model
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.recovery import recovery_view
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import onprem_backup_live, read_backend
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.state import load_app_state, pending_entries
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.step import (
    StepError, apply_step, parse_step_request, plan_step)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.timings import DEFAULT_RING
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import backend_label, backend_name

WINDOW_STARTS = ("step", "now", "previous")


class NodeStepError(CloudshiftError):
    pass


def backend_of(target):
    """The backend a target names (the app's own, or <app>--<route>); the app model built it, this checks it."""
    return backend_name(target["app"], target.get("route"))


def parse_request(value):
    """A step 0-100 or rollback (StepError naming the value)."""
    return parse_step_request(value)


def plan_on_node(client, state_dir, target, request=None):
    """Where this node's backend is and where the request takes it (None: nowhere, the plan says where it is);
    checks the backend and servers are live on an admin-level socket (read only)."""
    state = load_app_state(state_dir, target["app"])
    servers = read_backend(client, target["backend"], require_admin=True)
    missing = [name for name in target["cloud_servers"] + target["onprem_servers"] if name not in servers]
    if missing:
        raise StepError("backend %s has no server named %s on this node (the running configuration is not the "
                        "app model's: run site.yml)" % (target["backend"], ", ".join(missing)))
    # A change a stopped run left unfinished: planned from where the recovery (run next, under the lock) leaves it.
    pending = ["%s (step %s -> %s, %s)" % (backend_label(target["app"], route), change.get("from"), change["to"],
                                           change["kind"]) for route, change in pending_entries(state)]
    state, _action = recovery_view(state, target, onprem_backup_live(servers, target["onprem_servers"]))
    entry = (state or {}) if target["route"] is None else ((state or {}).get("routes") or {}).get(target["route"]) or {}
    if request is None:
        plan = plan_step(state, target["app"], 0, target["initial_step"], route=target["route"])
        plan.update(target=plan["current"], reaching_100=False, leaving_100=False)
    else:
        plan = plan_step(state, target["app"], request, target["initial_step"], route=target["route"])
    return {
        "current": plan["current"],
        "step": plan["target"],
        "recorded": plan["recorded"],
        "reaching_100": plan["reaching_100"],
        "leaving_100": plan["leaving_100"],
        "updated_at": entry.get("updated_at"),
        "pending": pending,
    }


def measure_window(client, state_dir, target, start, seconds, since=None, ring=None, max_samples=5000):
    """The cloud and on-prem figures of the backend over its window.

    start: `step` (since the current step was set: the snapshot apply saved), `now` (seconds from now) or
    `previous` (since the snapshot `since`, the end of the previous window, so a ramp's windows are back to
    back). seconds 0 means until now.
    """
    if start not in WINDOW_STARTS:
        raise NodeStepError("window start must be one of %s, got %r" % (", ".join(WINDOW_STARTS), start))
    backend = target["backend"]
    params = {"backend": backend, "cloud_servers": target["cloud_servers"], "onprem_servers": target["onprem_servers"],
              "duration": float(seconds) if seconds else None, "since": None, "since_file": None,
              "ring": ring, "max_samples": max_samples}
    if start == "step":
        params["since_file"] = stats_model.snapshot_path(state_dir, backend)
    elif start == "previous":
        if since is None:
            raise NodeStepError("a window starting at the previous one needs its snapshot")
        stats_model.check_snapshot(since, backend)
        params["since"] = since
    elif not seconds:
        raise NodeStepError("a window starting now needs a number of seconds")
    return stats_model.measure(client, params)


def measure_on_node(client, state_dir, target, request, window, ring=None):
    """Phase measure: this node's plan and, unless window is None, its window (read only)."""
    plan = plan_on_node(client, state_dir, target, request)
    if window is None:
        return {"plan": plan, "window": None, "snapshot": None, "pending": plan["pending"]}
    start, seconds = window["start"], window.get("seconds") or 0
    if start == "now" and plan["step"] <= plan["current"]:
        # A gate window is for traffic going up: a step that does not go up is never gated, so it never waits
        # (its report shows the figures since the current step was set).
        start, seconds = "step", 0
    measured, snapshot = measure_window(client, state_dir, target, start, seconds, since=window.get("since"), ring=ring)
    return {"plan": plan, "window": measured, "snapshot": snapshot, "pending": plan["pending"]}


def apply_on_node(client, state_dir, target, step, expected_current, undo_step=None, by=None, note=None,
                  server_state_file=None, ring=None, check_mode=False):
    """Phase apply: the decided step, if the node is still at the step its plan found (or, with undo_step, take
    back a step that did not reach every node: a node not at undo_step keeps its step)."""
    if undo_step is None and expected_current is not None:
        state = load_app_state(state_dir, target["app"])
        now = plan_step(state, target["app"], parse_request(step), target["initial_step"], route=target["route"])
        # Already at the step: a retry (on_node_failure=complete) after this node took it.
        if now["current"] not in (expected_current, now["target"]):
            raise StepError("%s moved on this node since the plan (from step %s to %s): another run changed it; "
                            "nothing was changed here" % (target["label"], expected_current, now["current"]))
    return apply_step(client, state_dir, target["app"], target["cloud_servers"], target["onprem_servers"],
                      step if undo_step is None else None, initial_step=target["initial_step"], by=by, note=note,
                      server_state_file=server_state_file, check_mode=check_mode, route=target["route"],
                      timings_ring=ring if ring is not None else DEFAULT_RING, undo_step=undo_step)
