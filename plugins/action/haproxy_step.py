# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_step runs on the node; with `lock` (phase=measure on the fleet's lock node) it takes the run's lock there
first, in the same module run, and this plugin adds the run's identity and judges a conflicting lock
(plugin_utils/run_lock.py), as migration_lock's does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cloudshift.migration.plugins.plugin_utils.run_lock import execute_locked

MODULE = "cloudshift.migration.haproxy_step"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        lock = args.get("lock")
        if not lock:
            args.pop("lock", None)
            result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
            return result
        if not isinstance(lock, dict):
            raise AnsibleActionFail("lock must be a dict (names, ttl, purpose, by, break_stale), got %r" % (lock,))
        node = task_vars.get("inventory_hostname")

        def execute(request):
            return self._execute_module(module_name=MODULE, module_args=dict(args, lock=request), task_vars=task_vars)

        try:
            result.update(execute_locked(execute, lock, node))
        except ValueError as exc:
            raise AnsibleActionFail(str(exc))
        return result
