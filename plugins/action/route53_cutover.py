# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""route53_cutover in the controller's process: the backup of the previous record is a file on the
controller, written before the change is submitted, and the credentials stay there."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.cloudshift.migration.plugins.module_utils import route53
from ansible_collections.cloudshift.migration.plugins.plugin_utils.controller_action import ControllerAction


class ActionModule(ControllerAction):
    ARGUMENT_SPEC = route53.ARGUMENT_SPEC
    MUTUALLY_EXCLUSIVE = [("load_balancer", "target_dns_name")]
    ERRORS = (route53.CutoverError,)
    NEEDS_BOTO3 = True

    def work(self, params):
        result = route53.run(params, self._task.check_mode, self._task.diff)
        if not self._task.diff:
            result.pop("diff", None)
        return result

    def failure(self, params, exc):
        return str(exc)
