# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: ramp_problems
short_description: Problems in the parameters of ramp.yml, one sentence each
version_added: 0.2.0
description:
  - Checks the steps (integers 1-100, going up, each once), the interval (seconds, above 0, at most 3600),
    the threshold and checks per step (integers of at least 1) and the bound on checks.
  - An empty list means all is well.
options:
  _input:
    description: The steps of the ramp.
    type: list
    elements: raw
    required: true
  interval:
    description: Seconds between checks.
    type: raw
    required: true
  threshold:
    description: Failed checks in a row that roll the ramp back.
    type: raw
    required: true
  checks_per_step:
    description: Passed checks needed before the next step.
    type: raw
    required: true
  max_checks:
    description: Most checks in one run (null for the default).
    type: raw
"""

EXAMPLES = r"""
- name: Refuse bad ramp parameters
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ [1, 5, 25, 100] | cloudshift.migration.ramp_problems(10, 2, 1) }}"
"""

RETURN = r"""
_value:
  description: One sentence per problem, naming the bad value.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.ramp import ramp_problems


class FilterModule(object):
    def filters(self):
        return {"ramp_problems": ramp_problems}
