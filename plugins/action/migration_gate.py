# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""migration_gate in the controller's process: the verdict is pure computation on what every node
measured, and the on-prem reference lives on the controller, so no module needs to be shipped."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils import gate
from ansible_collections.cloudshift.migration.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = gate.ARGUMENT_SPEC
    ERRORS = gate.ERRORS

    def work(self, params):
        return gate.run(params, self._task.check_mode)

    def failure(self, params, exc):
        return gate.failure_message(params, exc)
