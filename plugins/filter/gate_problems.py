# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gate_problems
short_description: Problems in the gate thresholds of the role and of every app and route, one sentence each
version_added: 0.2.0
description:
  - Checks the thresholds of the step gate (C(migration_gate)'s O(cloudshift.migration.migration_gate#module:thresholds))
    before anything is measured - the role's, then each app's C(gate) over them, then each route's C(gate) over
    its app's - known keys only, finite numbers of at least 0, whole numbers where counts are meant, C(alpha)
    between 0 and 1, C(min_effect_size) at most 1, C(min_requests) at least 1.
  - An empty list means all is well.
options:
  _input:
    description: The app model, C(cloudshift_apps) (an empty list checks O(thresholds) alone).
    type: list
    elements: dict
    required: true
  thresholds:
    description: The role's thresholds (C(haproxy_gate_thresholds)), under every app's and route's.
    type: dict
    required: true
  label:
    description: What O(thresholds) are called in the sentences.
    type: str
    default: haproxy_gate_thresholds
"""

EXAMPLES = r"""
- name: Refuse bad thresholds
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ cloudshift_apps | cloudshift.migration.gate_problems(haproxy_gate_thresholds) }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the app or route and the bad value.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.gate import gate_problems


class FilterModule(object):
    def filters(self):
        return {"gate_problems": gate_problems}
