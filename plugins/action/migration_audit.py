# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_audit in the controller's process: the audit log lives on the controller, so no module
needs to be shipped to append one line to it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.cloudshift.migration.plugins.module_utils.audit import (
    ARGUMENT_SPEC, AuditError, failure_message, run)
from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.validation import ValidationError


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            result.update(run(params, self._task.check_mode, self._task.diff))
        except (AuditError, ValidationError, KeyError, TypeError) as exc:
            raise AnsibleActionFail(failure_message(params, exc))
        return result
