# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: gate_problems
short_description: Problems in a set of gate thresholds, one sentence each
version_added: 0.2.0
description:
  - Checks the thresholds of the step gate (C(migration_gate)'s O(cloudshift.migration.migration_gate#module:thresholds))
    before anything is measured - known keys only, finite numbers of at least 0, whole numbers where counts
    are meant, C(alpha) between 0 and 1, C(min_effect_size) at most 1, C(min_requests) at least 1.
  - An empty list means all is well.
options:
  _input:
    description: The thresholds (role defaults overlaid with the app's and the route's C(gate)).
    type: dict
    required: true
  label:
    description: What the thresholds are for, named in the sentence.
    type: str
    default: the gate
"""

EXAMPLES = r"""
- name: Refuse bad thresholds
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ {'max_p95_diff_ms': 100} | cloudshift.migration.gate_problems('application-01') }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the bad value.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.analysis import resolve_thresholds


def gate_problems(thresholds, label="the gate"):
    try:
        resolve_thresholds(thresholds)
    except ValueError as exc:
        return ["thresholds of %s: %s" % (label, exc)]
    return []


class FilterModule(object):
    def filters(self):
        return {"gate_problems": gate_problems}
