# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_step runs on the node. On the controller, this plugin:

* with `lock` (phase=measure on the fleet's lock node), adds the run's identity to the lock request the module takes
  first, and judges a conflicting lock (plugin_utils/run_lock.py), as migration_lock's plugin does;
* with `cloud_side` (phase=measure on the first node of a step that may go up), checks the cloud side (the ELB's
  health, the cluster's capacity: AWS calls and a probe, made on the controller in a child process of this worker)
  while the module measures the node, so the judge finds them made. They are waited for, and returned as
  `cloud_side`, only when the node's plan goes up: a step down never waits for AWS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cloudshift.migration.plugins.module_utils import cloud_model
from ansible_collections.cloudshift.migration.plugins.plugin_utils.run_lock import execute_locked

MODULE = "cloudshift.migration.haproxy_step"


class CloudSideCheck(object):
    """The cloud side's checks in a child process of this worker, on the other core while the module measures the
    node (AWS calls, a probe, and boto3's import: Python work that a thread would make wait for the interpreter)."""

    def __init__(self, request):
        self.request = request
        self.reader, writer = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: check, write the outcome, leave at once
            os.close(self.reader)
            try:
                outcome = cloud_model.cloud_checks(request["app"], request.get("aws") or {}, request.get("ca_file"),
                                                   True, True)
            except Exception as exc:  # pylint: disable=broad-except  # reported to the judge, which checks again
                outcome = {"health": None, "capacity": None, "errors": {"health": str(exc), "capacity": str(exc)}}
            with os.fdopen(writer, "w") as stream:
                json.dump(outcome, stream, default=str)
            os._exit(0)  # pylint: disable=protected-access  # no cleanup of the parent's state in a forked child
        os.close(writer)

    def outcome(self):
        """The checks, once the child wrote them (None when it could not)."""
        with os.fdopen(self.reader) as stream:
            text = stream.read()
        os.waitpid(self.pid, 0)
        try:
            return json.loads(text)
        except ValueError:
            return None

    def abandon(self):
        """A step down does not wait for the cloud side: the child is stopped."""
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        os.close(self.reader)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        cloud_side = args.pop("cloud_side", None)
        check = None
        if cloud_side:
            if not isinstance(cloud_side, dict) or not isinstance(cloud_side.get("app"), dict):
                raise AnsibleActionFail("cloud_side must be a dict with the app's entry (app, aws, ca_file)")
            check = CloudSideCheck(cloud_side)
        result.update(self._measure_or_apply(args, task_vars))
        plan = result.get("plan") or {}
        # Only a step up waits for the cloud side: going down never does (the thread dies with this worker).
        if check is not None:
            if not result.get("failed") and plan.get("step", 0) > plan.get("current", 0):
                result["cloud_side"] = check.outcome()
            else:
                check.abandon()
        return result

    def _measure_or_apply(self, args, task_vars):
        lock = args.get("lock")
        if not lock:
            args.pop("lock", None)
            return self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        if not isinstance(lock, dict):
            raise AnsibleActionFail("lock must be a dict (names, ttl, purpose, by, break_stale), got %r" % (lock,))
        node = task_vars.get("inventory_hostname")

        def execute(request):
            return self._execute_module(module_name=MODULE, module_args=dict(args, lock=request), task_vars=task_vars)

        try:
            return execute_locked(execute, lock, node)
        except ValueError as exc:
            raise AnsibleActionFail(str(exc))
