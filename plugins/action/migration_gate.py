# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_gate in the controller's process: the verdict is pure computation on what every node
measured, and the on-prem reference lives on the controller, so no module needs to be shipped."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cloudshift.migration.plugins.module_utils.gate import ARGUMENT_SPEC, ERRORS, failure_message, run


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            result.update(run(params, self._task.check_mode))
        except ERRORS as exc:
            raise AnsibleActionFail(failure_message(params, exc))
        return result
