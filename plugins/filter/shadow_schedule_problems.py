# -*- coding: utf-8 -*-
# Copyright: contributors to cloudshift.migration
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: shadow_schedule_problems
short_description: Why a replicate.yml schedule ([[percent, seconds], ...]) cannot be walked
version_added: 0.3.0
description:
  - Each stage is two integers, a percent from 0 to 100 and seconds from 1 to a week; an empty list means all is well.
options:
  _input:
    description: The schedule.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Check the schedule
  ansible.builtin.assert:
    that: schedule | cloudshift.migration.shadow_schedule_problems | length == 0
"""

RETURN = r"""
_value:
  description: One sentence per bad stage, naming it.
  type: list
  elements: str
"""

from ansible_collections.cloudshift.migration.plugins.module_utils.haproxy.shadow import schedule_problems


class FilterModule(object):
    def filters(self):
        return {"shadow_schedule_problems": schedule_problems}
