# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finish or undo a change a stopped run left unfinished on a node (its `pending` intent in the state store).

A step that reaches or leaves 100 is only done once the reload flipped the on-prem servers' backup flag and the
weights were read back; until then its record holds `pending` (state.py). Whoever takes the app's lock next reads the
running HAProxy back and decides, per backend:

* kind `step`, and the running HAProxy is not at it (the backup flag does not match the step): undone, the record
  goes back to where the step started (`undo`), as if the run had never begun on this node;
* kind `step` already running (only the read back was missing), `undo` and `recover`: finished at the record's step.

Then the record's weights are set and read back, and the intent is dropped. Where the backup flag still differs, the
node needs the configuration rendered from the record and a reload first (`reload_required`): the caller does it (the
haproxy role's one writer of haproxy.cfg) and runs this again, which then finds the flag right.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.split import (
    apply_split, onprem_backup_live, read_backend)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.state import (
    StateError, load_app_state, pending_change, recorded_step, with_pending, without_step, write_app_state)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.step import save_runtime_weights


def effective_step(state, target):
    step = recorded_step(state, target.get("route"))
    return int(target.get("initial_step") or 0) if step is None else step


def backup_matches(backup_live, step):
    """Whether the running configuration's backup flag is the one step wants (on-prem backup at 100 only)."""
    return backup_live == (step == 100)


def recovery_view(state, target, backup_live):
    """Pure: (the record as the recovery leaves it before the weights are set, what it does: "undone" or
    "finished"; None when nothing is pending). backup_live None: HAProxy is not running (nothing to read back)."""
    route = target.get("route")
    pending = pending_change(state, route)
    if pending is None:
        return state, None
    if pending["kind"] == "step" and (backup_live is None or not backup_matches(backup_live, effective_step(state, target))):
        undone = without_step(state, target["app"], pending["to"], route=route,
                              note="recovered: the run of step %s stopped before this node ran it" % pending["to"])
        if undone is not None:
            return with_pending(undone, target["app"], route, {
                "kind": "recover", "from": pending["to"], "to": effective_step(undone, target),
                "since": pending.get("since"), "by": pending.get("by")}), "undone"
    return with_pending(state, target["app"], route, dict(pending, kind="recover", to=effective_step(state, target))), \
        "finished"


def cut_off(label, change):
    """What a record's pending change says happened, for status and for the recovery's line (pure)."""
    origin = " (by %s since %s)" % (change.get("by") or "someone", change.get("since") or "an unknown time")
    if change["kind"] == "recover":
        return "%s: the recovery of a cut-off step%s had not finished" % (label, origin)
    return "%s: %s %s -> %s%s was cut off before this node was read back at it" % (
        label, "the undo of step" if change["kind"] == "undo" else "step", change.get("from"), change["to"], origin)


def describe(row):
    """One line for an operator (pure)."""
    start = cut_off(row["label"], row)
    outcome = "undone, back at step %s" % row["step"] if row["action"] == "undone" else "finished at step %s" % row["step"]
    if row.get("reload_required"):
        outcome += " (its backup flag needs the configuration rendered and a reload: done next)"
    elif row.get("not_running"):
        outcome += " (HAProxy is not running here: it starts from the record)"
    return "%s: %s" % (start, outcome)


def recover_target(client, state_dir, target, server_state_file=None, check_mode=False):
    """Finish or undo the pending change of one backend on this node; None when it has none. client None: HAProxy
    is not running on this node (the record is settled, the start loads it)."""
    try:
        state = load_app_state(state_dir, target["app"])
    except StateError:
        return None  # a damaged record decides nothing: status reports it as that app's drift, a step refuses it
    pending = pending_change(state, target.get("route"))
    if pending is None:
        return None
    backend = target["backend"]
    servers = read_backend(client, backend, require_admin=True) if client is not None else None
    backup_live = onprem_backup_live(servers, target["onprem_servers"]) if servers is not None else None
    view, action = recovery_view(state, target, backup_live)
    step = effective_step(view, target)
    row = {"backend": backend, "label": target.get("label") or backend, "app": target["app"],
           "route": target.get("route"), "kind": pending["kind"], "from": pending.get("from"), "to": pending["to"],
           "since": pending.get("since"), "by": pending.get("by"), "action": action, "step": step,
           "reload_required": backup_live is not None and not backup_matches(backup_live, step),
           "not_running": client is None, "weights": None}
    if check_mode:
        row["line"] = describe(row)
        return row
    if row["reload_required"]:
        write_app_state(state_dir, target["app"], view)  # the intent stays (kind recover) until it is read back
    else:
        if client is not None:
            split = apply_split(client, backend, target["cloud_servers"], target["onprem_servers"], step)
            row["weights"] = split["weights_after"]
            if split["changed"] and server_state_file:
                save_runtime_weights(client, server_state_file)
        write_app_state(state_dir, target["app"], with_pending(view, target["app"], target.get("route"), None))
    row["line"] = describe(row)
    return row


def recover_node(client, state_dir, targets, server_state_file=None, check_mode=False):
    """Every listed backend's pending change on this node, finished or undone (see the module's doc)."""
    rows = [row for row in (recover_target(client, state_dir, target, server_state_file, check_mode)
                            for target in targets) if row is not None]
    return {"changed": bool(rows), "recovered": rows, "reload_required": any(row["reload_required"] for row in rows),
            "lines": [row["line"] for row in rows]}
