# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""capacity_check in the controller's process, where the AWS credentials and the cluster's files are."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils import capacity
from ansible_collections.cloudshift.migration.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = capacity.ARGUMENT_SPEC
    ERRORS = (capacity.CapacityError,)

    def work(self, params):
        result = capacity.run(params)
        result["changed"] = False
        if result.get("msg"):
            result["failed"] = True
        return result

    def failure(self, params, exc):
        return str(exc)
