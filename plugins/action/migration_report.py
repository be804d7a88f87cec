# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_report in the controller's process: the audit log and the report both live on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils import migration_report
from ansible_collections.cloudshift.migration.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = migration_report.ARGUMENT_SPEC
    ERRORS = migration_report.ERRORS

    def work(self, params):
        return migration_report.run(params, self._task.check_mode, self._task.diff)

    def failure(self, params, exc):
        return migration_report.failure_message(params, exc)
