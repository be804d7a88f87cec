#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: haproxy_step
short_description: Move an app to a migration step on one HAProxy node (runtime weights and state store)
version_added: 0.1.0
description:
  - Reads the app's recorded step from the node's state store, resolves O(step=rollback) to the previous
    step, sets the cloud share over HAProxy's runtime API in one batch and records the new step.
  - A step below 100 needs no reload. Reaching 100 sets the weights at once and returns
    RV(reload_required=true) so the on-prem servers become C(backup) with a reload; leaving 100 only
    records the step and returns RV(reload_required=true), since the backup flag goes with the reload.
  - Everything is validated (names, step, backend and servers on the runtime API) before the first
    command that changes anything. If recording the step fails, the weights are put back.
  - Never touches a server's admin state.
  - "The step engine (C(playbooks/migrate.yml), C(ramp.yml)) runs it twice per node: O(phase=measure) first on every
    node (the plan: the recorded step and where the request takes it, the backend and servers live on an
    admin-level socket; and the cloud and on-prem figures of the O(window)), reading only; then, once the
    controller has judged every node's window, O(phase=apply) with the decided step and O(expected_step)."
options:
  phase:
    description:
      - V(apply) moves the app to O(step) (or takes O(undo_step) back).
      - V(measure) changes nothing on HAProxy - it plans O(step) on this node and measures the O(window); with
        O(lock) it takes the run's lock on this node first (the fleet's lock node). A backend whose record holds a
        change a stopped run left unfinished is planned from where V(recover) will leave it (RV(pending) lists them).
      - V(recover) finishes or undoes, for every backend of O(targets), the change a stopped run left unfinished (the
        record's C(pending) intent, written before the first change of a step that reaches or leaves 100). The
        running HAProxy is read back - a step it does not run yet (the backup flag) is undone, one it runs (or an
        undo) is finished - then the record's weights are set and read back and the intent is dropped. Where the
        backup flag still differs, RV(reload_required=true) asks for the configuration rendered from the record and
        a reload, after which V(recover) is run again. Run under the app's lock (the migration role does).
    type: str
    choices: [apply, measure, recover]
    default: apply
    version_added: 0.7.0
  target:
    description:
      - The backend the step moves, as the app model resolves it (C(app), C(route), C(cloud_servers),
        C(onprem_servers), C(initial_step), C(label)), given instead of O(app), O(route), O(cloud_servers),
        O(onprem_servers) and O(initial_step).
    type: dict
    version_added: 0.7.0
  targets:
    description:
      - With O(phase=recover), the backends to look at, as the app model resolves them (each a O(target)).
    type: list
    elements: dict
    version_added: 0.7.0
  window:
    description:
      - With O(phase=measure), where the window starts - C(start) V(step) (since the current step was set),
        V(now) (C(seconds) from now) or V(previous) (at the snapshot C(since), where the previous window ended) -
        and C(seconds), its length (V(0) until now).
    type: dict
    version_added: 0.7.0
  expected_step:
    description:
      - With O(phase=apply), the step this node was at when it was planned; when it is no longer there (another
        run moved it), nothing is changed and the task fails.
    type: int
    version_added: 0.7.0
  cloud_side:
    description:
      - With O(phase=measure), the app's entry of the app model (C(app)) with the controller's C(aws) settings and
        C(ca_file); the action plugin starts the cloud side's checks (the ELB's health, the cluster's capacity) in a
        process of their own on the controller while the module measures the node, and returns where their outcome
        will be as RV(cloud_side). M(cloudshift.migration.migration_step)'s judge reads it only when the step goes
        up. Never sent to the node.
    type: dict
    version_added: 0.7.0
  lock:
    description:
      - With O(phase=measure), the run's lock to take on this node before anything else - C(names), C(ttl),
        C(purpose), C(by), C(break_stale) (as M(cloudshift.migration.migration_lock)). The action plugin adds
        the run's identity.
    type: dict
    version_added: 0.7.0
  state_dir:
    description: Directory of the node's state store.
    type: path
    required: true
  app:
    description: Name of the app; also the name of its backend (unless O(route) is given). Required without O(target).
    type: str
  route:
    description:
      - Name of one route of the app (path-by-path migration, docs/app-model.md). The step then applies
        to the route's backend C(<app>--<route>) and is recorded under the route in the app's state
        file; O(cloud_servers), O(onprem_servers) and O(initial_step) are the route's.
    type: str
  cloud_servers:
    description: Names of the backend's cloud servers. Required without O(target).
    type: list
    elements: str
  onprem_servers:
    description: Names of the backend's on-prem servers. Required without O(target).
    type: list
    elements: str
  step:
    description:
      - The cloud share in percent (V(0) to V(100)), or V(rollback) for the previous recorded step.
      - Exactly one of O(step) and O(undo_step) is required.
    type: str
  undo_step:
    description:
      - Take back the change that set this step on this node, when a step reached some nodes of a fleet but
        not all. The step and the rollback pointer the node had before come back (C(rollback) then goes where
        it went before), and the live weights follow.
      - A node whose recorded step is not O(undo_step) (it never took it, or it was taken back already)
        keeps its step; its live weights are still made to match it. So the task is idempotent.
    type: int
    version_added: 0.5.0
  initial_step:
    description: The step the app is at when the state store has none recorded.
    type: int
    default: 0
  by:
    description: Who asks for the step (kept in the state store's history).
    type: str
  note:
    description: Free text kept in the history with the step.
    type: str
  server_state_file:
    description:
      - HAProxy's C(server-state-file). When given, the runtime weights are saved there after a change,
        so a plain restart of HAProxy comes back at the same step.
    type: path
  config_file:
    description:
      - Ignored since 0.7.0, kept so that existing tasks still run. haproxy.cfg has one writer, the role's template;
        the live weights of a step below 100 are kept in the state store and O(server_state_file), which HAProxy
        loads at a reload or a start.
    type: path
  binary:
    description: Ignored since 0.7.0 (it validated O(config_file)).
    type: path
    default: haproxy
  timings_ring:
    description:
      - The ring HAProxy logs each request to. After a change the module saves a snapshot of the backend's
        counters and of where the ring ends in C(<state_dir>/windows/<backend>.json), where the figures of the
        new step start (C(haproxy_stats_info) O(cloudshift.migration.haproxy_stats_info#module:since_file)).
      - A configuration without that ring gives a snapshot without latencies.
    type: str
    default: cloudshift-timings
extends_documentation_fragment:
  - cloudshift.migration.runtime_api
author:
  - cloudshift founding engineers (@cloudshift)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
"""

EXAMPLES = r"""
- name: Send 25% of application-01's requests to the cloud
  cloudshift.migration.haproxy_step:
    socket: /run/haproxy/admin.sock
    state_dir: /var/lib/cloudshift-migration
    app: application-01
    cloud_servers: [aws-prod-Kubernetes-application-01]
    onprem_servers: [onprem-prod-front-application-01]
    step: "25"

- name: Go back to the previous step
  cloudshift.migration.haproxy_step:
    socket: /run/haproxy/admin.sock
    state_dir: /var/lib/cloudshift-migration
    app: application-01
    cloud_servers: [aws-prod-Kubernetes-application-01]
    onprem_servers: [onprem-prod-front-application-01]
    step: rollback

- name: Take back step 50 on a node after another node of the fleet refused it
  cloudshift.migration.haproxy_step:
    socket: /run/haproxy/admin.sock
    state_dir: /var/lib/cloudshift-migration
    app: application-01
    cloud_servers: [aws-prod-Kubernetes-application-01]
    onprem_servers: [onprem-prod-front-application-01]
    undo_step: 50

- name: Send 50% of application-02's /v2/customers/ route to the cloud (backend application-02--customers)
  cloudshift.migration.haproxy_step:
    socket: /run/haproxy/admin.sock
    state_dir: /var/lib/cloudshift-migration
    app: application-02
    route: customers
    cloud_servers: [aws-prod-Kubernetes-application-02]
    onprem_servers: [onprem-prod-front-application-02]
    step: "50"
    initial_step: 25
"""

RETURN = r"""
plan:
  description: With O(phase=measure), this node's plan - C(current) and C(step) (the request resolved), C(recorded), C(reaching_100), C(leaving_100).
  returned: phase=measure
  type: dict
  version_added: 0.7.0
window:
  description: With O(phase=measure), the window's figures (as M(cloudshift.migration.haproxy_stats_info) returns them).
  returned: phase=measure
  type: dict
  version_added: 0.7.0
snapshot:
  description: With O(phase=measure), the snapshot ending the window (the next window of a ramp starts there).
  returned: phase=measure
  type: dict
  version_added: 0.7.0
cloud_side:
  description:
    - With O(cloud_side), where the cloud side's checks started on the controller write their outcome (C(file), a
      JSON file in the run's temporary directory) and the process making them (C(pid)).
  returned: with O(cloud_side)
  type: dict
  version_added: 0.7.0
lock:
  description: With O(lock), what the lock request did (as M(cloudshift.migration.migration_lock) returns it).
  returned: with O(lock)
  type: dict
  version_added: 0.7.0
app:
  description: The app.
  returned: success
  type: str
route:
  description: The route, or null when the step is the app's own.
  returned: success
  type: str
backend:
  description: The backend whose weights are set (the app, or C(<app>--<route>)).
  returned: success
  type: str
previous_step:
  description: The step the app was at on this node (recorded, else O(initial_step)).
  returned: success
  type: int
step:
  description: The step the app is at now (or would be, in check mode).
  returned: success
  type: int
undone:
  description: Whether O(undo_step) took a change back on this node.
  returned: success
  type: bool
  version_added: 0.5.0
recorded:
  description: Whether a step was recorded for the app before this task.
  returned: success
  type: bool
reload_required:
  description: True when the step reaches or leaves 100, which flips the on-prem servers' backup flag by a reload.
  returned: success
  type: bool
share:
  description: Cloud share realised by the weights of the active (non-backup) servers, in percent.
  returned: success
  type: float
effective_share:
  description: Cloud share counting only the servers currently serving.
  returned: success
  type: float
weights_before:
  description: Weight of each listed server before the task.
  returned: success
  type: dict
weights_after:
  description: Weight of each listed server after the task.
  returned: success
  type: dict
servers:
  description: Every server of the backend with side, weight, state and last check.
  returned: success
  type: list
  elements: dict
commands:
  description: The runtime API commands sent (or that would be sent in check mode).
  returned: success
  type: list
  elements: str
config_changed:
  description: Whether the weights in O(config_file) were (or would be) updated.
  returned: success
  type: bool
state_file:
  description: The app's file in the state store.
  returned: success
  type: str
snapshot_file:
  description: Where the snapshot starting the new step's window is saved (after a change).
  returned: success
  type: str
pending:
  description:
    - With O(phase=apply), whether the change left an intent in the record (it needs a reload; the reload's read back
      drops it). With O(phase=measure), the backends of the app whose record holds a change a stopped run left
      unfinished (their labels).
  returned: phase=apply or phase=measure
  type: raw
  version_added: 0.7.0
recovered:
  description:
    - With O(phase=recover), one entry per backend that had a change left unfinished - C(backend), C(label), C(kind),
      C(from), C(to), C(since), C(by), C(action) (V(undone) or V(finished)), C(step) (where it is now),
      C(reload_required), C(not_running), C(weights), C(line).
  returned: phase=recover
  type: list
  elements: dict
  version_added: 0.7.0
lines:
  description: With O(phase=recover), what was finished or undone, one line per backend.
  returned: phase=recover
  type: list
  elements: str
  version_added: 0.7.0
"""

import datetime
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.cloudshift.migration.plugins.module_utils import lock as run_lock
from ansible_collections.cloudshift.migration.plugins.module_utils import step_node
from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.module_args import (
    exit_with_result, runtime_argument_spec, runtime_client)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.recovery import recover_node
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import backend_label

TARGET_KEYS = ("app", "route", "cloud_servers", "onprem_servers", "initial_step")


def target_of(params):
    """The backend to move: the target dict, or the separate options."""
    if params["target"] is not None:
        target = dict(params["target"])
        for key in ("app", "cloud_servers", "onprem_servers"):
            if target.get(key) is None:
                raise step_node.NodeStepError("target has no %s" % key)
        target.setdefault("route", None)
        target["initial_step"] = int(target.get("initial_step") or 0)
    else:
        missing = [key for key in ("app", "cloud_servers", "onprem_servers") if params[key] is None]
        if missing:
            raise step_node.NodeStepError("missing required arguments: %s (or give target)" % ", ".join(missing))
        target = dict((key, params[key]) for key in TARGET_KEYS)
    target["backend"] = step_node.backend_of(target)
    target.setdefault("label", backend_label(target["app"], target["route"]))
    return target


def measure(module, target):
    params = module.params
    result = {"changed": False}
    if params["lock"] is not None:
        now = datetime.datetime.now(datetime.timezone.utc)
        result["lock"] = run_lock.handle(params["state_dir"], params["lock"], now, check_mode=module.check_mode)
        if result["lock"]["conflicts"]:
            # Nothing measured: the action plugin judges the holder (alive, stale) on the controller and fails the task.
            result["conflicts"] = result["lock"]["conflicts"]
            return result
    try:
        client = runtime_client(module)
        request = None if params["step"] is None else step_node.parse_request(params["step"])
        window = params["window"] if params["window"] else None
        result.update(step_node.measure_on_node(client, params["state_dir"], target, request, window,
                                                ring=params["timings_ring"] or None))
    except (CloudshiftError, ValueError) as exc:
        # The lock was taken: the failure says so, for the run's `always` to give it back.
        exc.lock = result.get("lock")
        raise
    return result


def apply(module, target):
    params = module.params
    return step_node.apply_on_node(runtime_client(module), params["state_dir"], target, params["step"],
                                   params["expected_step"], undo_step=params["undo_step"], by=params["by"],
                                   note=params["note"], server_state_file=params["server_state_file"],
                                   ring=params["timings_ring"], check_mode=module.check_mode)


def recover(module):
    params = module.params
    targets = [target_of(dict(params, target=target)) for target in params["targets"] or []]
    # No socket: HAProxy is not running on this node (site.yml starts it from the record).
    client = runtime_client(module) if os.path.exists(params["socket"]) else None
    return recover_node(client, params["state_dir"], targets, server_state_file=params["server_state_file"],
                        check_mode=module.check_mode)


def main():
    module = AnsibleModule(
        argument_spec=runtime_argument_spec(
            phase=dict(type="str", choices=["apply", "measure", "recover"], default="apply"),
            targets=dict(type="list", elements="dict"),
            state_dir=dict(type="path", required=True),
            target=dict(type="dict"),
            app=dict(type="str"),
            route=dict(type="str"),
            cloud_servers=dict(type="list", elements="str"),
            onprem_servers=dict(type="list", elements="str"),
            step=dict(type="str"),
            undo_step=dict(type="int"),
            expected_step=dict(type="int"),
            initial_step=dict(type="int", default=0),
            window=dict(type="dict"),
            lock=dict(type="dict"),
            cloud_side=dict(type="dict", no_log=True),
            by=dict(type="str"),
            note=dict(type="str"),
            server_state_file=dict(type="path"),
            config_file=dict(type="path"),
            binary=dict(type="path", default="haproxy"),
            timings_ring=dict(type="str", default="cloudshift-timings"),
        ),
        mutually_exclusive=[("step", "undo_step"), ("target", "app"), ("target", "route"), ("target", "cloud_servers"),
                            ("target", "onprem_servers")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        if params["phase"] == "apply" and params["step"] is None and params["undo_step"] is None:
            raise step_node.NodeStepError("one of the following is required: step, undo_step")
        if params["phase"] == "recover":
            result = recover(module)
        else:
            target = target_of(params)
            result = measure(module, target) if params["phase"] == "measure" else apply(module, target)
    except (CloudshiftError, ValueError) as exc:
        requested = params["step"] if params["undo_step"] is None else "undo %s" % params["undo_step"]
        app = (params["target"] or {}).get("app", params["app"])
        route = (params["target"] or {}).get("route", params["route"])
        taken = {"lock": exc.lock} if getattr(exc, "lock", None) else {}
        module.fail_json(msg=str(exc), app=app, route=route, step_requested=requested,
                         commands_applied=list(getattr(exc, "applied", None) or []), **taken)
    exit_with_result(module, result)


if __name__ == "__main__":
    main()
