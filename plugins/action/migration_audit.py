# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_audit in the controller's process: the audit log lives on the controller, so no module
needs to be shipped to append one line to it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils import audit
from ansible_collections.cloudshift.migration.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = audit.ARGUMENT_SPEC
    ERRORS = audit.ERRORS

    def work(self, params):
        return audit.run(params, self._task.check_mode, self._task.diff)

    def failure(self, params, exc):
        return audit.failure_message(params, exc)
