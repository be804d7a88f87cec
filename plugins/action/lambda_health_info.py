# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lambda_health_info in the controller's process: AWS is called from the controller, where the credentials are."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils import lambda_side
from ansible_collections.cloudshift.migration.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = lambda_side.ARGUMENT_SPEC
    ERRORS = (lambda_side.LambdaError,)
    NEEDS_BOTO3 = True

    def work(self, params):
        result = lambda_side.run(params)
        result["changed"] = False
        return result

    def failure(self, params, exc):
        return str(exc)
