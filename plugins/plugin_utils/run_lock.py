# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run's lock, from the controller: the lock file lives on the lock node (a module takes it there), who holds
it is known here.

The run's identity is the ansible-playbook process (the action's worker's parent), its controller and boot, so
every task of one run, on every node, carries the same run_id. A conflicting lock taken on this controller is
stale when its process is gone, and then its holder is provably dead: the module is run again to take exactly
those locks over, and the run says so. A lock that is stale only because its lease ran out (its holder may be a
live run on another controller that cannot renew it) is broken only with break_stale.
Used by the action plugins of migration_lock and haproxy_step (whose measure phase takes the lock on the lock
node in the same module run).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import shlex
import socket

from ansible_collections.cloudshift.migration.plugins.module_utils.lock import (
    boot_id, lock_path, process_alive, process_start, staleness)

RESERVED_KEYS = ("run_id", "holder", "break_run_ids")
# What the action plugins take out of a lock request before it reaches the node (the controller's business).
CONTROLLER_KEYS = ("audit_dir", "nodes")


def run_identity():
    pid = os.getppid()
    controller = socket.gethostname()
    boot = boot_id()
    start = process_start(pid)
    return {
        "controller": controller,
        "boot_id": boot,
        "pid": pid,
        "pid_start": start,
        "run_id": "%s:%s:%s:%s" % (controller, (boot or "-")[:8], pid, start or "-"),
    }


def with_identity(request, identity):
    """The lock request carrying this run's identity; ValueError when the task tried to set it."""
    for key in RESERVED_KEYS:
        if key in request:
            raise ValueError("%s is set by the collection's action plugin, not by the task" % key)
    request = dict(request)
    request["run_id"] = identity["run_id"]
    request["holder"] = dict((key, identity[key]) for key in ("controller", "boot_id", "pid", "pid_start"))
    return request


def conflict_message(node, conflicts, break_stale):
    parts = []
    for conflict in conflicts:
        text = "%s is locked on %s: %s" % (conflict["name"], node, conflict["description"])
        if conflict["stale"]:
            text += ("; the lock is STALE (%s): %s" % (
                conflict["reason"], "it could not be broken" if break_stale
                else "rerun with -e break_lock=true to break it"))
        else:
            text += ("; another run holds it: wait for it to end (a stale lock, one whose run is gone, can be broken "
                     "with -e break_lock=true once it is detected)")
        parts.append(text)
    return "; ".join(parts)


def mark_conflicts(conflicts, identity):
    now = datetime.datetime.now(datetime.timezone.utc)
    for conflict in conflicts:
        lock = conflict.get("lock") or {}
        # The lease is judged by the node's clock (the module); the process only on its own controller.
        lock_without_lease = dict(lock, expires=None)
        holder_gone, gone_reason = staleness(lock_without_lease, identity, now, process_alive)
        if holder_gone:
            stale, reason = True, gone_reason
        elif conflict.get("expired"):
            stale, reason = True, "its lease ran out at %s without being renewed" % lock.get("expires")
        else:
            stale, reason = False, None
        conflict["stale"] = stale
        conflict["holder_gone"] = holder_gone
        conflict["reason"] = reason
    return conflicts


def take_over_notes(conflicts, node, check_mode=False):
    """What a run says when it takes over the locks of dead holders (one per lock, for the warnings and the audit);
    in check mode what it would do, since nothing is taken."""
    verb = "would take over" if check_mode else "took over"
    return dict((conflict["lock"].get("run_id"), "%s the lock of %s on %s: %s, %s" % (
        verb, conflict["name"], node, conflict["description"], conflict["reason"])) for conflict in conflicts)


def execute_locked(execute, request, node, identity=None, check_mode=False):
    """Run a module that takes the lock request first (execute(request) -> module result).

    The result's `conflicts` are marked stale or alive here; when they are all stale and the request says
    break_stale, the module runs once more, breaking exactly those. A conflict left fails the result with a
    message naming the holder. In check mode nothing is broken, so nothing is audited: the warnings say what would be.
    """
    identity = identity or run_identity()
    controller = dict((key, request.get(key)) for key in CONTROLLER_KEYS)
    request = with_identity(dict((key, value) for key, value in request.items() if key not in CONTROLLER_KEYS), identity)
    result = execute(request)
    conflicts = mark_conflicts(result.get("conflicts") or [], identity)
    if result.get("failed") and not conflicts:
        return result
    break_stale = bool(request.get("break_stale"))
    taken_over = {}
    gone = [conflict for conflict in conflicts if conflict["holder_gone"]]
    if conflicts and all(conflict["stale"] for conflict in conflicts) and (break_stale or len(gone) == len(conflicts)):
        taken_over = take_over_notes(gone, node, check_mode)
        request["break_run_ids"] = [conflict["lock"].get("run_id") for conflict in conflicts]
        result = execute(request)
        conflicts = mark_conflicts(result.get("conflicts") or [], identity)
        if result.get("failed") and not conflicts:
            return result
    result["conflicts"] = conflicts
    if conflicts and (request.get("state") or "acquired") == "acquired":
        result["failed"] = True
        result["msg"] = conflict_message(node, conflicts, break_stale)
    broken = (result.get("lock") or result).get("broken") or []
    warnings = [taken_over[lock.get("run_id")] for lock in broken if lock.get("run_id") in taken_over]
    if broken and controller["audit_dir"] and not check_mode:
        warnings.extend(record_broken(controller["audit_dir"], broken, node, controller["nodes"] or [node],
                                      request.get("by"), taken_over))
    if warnings:
        result.setdefault("warnings", []).extend(warnings)
    return result


def record_broken(audit_dir, broken, node, nodes, by=None, taken_over=None):
    """One lock-broken line in each app's audit log for every stale lock this run broke (break_lock=true) or took
    over (its holder gone) on node (the lock node)."""
    from ansible_collections.cloudshift.migration.plugins.module_utils import audit
    warnings = []
    for lock in broken or []:
        how = "taken over, its holder is gone" if lock.get("run_id") in (taken_over or {}) else "break_lock=true"
        note = ("stale lock of %s broken on %s (%s): it was held by %s on %s (pid %s, %s) since %s" % (
            lock.get("name"), node, how, lock.get("by") or "someone", lock.get("controller") or "?",
            lock.get("pid") if lock.get("pid") is not None else "?", lock.get("purpose") or "", lock.get("since") or "?"))
        try:
            audit.append_record(audit_dir, audit.build_record(lock.get("name"), "lock-broken", by=by, note=note,
                                                              details={"nodes": list(nodes)}))
        except audit.AuditError as exc:
            warnings.append(str(exc))
    return warnings


def release_command(state_dir, names, run_id):
    """A shell command giving back the locks of names that run_id holds on the lock node, printing `released NAME`
    for each, or `held NAME` for one another run holds.

    The lock module's release without a module shipped to the node (a step's last task on the lock node): a lock is
    only ever removed by its holder, and this run is the holder of a lock whose file names its run_id, so reading the
    file then removing it races with no one.
    """
    marker = '"run_id": %s' % json.dumps(run_id)
    commands = []
    for name in names:
        path = shlex.quote(lock_path(state_dir, name))
        commands.append("if [ -e %s ]; then if grep -qF -- %s %s; then rm -f -- %s && echo released %s; "
                        "else echo held %s; fi; fi" % (path, shlex.quote(marker), path, path, name, name))
    return " ; ".join(commands) or "true"


def released_names(stdout):
    """(released, held by another run) from release_command's output."""
    released, held = [], []
    for line in (stdout or "").splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in ("released", "held"):
            (released if words[0] == "released" else held).append(words[1])
    return released, held
