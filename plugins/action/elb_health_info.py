# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""elb_health_info in the controller's process: AWS is called from the controller, where the
credentials are, and no module is shipped to a node."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils import elb
from ansible_collections.cloudshift.migration.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = elb.ARGUMENT_SPEC
    ERRORS = (elb.ElbError,)
    NEEDS_BOTO3 = True

    def work(self, params):
        result = elb.run(params)
        result["changed"] = False
        if result.get("msg"):
            result["failed"] = True
        return result

    def failure(self, params, exc):
        return str(exc)
