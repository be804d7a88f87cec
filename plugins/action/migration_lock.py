# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_lock: the lock file lives on the node (the module), who holds it is known on the controller.

The run's identity is the ansible-playbook process (this worker's parent), its controller and boot, so every
task of one run, on every node, carries the same run_id. A conflicting lock taken on this controller is stale
when its process is gone; with break_stale the module is run again to break exactly those stale locks.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import socket

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cloudshift.migration.plugins.module_utils.lock import (
    boot_id, process_alive, process_start, staleness)

MODULE = "cloudshift.migration.migration_lock"


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


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        for key in ("run_id", "holder", "break_run_ids"):
            if key in args:
                raise AnsibleActionFail("%s is set by the action plugin of %s, not by the task" % (key, MODULE))
        node = self._task.delegate_to or task_vars.get("inventory_hostname")  # where the lock file lives
        identity = run_identity()
        args["run_id"] = identity["run_id"]
        args["holder"] = dict((key, identity[key]) for key in ("controller", "boot_id", "pid", "pid_start"))
        module_result = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        if module_result.get("failed") or args.get("state", "acquired") != "acquired":
            result.update(module_result)
            self._mark_conflicts(result.get("conflicts") or [], identity)
            if result.get("conflicts") and args.get("state") == "released":
                result.setdefault("warnings", []).append(
                    "not released, held by another run: " + conflict_message(node, result["conflicts"], False))
            return result

        conflicts = self._mark_conflicts(module_result.get("conflicts") or [], identity)
        break_stale = bool(args.get("break_stale"))
        if conflicts and break_stale and all(conflict["stale"] for conflict in conflicts):
            args["break_run_ids"] = [conflict["lock"].get("run_id") for conflict in conflicts]
            module_result = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
            if module_result.get("failed"):
                result.update(module_result)
                return result
            conflicts = self._mark_conflicts(module_result.get("conflicts") or [], identity)
        result.update(module_result)
        result["conflicts"] = conflicts
        if conflicts:
            result["failed"] = True
            result["msg"] = conflict_message(node, conflicts, break_stale)
        return result

    @staticmethod
    def _mark_conflicts(conflicts, identity):
        now = datetime.datetime.now(datetime.timezone.utc)
        for conflict in conflicts:
            lock = conflict.get("lock") or {}
            if conflict.get("expired"):
                stale, reason = True, "its lease ran out at %s without being renewed" % lock.get("expires")
            else:
                # The lease is judged by the node's clock (the module); the process only on its own controller.
                lock_without_lease = dict(lock, expires=None)
                stale, reason = staleness(lock_without_lease, identity, now, process_alive)
            conflict["stale"] = stale
            conflict["reason"] = reason
        return conflicts
