# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_step runs on the node. On the controller, this plugin:

* with `lock` (phase=measure on the fleet's lock node), adds the run's identity to the lock request the module takes
  first, and judges a conflicting lock (plugin_utils/run_lock.py), as migration_lock's plugin does;
* with `cloud_side` (phase=measure on the first node of a step that may go up), starts the cloud side's checks (the
  ELB's health, the cluster's capacity: AWS calls and a probe, on the controller, plugin_utils/cloud_prefetch.py)
  while the module measures the node; it returns where they will be (`cloud_side`), and the judge reads them only
  when the step goes up: a step down never waits for AWS.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cloudshift.migration.plugins.plugin_utils import cloud_prefetch
from ansible_collections.cloudshift.migration.plugins.plugin_utils.run_lock import execute_locked, run_identity

MODULE = "cloudshift.migration.haproxy_step"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        cloud_side = args.pop("cloud_side", None)
        if cloud_side:
            if not isinstance(cloud_side, dict) or not isinstance(cloud_side.get("app"), dict):
                raise AnsibleActionFail("cloud_side must be a dict with the app's entry (app, aws, ca_file)")
            token = re.sub(r"[^A-Za-z0-9_.-]", "_", "%s-%s" % (run_identity()["run_id"], cloud_side["app"].get("name")))
            path = os.path.join(C.DEFAULT_LOCAL_TMP, "cloudshift-cloud-side-%s.json" % token)
            result["cloud_side"] = {"file": path, "pid": cloud_prefetch.start(cloud_side, path)}
        result.update(self._measure_or_apply(args, task_vars))
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
            return execute_locked(execute, lock, node, check_mode=bool(self._task.check_mode))
        except ValueError as exc:
            raise AnsibleActionFail(str(exc))
