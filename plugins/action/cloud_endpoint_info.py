# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloud_endpoint_info in the controller's process: AWS is called from the controller, where the credentials are."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils import endpoint
from ansible_collections.cloudshift.migration.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = endpoint.ARGUMENT_SPEC
    ERRORS = (endpoint.EndpointError,)
    NEEDS_BOTO3 = True

    def work(self, params):
        result = endpoint.run(params)
        result["changed"] = False
        return result

    def failure(self, params, exc):
        return str(exc)
