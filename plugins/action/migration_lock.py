# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_lock: the lock file lives on the node (the module), who holds it is known on the controller
(plugin_utils/run_lock.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cloudshift.migration.plugins.plugin_utils.run_lock import (
    conflict_message, execute_locked, mark_conflicts, run_identity, with_identity)

MODULE = "cloudshift.migration.migration_lock"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        node = self._task.delegate_to or task_vars.get("inventory_hostname")  # where the lock file lives

        def execute(module_args):
            return self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)

        try:
            if args.get("state", "acquired") == "acquired":
                result.update(execute_locked(execute, args, node, check_mode=bool(self._task.check_mode)))
                return result
            identity = run_identity()
            module_result = execute(with_identity(args, identity))
        except ValueError as exc:
            raise AnsibleActionFail(str(exc))
        result.update(module_result)
        conflicts = mark_conflicts(result.get("conflicts") or [], identity)
        if conflicts and args.get("state") == "released":
            result.setdefault("warnings", []).append(
                "not released, held by another run: " + conflict_message(node, conflicts, False))
        return result
