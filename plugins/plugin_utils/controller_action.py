# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base of the action plugins that do a module's whole job in the controller's process (the module
of the same name documents the options and can still run as a module)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ControllerAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC, ERRORS and implement work(params) and failure(params, exc)."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = {}
    MUTUALLY_EXCLUSIVE = []
    ERRORS = ()
    NEEDS_BOTO3 = False

    def work(self, params):
        raise NotImplementedError

    def failure(self, params, exc):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(ControllerAction, self).run(tmp, task_vars)
        _validation, params = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC,
                                                          mutually_exclusive=self.MUTUALLY_EXCLUSIVE or None)
        if self.NEEDS_BOTO3:
            from ansible_collections.cloudshift.migration.plugins.module_utils.aws import HAS_BOTO3
            if not HAS_BOTO3:
                raise AnsibleActionFail("%s needs boto3 and botocore in the controller's Python (pip install boto3)"
                                        % self._task.action)
        try:
            result.update(self.work(params))
        except self.ERRORS as exc:
            raise AnsibleActionFail(self.failure(params, exc))
        return result
