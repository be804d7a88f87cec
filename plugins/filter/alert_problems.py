# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: alert_problems
short_description: Problems in the app model's alert entries and the alerts role's settings, one sentence each
version_added: 0.4.0
description:
  - Checks every app's C(alerts) (thresholds, durations, deployment), its cluster's C(asg_name) and C(node_labels),
    the default and cluster thresholds and the settings (matchers, series names, runbook URL, labels, receivers).
    Used by the preflight of the role C(alerts); an empty list means all is well.
options:
  _input:
    description: The app model, C(cloudshift_apps).
    type: list
    elements: dict
    required: true
  thresholds:
    description: C(alerts_thresholds).
    type: dict
    default: {}
  cluster_thresholds:
    description: C(alerts_cluster_thresholds).
    type: dict
    default: {}
  settings:
    description: The role's settings (see M(cloudshift.migration.alert_rules#filter)).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Refuse a bad alert entry
  ansible.builtin.assert:
    that: cloudshift_apps | cloudshift.migration.alert_problems(alerts_thresholds) | length == 0
"""

RETURN = r"""
_value:
  description: One sentence per problem.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.alerts import alert_problems


class FilterModule(object):
    def filters(self):
        return {"alert_problems": alert_problems}
