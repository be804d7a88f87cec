# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Move one app to a step on one node: the runtime weights and the state store, together.

A step below 100 is a runtime API change only. Reaching 100 sets the weights at once and asks for a
reload (the on-prem servers become `backup` in the configuration); leaving 100 records the step and
asks for a reload (the backup flag only goes away with the new configuration).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.cloudshift.migration.plugins.module_utils.errors import CloudshiftError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.client import HAProxyError
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.server_state import write_server_state_file
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import (
    apply_split, onprem_backup_live, read_backend)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.stats import (
    StatsError, save_snapshot, snapshot_path, take_snapshot)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.timings import DEFAULT_RING
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.state import (
    StateError, load_app_state, now_iso, previous_step, recorded_step, restore_app_state, app_state_path, undo_record,
    with_pending, with_step, without_step, write_app_state)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import (
    backend_label, backend_name, validate_name)

ROLLBACK = "rollback"
STEP_PATTERN = re.compile(r"\A(?:rollback|[0-9]{1,3})\Z")


class StepError(CloudshiftError):
    pass


def parse_step_request(value):
    """An int 0-100 or 'rollback'; StepError naming the value otherwise."""
    text = value if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if text is None or not STEP_PATTERN.match(text) or (text != ROLLBACK and int(text) > 100):
        raise StepError("invalid step %r: a step is an integer from 0 (on-prem only) to 100 (cloud only), "
                        "or rollback" % (value,))
    return text if text == ROLLBACK else int(text)


def plan_step(state, app, request, initial_step, route=None):
    """Pure: where the app (or its route) is and where the request takes it."""
    recorded = recorded_step(state, route)
    current = recorded if recorded is not None else initial_step
    if request == ROLLBACK:
        target = previous_step(state, route)
        if target is None:
            raise StepError("cannot roll back %s: no previous step is recorded (current step %s)"
                            % (backend_label(app, route), current))
    else:
        target = request
    return {
        "recorded": recorded is not None,
        "current": current,
        "target": target,
        "reaching_100": target == 100 and current != 100,
        "leaving_100": current == 100 and target != 100,
    }


def plan_undo(state, app, undone_step, initial_step, route=None):
    """Pure: where taking back the change to undone_step leads, or None when this node is not at that step."""
    undo = undo_record(state, route)
    current = recorded_step(state, route)
    if undo is None or current != undone_step:
        return None
    target = undo["step"] if undo.get("step") is not None else initial_step
    return {
        "recorded": True,
        "current": current,
        "target": target,
        "reaching_100": target == 100 and current != 100,
        "leaving_100": current == 100 and target != 100,
    }


def parse_undo_step(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise StepError("invalid undo_step %r: the step to take back is an integer from 0 to 100" % (value,))
    return value


def onprem_are_backup(client, backend, onprem_servers):
    """Whether the running configuration has the backend's on-prem servers as backup (step 100's reload done)."""
    return onprem_backup_live(read_backend(client, backend), onprem_servers)


def save_runtime_weights(client, path):
    """Dump `show servers state` where HAProxy reads it at start: a plain restart keeps the step."""
    write_server_state_file(client.run(["show servers state"])[0], path)


def save_step_snapshot(client, state_dir, backend, ring):
    """Where the figures of the new step start: the snapshot haproxy_stats_info's since_file reads.

    Best effort: the step is applied whatever happens here; a failure comes back as a warning.
    """
    try:
        snapshot, _lines = take_snapshot(client, backend, ring or None, require_ring=False)
        save_snapshot(snapshot_path(state_dir, backend), snapshot)
    except (StatsError, HAProxyError) as exc:
        return "the step is applied, but its figures will be counted since the worker started: %s" % exc
    return None


def apply_step(client, state_dir, app, cloud_servers, onprem_servers, request, initial_step=0, by=None,
               note=None, server_state_file=None, check_mode=False, route=None, timings_ring=DEFAULT_RING,
               undo_step=None):
    """Move an app, or one of its routes (backend `<app>--<route>`, step kept under the route), to a step.

    With undo_step (and request None), take back the change that set undo_step on this node: the step and
    the rollback pointer it had before come back. A node not at undo_step keeps its step (its live weights
    are still made to match it).
    """
    validate_name(app, "app")
    backend = app if route is None else backend_name(app, route)
    label = backend_label(app, route)
    if (request is None) == (undo_step is None):
        raise StepError("give either a step or undo_step for %s, not %s" % (label, "both" if request is not None else "neither"))
    request = parse_step_request(request) if undo_step is None else None
    undo_step = parse_undo_step(undo_step) if undo_step is not None else None
    if isinstance(initial_step, bool) or not isinstance(initial_step, int) or not 0 <= initial_step <= 100:
        raise StepError("invalid initial_step %r for %s: it must be 0-100" % (initial_step, label))
    state = load_app_state(state_dir, app)
    if undo_step is None:
        plan = plan_step(state, app, request, initial_step, route=route)
        new_state = with_step(state, app, plan["target"], route=route, by=by, note=note)
    else:
        plan = plan_undo(state, app, undo_step, initial_step, route=route)
        new_state = None
        if plan is None:
            current = recorded_step(state, route)
            current = initial_step if current is None else current
            plan = {"recorded": recorded_step(state, route) is not None, "current": current, "target": current,
                    "reaching_100": False, "leaving_100": False}
        else:
            new_state = without_step(state, app, undo_step, route=route, by=by, note=note)

    state_changes = recorded_step(state, route) != plan["target"] if undo_step is None else new_state is not None
    reload_required = plan["reaching_100"] or plan["leaving_100"]
    # A change that needs a reload is not done when this module ends: its intent goes to the state store with the
    # step, before the first change, and stays until the running HAProxy is read back at the step (recovery.py).
    intent = reload_required and state_changes and not check_mode
    if intent:
        new_state = with_pending(new_state, app, route, {
            "kind": "step" if undo_step is None else "undo", "from": plan["current"], "to": plan["target"],
            "since": now_iso(), "by": by})
        write_app_state(state_dir, app, new_state)

    # Leaving 100, the on-prem servers stay backups until the reload: check the backend at 100, change nothing.
    # Unless the running configuration has no backup server (the reload to 100 never happened, as when a step to
    # 100 is taken back after this node's reload failed): then the weights of the target step apply at once.
    leaving_backup = plan["leaving_100"] and onprem_are_backup(client, backend, onprem_servers)
    split_share = 100 if leaving_backup else plan["target"]
    try:
        split = apply_split(client, backend, cloud_servers, onprem_servers, split_share,
                            check_mode=check_mode or leaving_backup)
    except (CloudshiftError, OSError):
        if intent:  # nothing was set (HAProxy is gone, the backend is not there): the record is put back as it was
            restore_app_state(state_dir, app, state)
        raise

    if state_changes and not check_mode and not intent:
        try:
            write_app_state(state_dir, app, new_state)
        except StateError:
            if split["changed"]:
                apply_split(client, backend, cloud_servers, onprem_servers, plan["current"])
            raise
    if split["changed"] and server_state_file and not check_mode:
        save_runtime_weights(client, server_state_file)
    warnings = list(split.get("warnings", []))
    if (split["changed"] or state_changes) and not check_mode:
        warning = save_step_snapshot(client, state_dir, backend, timings_ring)
        if warning:
            warnings.append(warning)
    after_step = recorded_step(new_state, route) if undo_step is not None and new_state else plan["target"]
    diff = {
        "before_header": "%s (state store %s)" % (split["diff"]["before_header"], app_state_path(state_dir, app)),
        "after_header": "%s (state store %s)" % (split["diff"]["after_header"], app_state_path(state_dir, app)),
        "before": "%s step: %s\n%s" % (label, recorded_step(state, route), split["diff"]["before"]),
        "after": "%s step: %s\n%s" % (label, after_step, split["diff"]["after"]),
    }
    result = dict(split)
    result.pop("diff")
    result.update({
        "changed": bool(split["changed"] or state_changes),
        "app": app,
        "route": route,
        "backend": backend,
        "request": request if undo_step is None else "undo %d" % undo_step,
        "undone": undo_step is not None and new_state is not None,
        "recorded": plan["recorded"],
        "previous_step": plan["current"],
        "step": plan["target"],
        "reload_required": reload_required,
        "pending": intent,
        "state_file": app_state_path(state_dir, app),
        "snapshot_file": snapshot_path(state_dir, backend),
        "warnings": warnings,
        "diff": diff,
    })
    return result
