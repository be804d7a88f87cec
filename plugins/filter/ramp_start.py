# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: ramp_start
short_description: The state of ramp.yml before its first check
version_added: 0.2.0
description:
  - From the recorded step (where an interrupted ramp resumes) and the ramp's steps, the state that
    C(cloudshift.migration.ramp_decide) moves on after each check.
options:
  _input:
    description: The current (recorded) step, 0-100.
    type: int
    required: true
  steps:
    description: The steps of the ramp.
    type: list
    elements: int
    required: true
"""

EXAMPLES = r"""
- name: Start where the recorded step is
  ansible.builtin.set_fact:
    ramp_state: "{{ 25 | cloudshift.migration.ramp_start([1, 5, 10, 25, 50, 75, 100]) }}"
"""

RETURN = r"""
_value:
  description: The state (step, passes, fails, checks, action, target, remaining steps).
  type: dict
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.ramp import start_state


class FilterModule(object):
    def filters(self):
        return {"ramp_start": start_state}
